"""Log Analytics, Container Insights, managed Prometheus, diagnostic settings: wire names and
the order Azure needs (rule before association, workspace before rule)."""

from __future__ import annotations

import pytest

from components.observability.container_insights import ContainerInsights, ContainerInsightsArgs
from components.observability.diagnostics import (
    DiagnosticSettings,
    DiagnosticSettingsArgs,
    DiagnosticTarget,
)
from components.observability.log_analytics import (
    LogAnalyticsWorkspace,
    LogAnalyticsWorkspaceArgs,
)
from components.observability.managed_prometheus import ManagedPrometheus, ManagedPrometheusArgs
from offline.runner import OfflineRun
from tests.components.helpers import RG, SUB

CLUSTER_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/"
    "managedClusters/aks-unit"
)


def _workspace(**overrides: object) -> LogAnalyticsWorkspace:
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "workspace_name": "log-unit",
    }
    base.update(overrides)
    return LogAnalyticsWorkspace("logs", LogAnalyticsWorkspaceArgs(**base))  # type: ignore[arg-type]


def test_log_analytics_retention_cap_and_entra_only(run_components) -> None:
    run = run_components(lambda: _workspace(retention_days=90, daily_quota_gb=2.5))
    ws = run.named("logs-workspace")
    assert ws.inputs["sku"] == {"name": "PerGB2018"}
    assert ws.inputs["retentionInDays"] == 90
    assert ws.inputs["workspaceCapping"] == {"dailyQuotaGb": 2.5}
    assert ws.inputs["features"]["disableLocalAuth"] is True
    assert ws.id.endswith("/providers/Microsoft.OperationalInsights/workspaces/log-unit")


def _container_insights(run_components) -> OfflineRun:
    def body() -> None:
        logs = _workspace()
        ContainerInsights(
            "ci",
            ContainerInsightsArgs(
                resource_group_name=RG,
                location="westeurope",
                rule_name="dcr-unit-ci",
                workspace_resource_id=logs.resource_id,
                cluster_resource_id=CLUSTER_ID,
                collection_interval="5m",
                namespace_filtering_mode="Exclude",
                namespaces=["kube-system"],
            ),
        )

    return run_components(body)


def test_container_insights_rule_streams_the_default_group_to_the_workspace(
    run_components,
) -> None:
    run = _container_insights(run_components)
    dcr = run.named("ci-dcr")
    workspace = run.named("logs-workspace")
    # Stream, extension and destination as in Azure's managed-identity onboarding template.
    assert dcr.inputs["dataSources"]["extensions"] == [
        {
            "name": "ContainerInsightsExtension",
            "extensionName": "ContainerInsights",
            "streams": ["Microsoft-ContainerInsights-Group-Default"],
            "extensionSettings": {
                "dataCollectionSettings": {
                    "interval": "5m",
                    "namespaceFilteringMode": "Exclude",
                    "namespaces": ["kube-system"],
                    "enableContainerLogV2": True,
                }
            },
        }
    ]
    (destination,) = dcr.inputs["destinations"]["logAnalytics"]
    assert destination["workspaceResourceId"] == workspace.id
    assert dcr.inputs["dataFlows"] == [
        {
            "streams": ["Microsoft-ContainerInsights-Group-Default"],
            "destinations": [destination["name"]],
        }
    ]
    assert workspace.urn in dcr.dependencies


def test_container_insights_association_has_the_name_the_agent_looks_up(run_components) -> None:
    run = _container_insights(run_components)
    dcr = run.named("ci-dcr")
    assoc = run.named("ci-dcra")
    assert assoc.inputs["associationName"] == "ContainerInsightsExtension"
    assert assoc.inputs["resourceUri"] == CLUSTER_ID
    assert assoc.inputs["dataCollectionRuleId"] == dcr.id
    assert dcr.urn in assoc.dependencies


def _prometheus(run_components) -> OfflineRun:
    return run_components(
        lambda: ManagedPrometheus(
            "prom",
            ManagedPrometheusArgs(
                resource_group_name=RG,
                location="westeurope",
                workspace_name="amw-unit",
                endpoint_name="dce-unit-prom",
                rule_name="dcr-unit-prom",
                association_name="dcra-prometheus",
                cluster_resource_id=CLUSTER_ID,
            ),
        )
    )


def test_prometheus_rule_forwards_metrics_to_the_monitor_workspace(run_components) -> None:
    run = _prometheus(run_components)
    amw = run.named("prom-workspace")
    dce = run.named("prom-dce")
    dcr = run.named("prom-dcr")
    assert amw.id.endswith("/providers/Microsoft.Monitor/accounts/amw-unit")
    assert dcr.inputs["dataCollectionRuleName"] == "dcr-unit-prom"
    assert dcr.inputs["location"] == dce.inputs["location"] == "westeurope"
    (source,) = dcr.inputs["dataSources"]["prometheusForwarder"]
    # The data source of AKS's managed-Prometheus DCR, as Learn's ARM template names it.
    assert source == {
        "name": "PrometheusDataSource",
        "streams": ["Microsoft-PrometheusMetrics"],
        "labelIncludeFilter": {},
    }
    (account,) = dcr.inputs["destinations"]["monitoringAccounts"]
    assert account["accountResourceId"] == amw.id
    assert dcr.inputs["dataFlows"] == [
        {"streams": ["Microsoft-PrometheusMetrics"], "destinations": [account["name"]]}
    ]
    assert dcr.inputs["dataCollectionEndpointId"] == dce.id
    assert {amw.urn, dce.urn} <= set(dcr.dependencies)


def test_prometheus_rule_and_endpoint_are_associated_with_the_cluster(run_components) -> None:
    run = _prometheus(run_components)
    dcr = run.named("prom-dcr")
    dce = run.named("prom-dce")
    rule_assoc = run.named("prom-dcra").inputs
    assert (rule_assoc["resourceUri"], rule_assoc["dataCollectionRuleId"]) == (CLUSTER_ID, dcr.id)
    endpoint_assoc = run.named("prom-dcea")
    # The agent reads its configuration endpoint from an association of exactly this name.
    assert endpoint_assoc.inputs["associationName"] == "configurationAccessEndpoint"
    assert endpoint_assoc.inputs["dataCollectionEndpointId"] == dce.id
    assert endpoint_assoc.inputs["resourceUri"] == CLUSTER_ID
    assert endpoint_assoc.id == (
        f"{CLUSTER_ID}/providers/Microsoft.Insights/dataCollectionRuleAssociations/"
        "configurationAccessEndpoint"
    )


def test_diagnostic_settings_send_categories_to_the_workspace(run_components) -> None:
    blob = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/" + (
        "storageAccounts/stunit/blobServices/default"
    )

    def body() -> None:
        logs = _workspace()
        DiagnosticSettings(
            "diag",
            DiagnosticSettingsArgs(
                workspace_resource_id=logs.resource_id,
                targets={
                    "aks": DiagnosticTarget(
                        resource_id=CLUSTER_ID,
                        categories=["kube-audit-admin", "guard"],
                        resource_specific_tables=True,
                    ),
                    "blob": DiagnosticTarget(resource_id=blob, categories=["StorageRead"]),
                },
            ),
        )

    run = run_components(body)
    workspace = run.named("logs-workspace")
    aks = run.named("diag-aks")
    assert aks.inputs["resourceUri"] == CLUSTER_ID
    assert aks.inputs["workspaceId"] == workspace.id
    assert aks.inputs["logs"] == [
        {"category": "kube-audit-admin", "enabled": True},
        {"category": "guard", "enabled": True},
    ]
    assert aks.inputs["logAnalyticsDestinationType"] == "Dedicated"
    assert workspace.urn in aks.dependencies
    blob_setting = run.named("diag-blob").inputs
    assert blob_setting["resourceUri"] == blob
    assert "logAnalyticsDestinationType" not in blob_setting
    # One setting per resource, under a name a reader of the portal recognises.
    assert aks.inputs["name"] == "to-log-analytics"
    assert blob_setting["name"] == "to-log-analytics"
    assert blob_setting["logs"] == [{"category": "StorageRead", "enabled": True}]


def test_diagnostic_target_without_category_is_refused(run_components) -> None:
    def body() -> None:
        DiagnosticSettings(
            "diag",
            DiagnosticSettingsArgs(
                workspace_resource_id="/subscriptions/x/workspaces/log-unit",
                targets={"kv": DiagnosticTarget(resource_id=CLUSTER_ID, categories=[])},
            ),
        )

    with pytest.raises(ValueError, match=r"^diagnostic target 'kv' enables no category$"):
        run_components(body)
