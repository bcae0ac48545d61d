"""Load a model safely from an alias, a Hub id (revision resolved to a commit sha) or a local folder.

Safety: weights load from safetensors only (a pickle-only checkpoint is refused), and model code from the
Hub runs only with ``trust_remote_code=True``. Identity: every load yields a :class:`ModelSpec` whose
``revision_sha`` names the exact weights (Hub commit sha, or a sha256 over a folder's files), which the
activation store and result files key on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from truthstab.errors import ModelError
from truthstab.hub import hub_offline, is_hub_id
from truthstab.models import templates
from truthstab.models.identity import content_sha256
from truthstab.models.registry import ModelInfo, resolve_alias
from truthstab.models.spec import ModelSpec

#: The files a model folder needs (weights, config, tokenizer, template); everything else is skipped.
HUB_PATTERNS = [
    "*.safetensors",
    "*.safetensors.index.json",
    "*.json",
    "*.jinja",
    "tokenizer*",
    "*.model",
    "*.tiktoken",
    "vocab.txt",
    "merges.txt",
]
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class LoadedModel:
    """A model in eval mode, its tokenizer, and its spec."""

    model: Any
    tokenizer: Any
    spec: ModelSpec


def load_model(
    name_or_path: str,
    revision: str | None = None,
    dtype: str = "auto",
    device: str = "auto",
    trust_remote_code: bool = False,
    chat_template: str = "auto",
) -> LoadedModel:
    """Load a model for activation extraction.

    ``name_or_path``: a registry alias (``smollm2-135m``), a Hub id (``org/name``) or a local folder.
    ``dtype``: auto (bf16 on a CUDA GPU that supports it, else float32) | float32 | bfloat16 | float16.
    ``device``: auto (CUDA if available, sharded over all GPUs with ``device_map="auto"``) | cpu | cuda[:N].
    ``chat_template``: auto (the registry's instruct flag, else: use it if the tokenizer has one) | on | off.
    """
    if chat_template not in ("auto", "on", "off"):
        raise ModelError(f"chat_template must be auto, on or off, not {chat_template!r}")
    info = resolve_alias(name_or_path)
    folder, revision_sha, source, model_id = _resolve_folder(name_or_path, info, revision)
    _require_safetensors(folder)
    torch_dtype, device_map, device_name = resolve_device_dtype(dtype, device)
    model = _load_weights(folder, info, torch_dtype, device_map, trust_remote_code)
    tokenizer = _load_tokenizer(folder, trust_remote_code)
    template = templates.template_text(tokenizer)
    use_template = _decide_template(chat_template, info, template)
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    note = info.package.quantization_note if info and info.package else ""
    spec = ModelSpec(
        id=model_id,
        alias=info.alias if info else None,
        revision_sha=revision_sha,
        dtype=str(torch_dtype).removeprefix("torch."),
        device=device_name,
        architecture=type(model).__name__,
        model_type=str(getattr(config, "model_type", model.config.model_type)),
        is_encoder=_is_encoder(model),
        is_instruct=info.instruct if info else template is not None,
        uses_chat_template=use_template,
        chat_template_sha256=templates.template_sha256(template if use_template else None),
        n_layers=_n_layers(config, folder),
        hidden_size=int(config.hidden_size),
        n_parameters=sum(p.numel() for p in model.parameters()),
        quantization_note=note,
        source=source,
    )
    return LoadedModel(model=model, tokenizer=tokenizer, spec=spec)


def _resolve_folder(
    name: str, info: ModelInfo | None, revision: str | None
) -> tuple[Path, str, Literal["hub", "local", "package"], str]:
    """(folder, revision sha, source, id) for an alias, a local folder or a Hub id."""
    if info is not None and info.source == "package":
        if revision is not None:
            raise ModelError(f"{info.alias!r} is a packaged model with one fixed revision: drop --revision")
        from truthstab.models.packaged import packaged_model_folder

        folder, sha = packaged_model_folder(info)
        return folder, sha, "package", info.hf_id
    path = Path(name).expanduser()
    if info is None and path.is_dir():
        if revision is not None:
            raise ModelError(f"{name} is a local folder, which has no revisions: drop --revision")
        return path.resolve(), content_sha256(path), "local", str(path.resolve())
    hub_id = info.hf_id if info is not None else name
    if info is not None and revision is None:
        if info.revision is None:
            raise ModelError(
                f"{info.alias!r} is not pinned to a revision in truthstab's catalogue: pass --revision with "
                f"the commit of {info.hf_id} to score (a sha, or a branch such as main, which is resolved "
                "and recorded)"
            )
        revision = info.revision
    if not is_hub_id(hub_id):
        raise ModelError(
            f"unknown model {name!r}: not a registry alias (e.g. smollm2-135m, qwen2.5-7b-instruct), not a "
            "local folder, and not a Hub id of the form org/name"
        )
    folder, sha = hub_snapshot(hub_id, revision)
    return folder, sha, "hub", hub_id


def hub_snapshot(repo_id: str, revision: str | None) -> tuple[Path, str]:
    """Download (or find in the local Hub cache) the needed files of a Hub repo; return (folder, commit sha).

    Honours ``HF_HUB_OFFLINE`` (read at call time): then only the local cache is used.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    offline = hub_offline()
    try:
        folder = Path(
            snapshot_download(
                repo_id, revision=revision, allow_patterns=HUB_PATTERNS, local_files_only=offline
            )
        )
    except RevisionNotFoundError as exc:
        raise ModelError(
            f"revision {revision!r} of {repo_id} does not exist: pass an existing branch, tag or sha"
        ) from exc
    except GatedRepoError as exc:
        raise ModelError(
            f"{repo_id} is gated: accept its licence on the Hub and log in (`hf auth login`)"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise ModelError(
            f"model {repo_id!r} not found on the Hub: check the id, or pass a local folder"
        ) from exc
    except LocalEntryNotFoundError as exc:
        what = f"revision {revision!r} of {repo_id}" if revision else repo_id
        raise ModelError(
            f"{what} is not in the local Hub cache and the Hub cannot be reached (offline={offline}): "
            "download it first with network access, or pass a local folder"
        ) from exc
    # snapshot folders are named by the commit sha, whatever branch or tag was asked for
    return folder, folder.name


def _require_safetensors(folder: Path) -> None:
    names = [p.name for p in folder.iterdir() if p.is_file()]
    if any(n.endswith(".safetensors") for n in names):
        return
    pickles = [n for n in names if n.endswith(_PICKLE_SUFFIXES)]
    if pickles:
        raise ModelError(
            f"{folder} holds only pickle checkpoints ({', '.join(sorted(pickles)[:3])}), which can run code when "
            "loaded: truthstab loads safetensors only; pick a revision with .safetensors weights or convert it"
        )
    raise ModelError(
        f"{folder} holds no *.safetensors weights: truthstab loads safetensors only (a Hub repository with only "
        "pickle .bin weights is refused); check the model id or folder"
    )


def resolve_device_dtype(dtype: str, device: str) -> tuple[Any, str | None, str]:
    """(torch dtype, device_map for from_pretrained, device name for the spec)."""
    import torch

    if dtype not in _DTYPES:
        raise ModelError(f"unknown dtype {dtype!r}: use one of {', '.join(_DTYPES)}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise ModelError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(f"device {device!r} asked for, but no CUDA GPU is available: use --device cpu")
    if dtype == "auto":
        on_bf16_gpu = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        dtype = "bfloat16" if on_bf16_gpu else "float32"
    # "cuda" without an index: let accelerate spread a large model over every visible GPU
    device_map = "auto" if device == "cuda" else device
    return getattr(torch, dtype), device_map, device


def _load_weights(
    folder: Path, info: ModelInfo | None, torch_dtype: Any, device_map: str | None, trust: bool
):
    """The model in eval mode: a causal LM if the config says so, else the bare encoder (AutoModel)."""
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=trust)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ModelError(
                f"{folder} needs its own model code from the Hub: pass --trust-remote-code if you trust it"
            ) from exc
        raise ModelError(f"cannot read the model config in {folder}: {exc}") from exc
    causal = not (info and info.encoder) and _is_causal_config(config)
    cls = AutoModelForCausalLM if causal else AutoModel
    _check_config_matches_weights(folder, config, cls, trust)
    try:
        model = cls.from_pretrained(
            folder,
            config=config,
            dtype=torch_dtype,
            device_map=device_map,
            use_safetensors=True,
            trust_remote_code=trust,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"cannot load the weights in {folder}: {exc}") from exc
    return model.eval()


def count_safetensors_params(paths: list[Path]) -> int:
    """Parameter count from safetensors headers only (no tensor data is read)."""
    from safetensors import safe_open

    total = 0
    for path in paths:
        try:
            with safe_open(str(path), framework="numpy") as handle:
                for key in handle.keys():  # noqa: SIM118 - safe_open has keys(), not iteration
                    count = 1
                    for dim in handle.get_slice(key).get_shape():
                        count *= dim
                    total += count
        except Exception as exc:  # safetensors raises its own error types for corrupt headers
            raise ModelError(f"weights file {path.name} is not a readable safetensors file ({exc})") from exc
    return total


#: How many times more parameters the config may describe than the weights hold (tied embeddings and
#: buffers make the two differ a little; a config missing its sizes describes a default model many times larger).
CONFIG_WEIGHTS_RATIO = 2.0


def _check_config_matches_weights(folder: Path, config, cls, trust: bool) -> None:
    """Refuse a config that describes a far larger model than its weights, before memory is allocated.

    transformers fills missing sizes with the architecture's defaults: a bare ``{"model_type": "llama"}``
    beside tiny weights would build a 6.7-billion-parameter model and exhaust memory before any error.
    """
    from accelerate import init_empty_weights

    stored = count_safetensors_params(sorted(folder.glob("*.safetensors")))
    with init_empty_weights():
        skeleton = cls.from_config(config, trust_remote_code=trust)
    expected = sum(p.numel() for p in skeleton.parameters())
    if expected > CONFIG_WEIGHTS_RATIO * stored + 1_000_000:
        raise ModelError(
            f"{folder}: config.json describes a model of {expected:,} parameters but the safetensors files hold "
            f"{stored:,}: the config is missing its sizes or belongs to another model; fix config.json"
        )


def _is_causal_config(config) -> bool:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    archs = getattr(config, "architectures", None) or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in archs):
        return True
    return config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and not archs


def _load_tokenizer(folder: Path, trust: bool):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(folder, trust_remote_code=trust)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer in {folder}: {exc}") from exc


def _decide_template(choice: str, info: ModelInfo | None, template: str | None) -> bool:
    if choice == "off":
        return False
    if choice == "on" and template is None:
        raise ModelError("--chat-template on, but the tokenizer has no chat template: use auto or off")
    if choice == "on":
        return True
    if info is not None:  # base models in the registry get raw statements even if a template ships
        return info.instruct and template is not None
    return template is not None


def _is_encoder(model) -> bool:
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    return not (getattr(config, "is_decoder", False) or (hasattr(model, "generate") and model.can_generate()))


def _n_layers(config, folder: Path) -> int:
    for name in ("num_hidden_layers", "n_layer", "num_layers"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    raise ModelError(f"the model in {folder} declares no layer count, so it has no per-layer hidden states")
