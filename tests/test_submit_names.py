"""Every name a submission carries is checked before it reaches a path, a shell or HTML."""

from __future__ import annotations

import pytest

from truthstab.errors import SubmissionError
from truthstab.submissions import names


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("", "empty"),
        ("..", "'..'"),
        (".hidden", "starts or ends"),
        ("-rf", "starts or ends"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("/etc", "path separator"),
        ("bad\nname", "control characters"),
        ("bad\x00name", "control characters"),
        ("x" * 97, "limit is 96"),
        ("a b", "outside [A-Za-z0-9._-]"),
        ("<script>", "outside [A-Za-z0-9._-]"),
        ("$(rm)", "outside [A-Za-z0-9._-]"),
        ("naïve", "outside [A-Za-z0-9._-]"),
        ("a..b", "'..'"),
    ],
)
def test_component_rejections_name_the_problem(value, needle):
    with pytest.raises(SubmissionError, match="model name") as info:
        names.validate_component(value, "model name")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)  # one line, control characters escaped


def test_component_accepts_hub_style_names():
    assert names.validate_component("SmolLM2-135M_Instruct.v1", "model name") == "SmolLM2-135M_Instruct.v1"
    assert names.validate_component("x" * 96, "model name") == "x" * 96


@pytest.mark.parametrize("model_id", ["gpt2", "a/b/c", "../etc/passwd", "/abs/path", "org/../x", "org/"])
def test_model_id_must_be_org_slash_name(model_id):
    with pytest.raises(SubmissionError):
        names.split_model_id(model_id)


def test_model_id_split():
    assert names.split_model_id("HuggingFaceTB/SmolLM2-135M") == ("HuggingFaceTB", "SmolLM2-135M")


@pytest.mark.parametrize("revision", ["main", "v1.0", "refs/pr/12", "a" * 40])
def test_revision_accepts_branches_tags_prs_and_shas(revision):
    assert names.validate_revision(revision) == revision


@pytest.mark.parametrize(
    "revision", ["", "../main", "/main", "main/", "a//b", "-x", "ma in", "r\x1b[31m", "x" * 201]
)
def test_revision_rejections(revision):
    with pytest.raises(SubmissionError, match="revision"):
        names.validate_revision(revision)


def test_sha_dtype_template_and_license():
    assert names.validate_sha("0" * 40) and names.validate_sha("f" * 64)
    for bad in ["main", "A" * 40, "0" * 39]:
        with pytest.raises(SubmissionError, match="hex"):
            names.validate_sha(bad)
    with pytest.raises(SubmissionError, match="float32, float16, bfloat16"):
        names.validate_dtype("int4")
    with pytest.raises(SubmissionError, match="auto, on, off"):
        names.validate_chat_template("maybe")
    assert names.validate_license("apache-2.0") == "apache-2.0"
    with pytest.raises(SubmissionError, match="licence"):
        names.validate_license("<b>mit</b>")


def test_folder_name_is_built_from_validated_parts_only():
    assert names.folder_name("org", "name") == "org__name"
    with pytest.raises(SubmissionError):
        names.folder_name("..", "name")
