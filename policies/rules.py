"""Every rule of the pack, and how to run them over recorded resources.

Importable without side effects (the pack itself, which starts a gRPC server, is built only
in ``policies/__main__.py``), so the offline plan and the tests call the very functions that
``pulumi preview --policy-pack policies`` runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.policy import _NotApplicableError

from policies import azure, kubernetes
from policies.kit import Rule

Level = Literal["advisory", "mandatory", "disabled"]
LEVELS: tuple[Level, ...] = ("advisory", "mandatory", "disabled")
ALL_RULES: tuple[Rule, ...] = (*azure.RULES, *kubernetes.RULES)
RULE_NAMES: frozenset[str] = frozenset(r.name for r in ALL_RULES)


@dataclass(frozen=True)
class Finding:
    """One violation of one rule by one resource."""

    rule: str
    level: Level
    resource_type: str
    name: str
    message: str


def validation_args(
    *,
    resource_type: str,
    props: Mapping[str, Any],
    name: str,
    urn: str = "",
    protect: bool = False,
    retain_on_delete: bool = False,
    parent: str | None = None,
) -> ResourceValidationArgs:
    """The SDK's own argument object, as the engine would build it for a resource."""
    opts = PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=parent,
    )
    # The engine's options carry no retainOnDelete; the offline run knows it, so pass it on.
    opts.retain_on_delete = retain_on_delete  # type: ignore[attr-defined]
    return ResourceValidationArgs(resource_type, props, urn, name, opts, None)


def check(rule: Rule, args: ResourceValidationArgs) -> list[str] | None:
    """The rule's violation messages for one resource; None where it does not apply."""
    messages: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        messages.append(message)

    try:
        rule.validate(args, report)
    except _NotApplicableError:
        return None
    return messages


def evaluate(
    resources: Iterable[ResourceValidationArgs],
    levels: Mapping[str, Level],
) -> list[Finding]:
    """Every violation of every enabled rule; ``levels`` maps each rule name to its level."""
    findings: list[Finding] = []
    for args in resources:
        for r in ALL_RULES:
            level = levels[r.name]
            if level == "disabled":
                continue
            for message in check(r, args) or []:
                findings.append(Finding(r.name, level, args.resource_type, args.name, message))
    return findings
