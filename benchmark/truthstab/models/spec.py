"""What was loaded, exactly: the model's identity as the activation store keys on it and every result
file records it (one type for both, so the record cannot drift from what was loaded)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ModelSpec(BaseModel):
    """A loaded model's identity and shape."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Hub id, local folder name or packaged model id")
    alias: str | None = Field(description="the catalogue alias it was asked for by, if any")
    revision_sha: str = Field(description="the resolved commit sha, or the content sha256 of a local folder")
    dtype: str = Field(description="the dtype the weights were run in")
    device: str
    architecture: str = Field(description="the transformers architecture class")
    model_type: str
    is_encoder: bool
    is_instruct: bool
    uses_chat_template: bool = Field(description="whether statements were wrapped in the chat template")
    chat_template_sha256: str = Field(description="sha256 of the chat template text ('' without one)")
    n_layers: int
    hidden_size: int
    n_parameters: int
    quantization_note: str = Field(
        description="how quantised weights were turned into dense ones ('' if not)"
    )
    source: Literal["hub", "local", "package"]
