"""Rule groups, action group, Managed Grafana: wire names, role ids, routing to the group."""

from __future__ import annotations

import pytest

from components.kit.shared import PrivateEndpointSpec
from components.observability.action_group import AlertActionGroup, AlertActionGroupArgs
from components.observability.grafana import ManagedGrafana, ManagedGrafanaArgs
from components.observability.rule_groups import PrometheusRuleGroups, PrometheusRuleGroupsArgs
from components.observability.specs import RuleGroupSpec, RuleSpec
from offline.runner import OfflineRun
from tests.components.helpers import ADMIN_GROUP, PEP_SUBNET_ID, RG, SUB

AMW_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Monitor/accounts/amw-unit"
CLUSTER_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/"
    "managedClusters/aks-unit"
)
RUNNERS_VNET = (
    f"/subscriptions/{SUB}/resourceGroups/rg-runners/providers/Microsoft.Network/"
    "virtualNetworks/vnet-runners"
)
GRAFANA_ZONE_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    "privateDnsZones/privatelink.grafana.azure.com"
)
# Built-in role ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"
SECOND_GROUP = "44444444-4444-4444-8444-444444444444"

ALERTS = RuleGroupSpec(
    name="unit-alerts",
    description="unit alerts",
    rules=(
        RuleSpec(
            alert="UnitQualityLow",
            expression="min(model_quality_score) < 0.8",
            for_minutes=15,
            severity=2,
            labels={"team": "ml"},
            annotations={"summary": "quality low", "runbook_url": "https://example.com/rb"},
        ),
    ),
    interval_minutes=5,
)
RECORDS = RuleGroupSpec(
    name="unit-records",
    description="unit records",
    rules=(RuleSpec(record="job:up:sum", expression="sum by (job) (up)"),),
    cluster_scoped=False,
)


def _groups(run_components, groups: list[RuleGroupSpec]) -> OfflineRun:
    def body() -> None:
        action = AlertActionGroup(
            "ag",
            AlertActionGroupArgs(
                resource_group_name=RG,
                action_group_name="ag-unit",
                short_name="unit",
                emails={"oncall": "oncall@example.com"},
                webhooks={"pager": "https://events.example.com/x"},
            ),
        )
        PrometheusRuleGroups(
            "rules",
            PrometheusRuleGroupsArgs(
                resource_group_name=RG,
                location="westeurope",
                groups=groups,
                group_names={g.name: f"prg-{g.name}" for g in groups},
                workspace_resource_id=AMW_ID,
                cluster_resource_id=CLUSTER_ID,
                cluster_name="aks-unit",
                action_group_id=action.resource_id,
            ),
        )

    return run_components(body)


def test_rule_group_alert_routes_to_action_group_with_iso_durations(run_components) -> None:
    run = _groups(run_components, [ALERTS, RECORDS])
    action = run.named("ag-group")
    group = run.named("rules-unit-alerts")
    assert group.inputs["ruleGroupName"] == "prg-unit-alerts"
    assert group.inputs["scopes"] == [AMW_ID, CLUSTER_ID]
    assert group.inputs["clusterName"] == "aks-unit"
    assert group.inputs["interval"] == "PT5M"
    assert group.inputs["enabled"] is True
    assert group.inputs["rules"] == [
        {
            "alert": "UnitQualityLow",
            "expression": "min(model_quality_score) < 0.8",
            "for": "PT15M",
            "severity": 2,
            "labels": {"team": "ml"},
            "annotations": {"summary": "quality low", "runbook_url": "https://example.com/rb"},
            "actions": [{"actionGroupId": action.id}],
            "enabled": True,
        }
    ]
    assert action.urn in group.dependencies


def test_rule_group_record_rules_have_no_actions_and_workspace_scope_only(
    run_components,
) -> None:
    records = _groups(run_components, [RECORDS]).named("rules-unit-records").inputs
    assert records["scopes"] == [AMW_ID]
    assert "clusterName" not in records
    assert records["interval"] == "PT1M"
    assert records["rules"] == [
        {"record": "job:up:sum", "expression": "sum by (job) (up)", "enabled": True}
    ]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([RECORDS, RECORDS], "rule group name ('unit-records') is used twice"),
        (
            [RuleGroupSpec(name="slow", description="", rules=RECORDS.rules, interval_minutes=20)],
            "interval (20) must be 1..15 minutes",
        ),
        ([RuleGroupSpec(name="empty", description="", rules=())], "has no rules"),
    ],
)
def test_rule_groups_reject_invalid_groups(run_components, groups, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _groups(run_components, groups)


def test_action_group_receivers_use_the_common_alert_schema(run_components) -> None:
    group = _groups(run_components, [RECORDS]).named("ag-group").inputs
    assert group["location"] == "global"
    assert group["groupShortName"] == "unit"
    assert group["enabled"] is True  # a disabled group notifies no one
    assert group["emailReceivers"] == [
        {"name": "oncall", "emailAddress": "oncall@example.com", "useCommonAlertSchema": True}
    ]
    (hook,) = group["webhookReceivers"]
    # The SDK adds useAadAuth: false (a plain https webhook).
    assert {k: hook[k] for k in ("name", "serviceUri", "useCommonAlertSchema")} == {
        "name": "pager",
        "serviceUri": "https://events.example.com/x",
        "useCommonAlertSchema": True,
    }


def _grafana(run_components, **overrides: object) -> OfflineRun:
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "grafana_name": "amg-unit",
        "azure_monitor_workspace_resource_id": AMW_ID,
        "admin_group_object_ids": [SECOND_GROUP, ADMIN_GROUP],
    }
    base.update(overrides)
    return run_components(
        lambda: ManagedGrafana("grafana", ManagedGrafanaArgs(**base))  # type: ignore[arg-type]
    )


def test_grafana_standard_with_identity_and_monitor_workspace_integration(run_components) -> None:
    g = _grafana(run_components).named("grafana-grafana").inputs
    assert g["sku"] == {"name": "Standard"}
    assert g["identity"] == {"type": "SystemAssigned"}
    props = g["properties"]
    assert props["grafanaIntegrations"] == {
        "azureMonitorWorkspaceIntegrations": [{"azureMonitorWorkspaceResourceId": AMW_ID}]
    }
    assert props["publicNetworkAccess"] == "Enabled"
    assert props["apiKey"] == "Disabled"


def test_grafana_identity_reads_the_monitor_workspace(run_components) -> None:
    run = _grafana(run_components)
    grafana = run.named("grafana-grafana")
    grant = run.named("grafana-amw-reader").inputs
    assert grant["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{MONITORING_DATA_READER}"
    )
    assert grant["scope"] == AMW_ID
    principal = grafana.outputs["identity"]["principalId"]
    assert principal
    assert grant["principalId"] == principal
    assert grant["principalType"] == "ServicePrincipal"


def test_grafana_admin_for_each_admin_group(run_components) -> None:
    run = _grafana(run_components)
    grafana = run.named("grafana-grafana")
    admins = [
        r for r in run.of_type("azure-native:authorization:RoleAssignment") if "admin" in r.name
    ]
    assert sorted(a.inputs["principalId"] for a in admins) == sorted([ADMIN_GROUP, SECOND_GROUP])
    for admin in admins:
        assert admin.inputs["principalType"] == "Group"
        assert admin.inputs["scope"] == grafana.id
        assert admin.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{GRAFANA_ADMIN}")
        # Keyed by group id: reordering the config list keeps every URN.
        assert admin.name == f"grafana-admin-{admin.inputs['principalId']}"


def test_grafana_private_endpoint_and_zone_links(run_components) -> None:
    run = _grafana(
        run_components,
        public_network_access_enabled=False,
        private_endpoint=PrivateEndpointSpec(
            subnet_resource_id=PEP_SUBNET_ID,
            private_dns_zone_resource_id=GRAFANA_ZONE_ID,
            group_id="grafana",
        ),
        private_endpoint_name="pep-unit-amg",
        private_dns_link_vnet_resource_ids={"runners": RUNNERS_VNET},
    )
    assert run.named("grafana-grafana").inputs["properties"]["publicNetworkAccess"] == "Disabled"
    pep = run.named("grafana-pep").inputs
    assert pep["privateLinkServiceConnections"][0]["groupIds"] == ["grafana"]
    link = run.named("grafana-dns-runners").inputs
    assert link["privateZoneName"] == "privatelink.grafana.azure.com"
    assert link["virtualNetwork"] == {"id": RUNNERS_VNET}
