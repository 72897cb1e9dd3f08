"""Offline-plan summaries of the monitoring resources, the stack's Prometheus rules and its
Grafana dashboards (what a reviewer checks before an alert or a cap changes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from offline.runner import OfflineRun

RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
DASHBOARD = "grafana:oss/dashboard:Dashboard"


def _count(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float) else "?"


def _workspace(i: Mapping[str, Any]) -> list[str]:
    cap = (i.get("workspaceCapping") or {}).get("dailyQuotaGb")
    features = i.get("features") or {}
    return [
        str((i.get("sku") or {}).get("name")),
        f"retention {_count(i.get('retentionInDays'))}d",
        "no daily cap" if cap in (None, -1) else f"daily cap {cap:g} GB",
        "local auth " + ("off" if features.get("disableLocalAuth") else "ON"),
    ]


def _dcr(i: Mapping[str, Any]) -> list[str]:
    flows = [
        f"{','.join(f.get('streams') or [])} -> {','.join(f.get('destinations') or [])}"
        for f in i.get("dataFlows") or []
    ]
    out = flows
    for ext in (i.get("dataSources") or {}).get("extensions") or []:
        settings = (ext.get("extensionSettings") or {}).get("dataCollectionSettings") or {}
        out.append(f"every {settings.get('interval')}")
        if settings.get("namespaceFilteringMode") not in (None, "Off"):
            out.append(
                f"{settings['namespaceFilteringMode']} {','.join(settings.get('namespaces') or [])}"
            )
    return out


def _association(i: Mapping[str, Any]) -> list[str]:
    target = str(i.get("resourceUri", "")).rsplit("/", 1)[-1]
    what = "endpoint" if i.get("dataCollectionEndpointId") else "rule"
    return [f"{what} -> {target}"]


def _diagnostic(i: Mapping[str, Any]) -> list[str]:
    target = "/".join(str(i.get("resourceUri", "")).split("/")[-3:])
    cats = ",".join(str(log.get("category")) for log in i.get("logs") or [])
    tables = "resource-specific tables" if i.get("logAnalyticsDestinationType") else ""
    return [f"on {target}", cats, tables]


def _action_group(i: Mapping[str, Any]) -> list[str]:
    emails = [str(r.get("name")) for r in i.get("emailReceivers") or []]
    hooks = [str(r.get("name")) for r in i.get("webhookReceivers") or []]
    return [
        f"short name {i.get('groupShortName')}",
        f"email {','.join(emails) or '-'}",
        f"webhook {','.join(hooks) or '-'}",
    ]


def _rule_group(i: Mapping[str, Any]) -> list[str]:
    rules = i.get("rules") or []
    alerts = sum(1 for r in rules if r.get("alert"))
    scopes = i.get("scopes") or []
    return [
        f"every {i.get('interval')}",
        f"{alerts} alert(s), {len(rules) - alerts} record(s)",
        "workspace + cluster" if len(scopes) > 1 else "workspace",
        "enabled" if i.get("enabled") else "DISABLED",
    ]


def _grafana(i: Mapping[str, Any]) -> list[str]:
    p = i.get("properties") or {}
    integrations = (p.get("grafanaIntegrations") or {}).get("azureMonitorWorkspaceIntegrations")
    return [
        f"sku {(i.get('sku') or {}).get('name')}",
        f"public access {p.get('publicNetworkAccess')}",
        f"zone redundancy {p.get('zoneRedundancy')}",
        f"identity {(i.get('identity') or {}).get('type')}",
        f"{len(integrations or [])} Azure Monitor workspace(s)",
    ]


def _dashboard(i: Mapping[str, Any]) -> list[str]:
    return [f"title {dashboard_title(i)}"]


def dashboard_title(inputs: Mapping[str, Any]) -> str:
    """The dashboard's title from its JSON model."""
    try:
        return str(json.loads(str(inputs.get("configJson"))).get("title"))
    except ValueError:
        return "?"


MONITORING_SUMMARIZERS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "azure-native:operationalinsights:Workspace": _workspace,
    "azure-native:monitor:AzureMonitorWorkspace": lambda i: ["managed Prometheus storage"],
    "azure-native:monitor:DataCollectionEndpoint": lambda i: [f"kind {i.get('kind')}"],
    "azure-native:monitor:DataCollectionRule": _dcr,
    "azure-native:monitor:DataCollectionRuleAssociation": _association,
    "azure-native:monitor:DiagnosticSetting": _diagnostic,
    "azure-native:monitor:ActionGroup": _action_group,
    RULE_GROUP: _rule_group,
    "azure-native:dashboard:Grafana": _grafana,
    DASHBOARD: _dashboard,
}


@dataclass(frozen=True)
class AlertRow:
    """One alert of the stack, as the plan lists it."""

    group: str
    alert: str
    expression: str
    for_: str
    severity: str


def alert_rows(run: OfflineRun) -> list[AlertRow]:
    """Every alert rule the stack registers (recording rules are counted per group)."""
    rows = []
    for group in run.of_type(RULE_GROUP):
        for rule in group.inputs.get("rules") or []:
            if rule.get("alert"):
                rows.append(
                    AlertRow(
                        group=str(group.inputs.get("ruleGroupName")),
                        alert=str(rule["alert"]),
                        expression=" ".join(str(rule.get("expression")).split()),
                        for_=str(rule.get("for") or "-"),
                        severity=_count(rule.get("severity")),
                    )
                )
    return rows


def record_counts(run: OfflineRun) -> dict[str, int]:
    """Recording rules per rule group (Azure name)."""
    counts = {}
    for group in run.of_type(RULE_GROUP):
        records = [r for r in group.inputs.get("rules") or [] if r.get("record")]
        if records:
            counts[str(group.inputs.get("ruleGroupName"))] = len(records)
    return counts


def dashboard_titles(run: OfflineRun) -> list[str]:
    """Titles of the Grafana dashboards the stack provisions."""
    return sorted(dashboard_title(d.inputs) for d in run.of_type(DASHBOARD))
