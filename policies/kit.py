"""The small kit every rule uses: the :class:`Rule` shape, prop access, environment and
exemptions.

A rule is a plain function ``(args, report_violation) -> None`` over a
``pulumi_policy.ResourceValidationArgs`` (wire-name props, the same shape the offline runner
records), so the same function runs in ``pulumi preview --policy-pack policies`` and offline
over a stack's recorded resources. A rule that does not concern a resource calls
``args.not_applicable(reason)``.

Exemptions live on the object, next to its reason: a Kubernetes object may carry the
annotation ``policy.aks-mlops.io/<rule-name>: <why this object cannot comply>``; the rule
then does not apply to it. An empty reason is no exemption.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

Validate = Callable[[ResourceValidationArgs, ReportViolation], None]
EXEMPTION_PREFIX = "policy.aks-mlops.io/"


@dataclass(frozen=True)
class Rule:
    """One policy: a kebab-case name, what it asserts, the types it reads, and the check."""

    name: str
    description: str
    resource_types: frozenset[str]
    validate: Validate
    """Reports a violation whose message says the fix."""


def rule(name: str, description: str, types: Sequence[str]) -> Callable[[Validate], Rule]:
    """Decorator: the function becomes a :class:`Rule` applying to ``types`` only."""

    def wrap(fn: Validate) -> Rule:
        wanted = frozenset(types)

        def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
            if args.resource_type not in wanted:
                args.not_applicable(f"{name} reads {', '.join(sorted(wanted))} only")
            reason = exemption(args.props, name)
            if reason:
                args.not_applicable(f"exempted on the object: {reason}")
            fn(args, report)

        validate.__name__ = fn.__name__
        validate.__doc__ = fn.__doc__
        return Rule(name=name, description=description, resource_types=wanted, validate=validate)

    return wrap


def get(props: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """``props["a"]["b"]`` for ``"a.b"``; ``default`` where a step is missing."""
    value: Any = props
    for step in path.split("."):
        if not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    return value


def environment(props: Mapping[str, Any]) -> str | None:
    """The resource's ``environment`` tag (the program tags every Azure resource)."""
    tags = props.get("tags")
    return str(tags["environment"]) if isinstance(tags, Mapping) and "environment" in tags else None


def exemption(props: Mapping[str, Any], name: str) -> str:
    """The reason a Kubernetes object gives for not complying with rule ``name``, or ``""``."""
    annotations = get(props, "metadata.annotations") or {}
    return str(annotations.get(EXEMPTION_PREFIX + name, "")).strip()
