"""The shapes shared by the alert rules (what to alert on) and the rule-group component (how
Azure stores them): plain data, no Pulumi, so rule content can be written out as a Prometheus
rules file and unit-tested with ``promtool test rules``.

Azure's ``alertsmanagement.PrometheusRuleGroup`` rules are plain Prometheus rules: an alert
or a record, a PromQL expression, a ``for`` duration (ISO 8601 in Azure, e.g. ``PT5M``),
labels and annotations, plus an Azure severity (0 critical .. 4 verbose).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal[0, 1, 2, 3, 4]


@dataclass(frozen=True, kw_only=True)
class RuleSpec:
    """One Prometheus rule: exactly one of ``alert`` or ``record`` is set."""

    expression: str
    """PromQL."""
    alert: str | None = None
    """Alert name (CamelCase), for alerting rules."""
    record: str | None = None
    """Recorded series name (``level:metric:operations``), for recording rules."""
    for_minutes: int = 0
    """How long the condition must hold before the alert fires (alerts only)."""
    severity: Severity = 3
    """Azure alert severity (alerts only)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    """``summary``, ``description`` and ``runbook_url`` for every alert."""

    def __post_init__(self) -> None:
        if (self.alert is None) == (self.record is None):
            raise ValueError("a rule is either an alert or a record, not both or neither")


@dataclass(frozen=True, kw_only=True)
class RuleGroupSpec:
    """A group of rules evaluated together, stored as one ``PrometheusRuleGroup``."""

    name: str
    """Stable logical name (also the Azure rule group's name suffix)."""
    description: str
    rules: tuple[RuleSpec, ...]
    interval_minutes: int = 1
    """Evaluation interval (Azure accepts PT1M .. PT15M)."""
    cluster_scoped: bool = True
    """Scope the group to the stack's cluster as well as the Azure Monitor workspace."""
