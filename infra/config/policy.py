"""The policy pack's enforcement for this stack (``aks-mlops:policy``).

The offline plan runs the pack at these levels and writes them as
``build/<stack>/policy-config.json`` for ``pulumi preview --policy-pack-config``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error
from policies.rules import RULE_NAMES

Level = Literal["advisory", "mandatory", "disabled"]


class PolicyConfig(ConfigModel):
    """``enforcement`` for every rule, and per-rule overrides by rule name."""

    enforcement: Level = "advisory"
    """Level of every rule not named in ``rules``."""
    rules: dict[str, Level] = Field(default_factory=dict)
    """Rule name (e.g. ``k8s-images-pinned``) -> level, overriding ``enforcement``."""

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: dict[str, Level]) -> dict[str, Level]:
        for name, level in value.items():
            if name not in RULE_NAMES:
                raise rule_error(
                    name,
                    level,
                    f"is not a rule of the policy pack (known: {', '.join(sorted(RULE_NAMES))})",
                )
        return value

    def levels(self) -> dict[str, Level]:
        """Every rule's level."""
        return {name: self.rules.get(name, self.enforcement) for name in sorted(RULE_NAMES)}
