"""The model stage: the configured model loaded with the configured precision, device and template."""

from __future__ import annotations

from typing import TYPE_CHECKING

from truthstab.pipeline.config import RunConfig

if TYPE_CHECKING:
    from truthstab.models.loading import LoadedModel


def load_run_model(config: RunConfig) -> LoadedModel:
    """The run's model (see :func:`truthstab.models.loading.load_model`: safetensors only, no remote
    code unless the configuration allows it)."""
    # Imported here: loading pulls in torch and transformers, which the commands' --help never needs.
    from truthstab.models.loading import load_model

    return load_model(
        config.model,
        revision=config.revision,
        dtype=config.dtype,
        device=config.device,
        trust_remote_code=config.trust_remote_code,
        chat_template=config.chat_template,
    )
