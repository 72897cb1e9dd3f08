"""Per-stack observability: what each stack collects, where it goes, who can read it, and the
order Azure needs (workspace before cluster, cluster before associations and settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.runner import ROOT, OfflineRun
from tests.conftest import STACKS, stack_values

AKS = "azure-native:containerservice:ManagedCluster"
WORKSPACE = "azure-native:operationalinsights:Workspace"
AMW = "azure-native:monitor:AzureMonitorWorkspace"
DCR = "azure-native:monitor:DataCollectionRule"
DCRA = "azure-native:monitor:DataCollectionRuleAssociation"
DIAG = "azure-native:monitor:DiagnosticSetting"
RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
GRAFANA = "azure-native:dashboard:Grafana"
ROLE = "azure-native:authorization:RoleAssignment"
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"
# Control-plane categories collected when a stack does not choose (Learn, supported logs of
# Microsoft.ContainerService/managedClusters).
DEFAULT_AKS_CATEGORIES = [
    "kube-apiserver",
    "kube-audit-admin",
    "kube-controller-manager",
    "cluster-autoscaler",
    "guard",
]


def _one(run: OfflineRun, typ: str):
    (record,) = run.of_type(typ)
    return record


def _by_association(run: OfflineRun, name: str):
    (record,) = [r for r in run.of_type(DCRA) if r.inputs["associationName"] == name]
    return record


@pytest.mark.parametrize("stack", STACKS)
def test_stack_container_insights_addon_names_a_workspace_created_first(stack_runs, stack) -> None:
    run = stack_runs[stack]
    cluster = _one(run, AKS)
    workspace = _one(run, WORKSPACE)
    oms = cluster.inputs["addonProfiles"]["omsagent"]
    assert oms["enabled"] is True
    assert oms["config"] == {"logAnalyticsWorkspaceResourceID": workspace.id, "useAADAuth": "true"}
    assert workspace.urn in cluster.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_stack_collection_rules_are_associated_with_the_cluster(stack_runs, stack) -> None:
    run = stack_runs[stack]
    cluster = _one(run, AKS)
    rules = {tuple(r.inputs["dataFlows"][0]["streams"]): r for r in run.of_type(DCR)}
    ci_rule = rules[("Microsoft-ContainerInsights-Group-Default",)]
    prom_rule = rules[("Microsoft-PrometheusMetrics",)]
    ci = _by_association(run, "ContainerInsightsExtension")
    assert ci.inputs["dataCollectionRuleId"] == ci_rule.id
    endpoint = _by_association(run, "configurationAccessEndpoint")
    assert (
        endpoint.inputs["dataCollectionEndpointId"] == prom_rule.inputs["dataCollectionEndpointId"]
    )
    (prom,) = [r for r in run.of_type(DCRA) if r.inputs.get("dataCollectionRuleId") == prom_rule.id]
    for assoc in (ci, endpoint, prom):
        assert assoc.inputs["resourceUri"] == cluster.id
        assert cluster.urn in assoc.dependencies
    amw = _one(run, AMW)
    assert prom_rule.inputs["destinations"]["monitoringAccounts"][0]["accountResourceId"] == amw.id


@pytest.mark.parametrize("stack", STACKS)
def test_stack_registers_the_recommended_recording_rules_on_workspace_and_cluster(
    stack_runs, stack
) -> None:
    run = stack_runs[stack]
    amw = _one(run, AMW)
    cluster = _one(run, AKS)
    action_group = _one(run, ACTION_GROUP)
    records = set()
    for group in run.of_type(RULE_GROUP):
        assert group.inputs["scopes"][0] == amw.id
        assert amw.urn in group.dependencies
        if len(group.inputs["scopes"]) > 1:
            assert group.inputs["scopes"][1] == cluster.id
            assert group.inputs["clusterName"] == cluster.inputs["resourceName"]
        for rule in group.inputs["rules"]:
            records.add(rule.get("record"))
            if rule.get("alert"):
                assert rule["actions"] == [{"actionGroupId": action_group.id}]
    # Series AKS's managed-Prometheus dashboards query (Learn: default recording rules).
    assert {
        "instance:node_cpu_utilisation:rate5m",
        "instance:node_memory_utilisation:ratio",
        "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
        "node_namespace_pod_container:container_memory_working_set_bytes",
        "namespace_workload_pod:kube_pod_owner:relabel",
        "cluster:node_cpu:ratio_rate5m",
    } <= records


@pytest.mark.parametrize("stack", STACKS)
def test_stack_grafana_reads_prometheus_and_admin_groups_administer_it(stack_runs, stack) -> None:
    run = stack_runs[stack]
    grafana = _one(run, GRAFANA)
    amw = _one(run, AMW)
    integrations = grafana.inputs["properties"]["grafanaIntegrations"]
    assert integrations["azureMonitorWorkspaceIntegrations"] == [
        {"azureMonitorWorkspaceResourceId": amw.id}
    ]
    roles = run.of_type(ROLE)
    # Grafana's grant (KEDA's reader identities, workflows' and serving's, have their own).
    (reader,) = [
        r
        for r in roles
        if r.inputs["roleDefinitionId"].endswith(MONITORING_DATA_READER)
        and r.inputs["principalId"] == grafana.outputs["identity"]["principalId"]
    ]
    assert reader.inputs["scope"] == amw.id
    admins = [r for r in roles if r.inputs["roleDefinitionId"].endswith(GRAFANA_ADMIN)]
    groups = stack_values(stack)["aks-mlops:cluster"]["adminGroupObjectIds"]
    assert sorted(a.inputs["principalId"] for a in admins) == sorted(groups)
    assert {(a.inputs["scope"], a.inputs["principalType"]) for a in admins} == {
        (grafana.id, "Group")
    }


@pytest.mark.parametrize("stack", STACKS)
def test_stack_diagnostic_settings_cover_control_plane_vault_database_and_blobs(
    stack_runs, stack
) -> None:
    run = stack_runs[stack]
    workspace = _one(run, WORKSPACE)
    settings = {r.inputs["resourceUri"]: r for r in run.of_type(DIAG)}
    by_type = {uri.split("/providers/", 1)[1].rsplit("/", 1)[0]: s for uri, s in settings.items()}
    categories = {typ: [log["category"] for log in s.inputs["logs"]] for typ, s in by_type.items()}
    configured = stack_values(stack)["aks-mlops:monitoring"].get("diagnostics") or {}
    expected_aks = configured.get("aksCategories") or DEFAULT_AKS_CATEGORIES
    assert categories["Microsoft.ContainerService/managedClusters"] == expected_aks
    assert categories["Microsoft.KeyVault/vaults"] == ["AuditEvent"]
    assert "PostgreSQLLogs" in categories["Microsoft.DBforPostgreSQL/flexibleServers"]
    # Storage logs are emitted by the blob service, not by the account.
    blob_type = next(t for t in categories if t.endswith("/blobServices"))
    assert blob_type.startswith("Microsoft.Storage/storageAccounts/")
    assert categories[blob_type] == ["StorageRead", "StorageWrite", "StorageDelete"]
    for setting in settings.values():
        assert setting.inputs["workspaceId"] == workspace.id
        assert workspace.urn in setting.dependencies


def test_stack_prod_keeps_logs_longer_and_grafana_private(stack_runs) -> None:
    run = stack_runs["prod"]
    for stateful in (_one(run, WORKSPACE), _one(run, AMW)):
        assert (stateful.protect, stateful.retain_on_delete) == (True, True)
    assert _one(stack_runs["dev"], WORKSPACE).protect is False
    workspace = _one(run, WORKSPACE).inputs
    assert workspace["retentionInDays"] == 365
    assert workspace["workspaceCapping"]["dailyQuotaGb"] == -1
    grafana = _one(run, GRAFANA)
    assert grafana.inputs["properties"]["publicNetworkAccess"] == "Disabled"
    assert grafana.inputs["properties"]["zoneRedundancy"] == "Enabled"
    (pep,) = [
        p
        for p in run.of_type("azure-native:network:PrivateEndpoint")
        if p.inputs["privateLinkServiceConnections"][0]["groupIds"] == ["grafana"]
    ]
    assert pep.inputs["privateLinkServiceConnections"][0]["privateLinkServiceId"] == grafana.id
    links = [
        r
        for r in run.of_type("azure-native:privatedns:VirtualNetworkLink")
        if r.inputs["privateZoneName"] == "privatelink.grafana.azure.com"
    ]
    runners = stack_values("prod")["aks-mlops:network"]["peerings"]["runners"]
    assert runners in {link.inputs["virtualNetwork"]["id"] for link in links}


def test_stack_dev_caps_ingestion_and_collects_less(stack_runs) -> None:
    run = stack_runs["dev"]
    assert _one(run, WORKSPACE).inputs["workspaceCapping"]["dailyQuotaGb"] == 1
    (ci_rule,) = [
        r
        for r in run.of_type(DCR)
        if r.inputs["dataFlows"][0]["streams"] == ["Microsoft-ContainerInsights-Group-Default"]
    ]
    settings = ci_rule.inputs["dataSources"]["extensions"][0]["extensionSettings"]
    assert settings["dataCollectionSettings"]["interval"] == "5m"
    assert settings["dataCollectionSettings"]["namespaceFilteringMode"] == "Exclude"
    assert _one(run, GRAFANA).inputs["properties"]["publicNetworkAccess"] == "Enabled"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_action_group_receivers_come_from_config(stack_runs, stack) -> None:
    group = _one(stack_runs[stack], ACTION_GROUP).inputs
    configured = stack_values(stack)["aks-mlops:monitoring"]["actionGroup"]
    assert {r["name"]: r["emailAddress"] for r in group["emailReceivers"]} == configured["emails"]
    assert {r["name"]: r["serviceUri"] for r in group.get("webhookReceivers") or []} == (
        configured.get("webhooks") or {}
    )
    assert len(group["groupShortName"]) <= 12
    assert all(r["useCommonAlertSchema"] for r in group["emailReceivers"])


@pytest.mark.parametrize("stack", STACKS)
def test_stack_provisions_one_dashboard_per_json_file(stack_runs, stack) -> None:
    run = stack_runs[stack]
    files = (
        sorted(p.stem for p in (ROOT / "dashboards").glob("*.json"))
        if (Path(ROOT / "dashboards").is_dir())
        else []
    )
    boards = run.of_type("grafana:oss/dashboard:Dashboard")
    assert len(boards) == len(files)
    providers = run.of_type("pulumi:providers:grafana")
    assert len(providers) == (1 if files else 0)
    for board in boards:
        assert board.provider.startswith(providers[0].urn)
