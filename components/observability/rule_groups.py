"""PrometheusRuleGroups: one ``alertsmanagement.PrometheusRuleGroup`` per :class:`RuleGroupSpec`.

Alert and recording rules alike (the recommended AKS recording rules pass through here too).
Each group is scoped to the Azure Monitor workspace and, when ``cluster_scoped``, to the
cluster as well (Azure then evaluates it for that cluster only and sets ``cluster_name``).
Every alert routes to the action group. Durations are ISO 8601 (``PT5M``).
https://learn.microsoft.com/azure/azure-monitor/essentials/prometheus-rule-groups
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import alertsmanagement as am

from components.observability.specs import RuleGroupSpec, RuleSpec

# Azure evaluates rule groups every 1 to 15 minutes.
MIN_INTERVAL_MINUTES = 1
MAX_INTERVAL_MINUTES = 15


def iso_minutes(minutes: int) -> str:
    """``5`` -> ``PT5M`` (ISO 8601 duration, as Azure's rule groups expect)."""
    if minutes < 0:
        raise ValueError(f"duration ({minutes}) must be >= 0 minutes")
    return f"PT{minutes}M"


@dataclass(frozen=True, kw_only=True)
class PrometheusRuleGroupsArgs:
    """Inputs of :class:`PrometheusRuleGroups`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the rule groups."""
    location: str
    """Region (the Azure Monitor workspace's)."""
    groups: Sequence[RuleGroupSpec]
    """The groups to register (alert content and recording rules)."""
    group_names: Mapping[str, str]
    """Azure name of each group, by :attr:`RuleGroupSpec.name`."""
    workspace_resource_id: pulumi.Input[str]
    """Azure Monitor workspace the rules query and write to."""
    cluster_resource_id: pulumi.Input[str]
    """The cluster, added to the scopes of cluster-scoped groups."""
    cluster_name: pulumi.Input[str]
    """Name of the cluster (``clusterName`` of cluster-scoped groups)."""
    action_group_id: pulumi.Input[str]
    """Action group every alert notifies."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on each group."""


def _rule(spec: RuleSpec, action_group_id: pulumi.Input[str]) -> am.PrometheusRuleArgs:
    if spec.record is not None:
        return am.PrometheusRuleArgs(
            record=spec.record,
            expression=spec.expression,
            labels=dict(spec.labels) or None,
            enabled=True,
        )
    return am.PrometheusRuleArgs(
        alert=spec.alert,
        expression=spec.expression,
        for_=iso_minutes(spec.for_minutes) if spec.for_minutes else None,
        severity=spec.severity,
        labels=dict(spec.labels) or None,
        annotations=dict(spec.annotations) or None,
        actions=[am.PrometheusRuleGroupActionArgs(action_group_id=action_group_id)],
        enabled=True,
    )


def _check(groups: Sequence[RuleGroupSpec], names: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for group in groups:
        if group.name in seen:
            raise ValueError(f"rule group name ({group.name!r}) is used twice")
        seen.add(group.name)
        if group.name not in names:
            raise ValueError(f"rule group ({group.name!r}) has no Azure name")
        if not MIN_INTERVAL_MINUTES <= group.interval_minutes <= MAX_INTERVAL_MINUTES:
            raise ValueError(
                f"rule group {group.name!r} interval ({group.interval_minutes}) must be "
                f"{MIN_INTERVAL_MINUTES}..{MAX_INTERVAL_MINUTES} minutes"
            )
        if not group.rules:
            raise ValueError(f"rule group ({group.name!r}) has no rules")


class PrometheusRuleGroups(pulumi.ComponentResource):
    """The stack's Prometheus rule groups."""

    group_ids: dict[str, pulumi.Output[str]]
    """Resource id of each group, by spec name."""

    def __init__(
        self,
        name: str,
        args: PrometheusRuleGroupsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("aks-mlops:observability:PrometheusRuleGroups", name, None, opts)
        _check(args.groups, args.group_names)
        self.group_ids = {}
        for group in args.groups:
            scopes: list[pulumi.Input[str]] = [args.workspace_resource_id]
            if group.cluster_scoped:
                scopes.append(args.cluster_resource_id)
            resource = am.PrometheusRuleGroup(
                f"{name}-{group.name}",
                rule_group_name=args.group_names[group.name],
                resource_group_name=args.resource_group_name,
                location=args.location,
                description=group.description,
                scopes=scopes,
                cluster_name=args.cluster_name if group.cluster_scoped else None,
                interval=iso_minutes(group.interval_minutes),
                enabled=True,
                rules=[_rule(rule, args.action_group_id) for rule in group.rules],
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.group_ids[group.name] = resource.id
        self.register_outputs({"group_ids": self.group_ids})
