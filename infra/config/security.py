"""Supply-chain security settings (``aks-mlops:security``)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from components.registry import cache
from infra.config.base import ConfigModel
from infra.config.errors import rule_error


class SecurityConfig(ConfigModel):
    """The allowed-images policy on the cluster and Microsoft Defender for Containers."""

    allowed_images_effect: Literal["Audit", "Deny", "Disabled"] = "Audit"
    """Effect of the built-in "allowed images" policy (the definition also accepts the
    lower-case spellings; one spelling keeps diffs stable). Prod must be ``Deny``."""
    allowed_image_upstreams: list[str] = Field(default_factory=list)
    """Upstream registries the policy admits besides the stack's registry. Empty by default:
    every image comes through the registry (``registry.cacheRulesEnabled``); must list the
    upstreams when the cache is off; must be empty in prod."""
    defender_enabled: bool = True
    """Microsoft Defender for Containers: the cluster's Defender sensor (security monitoring
    into the stack's Log Analytics workspace) and the subscription's ``Containers`` plan at
    the Standard tier. Required in test and prod; dev may turn it off (it is billed per
    vCore)."""

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
