"""Platform-wide serving settings (``aks-mlops:serving``): the serving namespace and LLM presets.

The served MLflow model versions and their per-model settings are in the release block
(:mod:`infra.config.release`), which the promotion tool rewrites. An LLM preset is a platform
choice of the stack, not a promoted model version, so it lives here: ``serving.llm`` enables
the AKS AI toolchain operator (KAITO) add-on and declares one KAITO Workspace.
"""

from __future__ import annotations

from pydantic import field_validator

from components.serving.presets import KAITO_PRESETS
from infra.config.base import ConfigModel
from infra.config.data import check_k8s_name
from infra.config.errors import rule_error


class LlmConfig(ConfigModel):
    """One KAITO inference Workspace for a preset model on a GPU pool."""

    preset: str
    """KAITO preset name (``inference.preset.name``), one of :data:`KAITO_PRESETS`."""
    gpu_pool: str
    """Name of the ``gpuPools`` entry whose nodes run it (its VM size is the Workspace's
    ``instanceType``)."""
    namespace: str = "llm"
    """Namespace of the Workspace and of the inference pods KAITO generates. Their security
    context is KAITO's, not the platform's, so this namespace enforces the Pod Security
    "baseline" profile (and warns on "restricted") instead of enforcing "restricted"."""

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)

    @field_validator("preset")
    @classmethod
    def _preset(cls, value: str) -> str:
        if value not in KAITO_PRESETS:
            raise rule_error(
                "",
                value,
                f"is not a known KAITO preset (known: {', '.join(sorted(KAITO_PRESETS))})",
            )
        return value


class ServingSettings(ConfigModel):
    """Where models are served and whether an LLM preset runs."""

    namespace: str = "serving"
    """Namespace of the model servers (and of the KAITO Workspace)."""
    llm: LlmConfig | None = None
    """None: no KAITO add-on, no Workspace."""

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)
