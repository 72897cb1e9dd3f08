"""Supply-chain security settings (``aks-mlops:security``)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from components.registry import cache
from infra.config.base import ConfigModel
from infra.config.errors import rule_error


class SecurityConfig(ConfigModel):
    """The allowed-images policy on the cluster."""

    allowed_images_effect: Literal["Audit", "Deny", "Disabled"] = "Audit"
    """Effect of the built-in "allowed images" policy (the definition also accepts the
    lower-case spellings; one spelling keeps diffs stable). Prod must be ``Deny``."""
    allowed_image_upstreams: list[str] = Field(
        default_factory=lambda: ["docker.io", "ghcr.io", "nvcr.io"]
    )
    """Upstream registries allowed besides the stack's registry (the manifests still pull
    from them until their images are re-pointed to the registry's cache)."""

    @model_validator(mode="after")
    def _hosts(self) -> Self:
        value = self.allowed_image_upstreams
        for index, host in enumerate(value):
            key = f"allowedImageUpstreams[{index}]"
            if not cache.REGISTRY_HOST.match(host):
                raise rule_error(key, host, "is not a registry host name (e.g. ghcr.io)")
            if host in value[:index]:
                raise rule_error(key, host, "is listed twice")
        return self
