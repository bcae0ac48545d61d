"""truthstab.hub: the one offline check and the one Hub-id check, and the callers that share them."""

from __future__ import annotations

import re
from pathlib import Path

import huggingface_hub.constants as hub_constants
import pytest

from truthstab.errors import SubmissionError
from truthstab.hub import hub_id_problem, hub_offline, is_hub_id
from truthstab.leaderboard.build import hub_url
from truthstab.submissions import names

#: The pattern the loader and the board used before the check was shared: nothing it refused may pass.
_OLD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

VALID = ["HuggingFaceTB/SmolLM2-135M", "a/b", "org/name.v1", "Qwen/Qwen2.5-7B-Instruct", "x" * 96 + "/y"]
INVALID = [
    "",
    "gpt2",  # no organisation: we never guess one
    "a/b/c",
    "/abs/path",
    "org/",
    "/name",
    "../etc/passwd",
    "org/../x",
    "org/..",
    "./x",
    "~/x",
    "org\\x/y",
    "_org/x",  # each side starts with a letter or digit
    "org/-rf",
    "org/.hidden",
    "org/name.",
    "org/name-",
    "org/a..b",
    "org/a--b",
    "org/name.git",
    "org/name\n",  # the old pattern's '$' let a trailing newline through
    "org/na\x00me",
    "org/na me",
    "org/naïve",
    "<img src=x onerror=alert(1)>",
    'org/a"onmouseover=x',
    "x" * 97 + "/y",
]


@pytest.mark.parametrize("value", VALID)
def test_valid_hub_ids(value):
    assert is_hub_id(value) and hub_id_problem(value) is None


@pytest.mark.parametrize("value", INVALID)
def test_invalid_hub_ids_say_why_in_one_line(value):
    problem = hub_id_problem(value)
    assert problem and problem.isprintable()  # one line, no control characters echoed
    assert not is_hub_id(value)


@pytest.mark.parametrize("value", [None, 3, Path("org/name")])
def test_a_hub_id_is_a_string(value):
    assert not is_hub_id(value)


def test_nothing_the_old_pattern_refused_is_accepted_now():
    import itertools

    alphabet = "aZ9._-/\n é\\"
    for n in range(1, 6):
        for letters in itertools.product(alphabet, repeat=n):
            value = "".join(letters)
            if is_hub_id(value):
                assert _OLD.match(value) and ".." not in value, value


def test_callers_share_the_check():
    assert hub_url("org/a--b", "hub") is None  # not a Hub id, so no link
    assert hub_url("org/model", "hub") == "https://huggingface.co/org/model"
    with pytest.raises(SubmissionError, match="not a valid Hub id"):
        names.split_model_id("org/a--b")
    with pytest.raises(SubmissionError, match="not a valid Hub id"):
        names.split_model_id("_org/name")
    assert names.split_model_id("org/name.v1") == ("org", "name.v1")


def test_offline_is_read_at_call_time(monkeypatch):
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert not hub_offline()
    for on in ("1", "true", "YES", "On"):
        monkeypatch.setenv("HF_HUB_OFFLINE", on)
        assert hub_offline(), on
    for off in ("0", "false", "", "no"):
        monkeypatch.setenv("HF_HUB_OFFLINE", off)
        assert not hub_offline(), off
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # what huggingface_hub read at import
    assert hub_offline()
