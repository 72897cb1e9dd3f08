"""AksCluster: the secure defaults and API-server exposure the platform promises."""

from __future__ import annotations

from typing import Any

import pytest

from components.cluster.aks import AksCluster, AksClusterArgs, SystemPoolSpec
from components.cluster.maintenance import MaintenanceWindowSpec
from tests.components.helpers import (
    ADMIN_GROUP,
    API_SUBNET_ID,
    NODES_SUBNET_ID,
    RG,
    TENANT,
    VNET_ID,
)
from tests.unit.test_well_known_values import ROLE_IDS, SYSTEM_POOL_TAINT


def _args(**overrides: object) -> AksClusterArgs:
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "cluster_name": "aks-unit",
        "dns_prefix": "aks-unit",
        "node_resource_group": "rg-unit-nodes",
        "identity_name": "id-unit-aks",
        "kubernetes_version": "1.36",
        "sku_tier": "Standard",
        "tenant_id": TENANT,
        "admin_group_object_ids": [ADMIN_GROUP],
        "system_pool": SystemPoolSpec(
            name="system", vm_size="Standard_D4ds_v5", min_count=2, max_count=3
        ),
        "vnet_resource_id": VNET_ID,
        "node_subnet_resource_id": NODES_SUBNET_ID,
        "pod_cidr": "10.244.0.0/16",
        "service_cidr": "172.16.0.0/16",
        "dns_service_ip": "172.16.0.10",
        "zones": ["1", "2", "3"],
        "private_cluster_enabled": True,
        "api_server_subnet_resource_id": API_SUBNET_ID,
    }
    base.update(overrides)
    return AksClusterArgs(**base)  # type: ignore[arg-type]


def _cluster(run_components, **overrides: object) -> dict[str, Any]:
    run = run_components(lambda: AksCluster("aks", _args(**overrides)))
    return run.named("aks-cluster").inputs


def test_aks_identity_and_access_are_entra_only(run_components) -> None:
    c = _cluster(run_components)
    assert c["disableLocalAccounts"] is True
    assert c["enableRBAC"] is True
    assert c["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "tenantID": TENANT,
        "adminGroupObjectIDs": [ADMIN_GROUP],
    }
    assert c["oidcIssuerProfile"] == {"enabled": True}
    assert c["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert c["identity"]["type"] == "UserAssigned"


def test_aks_private_cluster_uses_vnet_integration_and_no_public_fqdn(run_components) -> None:
    api = _cluster(run_components)["apiServerAccessProfile"]
    assert api["enablePrivateCluster"] is True
    assert api["enablePrivateClusterPublicFQDN"] is False
    assert api["enableVnetIntegration"] is True
    assert api["subnetId"] == API_SUBNET_ID
    assert "authorizedIPRanges" not in api


def test_aks_public_cluster_is_limited_to_authorized_ranges(run_components) -> None:
    api = _cluster(
        run_components,
        private_cluster_enabled=False,
        authorized_ip_ranges=["203.0.113.0/24"],
        api_server_subnet_resource_id=None,
    )["apiServerAccessProfile"]
    assert api["enablePrivateCluster"] is False
    assert api["authorizedIPRanges"] == ["203.0.113.0/24"]
    assert "enableVnetIntegration" not in api


def test_aks_network_is_overlay_with_cilium_policy(run_components) -> None:
    net = _cluster(run_components)["networkProfile"]
    assert net["networkPlugin"] == "azure"
    assert net["networkPluginMode"] == "overlay"
    assert net["networkDataplane"] == "cilium"
    assert net["networkPolicy"] == "cilium"
    assert net["podCidr"] == "10.244.0.0/16"
    assert net["dnsServiceIP"] == "172.16.0.10"


def test_aks_platform_addons_are_enabled(run_components) -> None:
    c = _cluster(run_components)
    assert c["workloadAutoScalerProfile"]["keda"] == {"enabled": True}
    assert c["azureMonitorProfile"]["metrics"]["enabled"] is True
    assert c["addonProfiles"]["azurepolicy"]["enabled"] is True
    kv = c["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert kv["enabled"] is True
    assert kv["config"]["enableSecretRotation"] == "true"
    assert c["securityProfile"]["imageCleaner"]["enabled"] is True
    assert c["autoUpgradeProfile"] == {
        "upgradeChannel": "patch",
        "nodeOSUpgradeChannel": "NodeImage",
    }
    assert c["sku"] == {"name": "Base", "tier": "Standard"}


def test_aks_system_pool_is_tainted_for_critical_addons_only(run_components) -> None:
    cluster = _cluster(run_components)
    assert cluster["nodeResourceGroup"] == "rg-unit-nodes"
    pool = cluster["agentPoolProfiles"][0]
    assert pool["mode"] == "System"
    assert (pool["name"], pool["vmSize"]) == ("system", "Standard_D4ds_v5")
    assert pool["type"] == "VirtualMachineScaleSets"
    assert pool["enableAutoScaling"] is True
    assert pool["nodeTaints"] == [SYSTEM_POOL_TAINT]
    assert pool["availabilityZones"] == ["1", "2", "3"]
    assert (pool["minCount"], pool["maxCount"]) == (2, 3)
    assert pool["vnetSubnetID"] == NODES_SUBNET_ID


def test_aks_control_plane_identity_gets_network_contributor_before_cluster(run_components) -> None:
    run = run_components(lambda: AksCluster("aks", _args()))
    grant = run.named("aks-identity-network-contributor")
    assert grant.inputs["scope"] == VNET_ID
    assert grant.inputs["roleDefinitionId"].endswith(ROLE_IDS["Network Contributor"])
    assert grant.inputs["principalType"] == "ServicePrincipal"
    assert grant.urn in run.named("aks-cluster").dependencies


def test_aks_minor_upgrade_channel_ignores_the_configured_version(run_components) -> None:
    def ignored(channel: str) -> list[str]:
        run = run_components(lambda: AksCluster("aks", _args(upgrade_channel=channel)))
        return run.named("aks-cluster").ignore_changes

    # The whole list: the autoscaler always owns the system pool's count; the minor channels
    # also own the versions.
    versions = ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]
    for channel in ("stable", "rapid"):
        assert ignored(channel) == ["agentPoolProfiles[0].count", *versions], channel
    for channel in ("patch", "node-image", "none"):
        assert ignored(channel) == ["agentPoolProfiles[0].count"], channel


RUNNERS_VNET = (
    "/subscriptions/00000000-0000-4000-8000-000000000009/resourceGroups/rg-runners/providers/"
    "Microsoft.Network/virtualNetworks/vnet-runners"
)


def test_aks_private_zone_is_linked_to_runner_vnets(run_components) -> None:
    run = run_components(
        lambda: AksCluster(
            "aks", _args(private_dns_link_vnet_resource_ids={"runners": RUNNERS_VNET})
        )
    )
    link = run.named("aks-api-dns-runners")
    fqdn = run.named("aks-cluster").outputs["privateFQDN"]
    assert link.inputs["privateZoneName"] == fqdn.split(".", 1)[1]
    assert link.inputs["privateZoneName"].endswith(".privatelink.westeurope.azmk8s.io")
    assert link.inputs["resourceGroupName"] == "rg-unit-nodes"
    assert link.inputs["virtualNetwork"]["id"] == RUNNERS_VNET
    assert link.inputs["registrationEnabled"] is False
    # Private DNS zones and their links are global resources.
    assert link.inputs["location"] == "global"
    assert run.named("aks-cluster").urn in link.dependencies


def test_aks_public_cluster_links_no_private_zone(run_components) -> None:
    run = run_components(
        lambda: AksCluster(
            "aks",
            _args(
                private_cluster_enabled=False,
                authorized_ip_ranges=["203.0.113.0/24"],
                api_server_subnet_resource_id=None,
                private_dns_link_vnet_resource_ids={"runners": RUNNERS_VNET},
            ),
        )
    )
    assert run.of_type("azure-native:privatedns:VirtualNetworkLink") == []


WORKSPACE_ID = (
    f"/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/{RG}/providers/"
    "Microsoft.OperationalInsights/workspaces/log-unit"
)


def test_aks_container_insights_addon_uses_entra_auth_when_given_a_workspace(
    run_components,
) -> None:
    c = _cluster(run_components, log_analytics_workspace_resource_id=WORKSPACE_ID)
    # Add-on name and config keys as in Azure's managed-identity onboarding template
    # (https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable).
    assert c["addonProfiles"]["omsagent"] == {
        "enabled": True,
        "config": {"logAnalyticsWorkspaceResourceID": WORKSPACE_ID, "useAADAuth": "true"},
    }


def test_aks_container_insights_addon_absent_without_a_workspace(run_components) -> None:
    c = _cluster(run_components)
    assert "omsagent" not in c["addonProfiles"]


def test_aks_defender_sensor_reports_into_the_workspace(run_components) -> None:
    c = _cluster(
        run_components, log_analytics_workspace_resource_id=WORKSPACE_ID, defender_enabled=True
    )
    # https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update#managedclustersecurityprofiledefender
    assert c["securityProfile"]["defender"] == {
        "logAnalyticsWorkspaceResourceId": WORKSPACE_ID,
        "securityMonitoring": {"enabled": True},
    }
    assert c["securityProfile"]["workloadIdentity"] == {"enabled": True}


def test_aks_defender_off_by_default(run_components) -> None:
    c = _cluster(run_components, log_analytics_workspace_resource_id=WORKSPACE_ID)
    assert "defender" not in c["securityProfile"]


def test_aks_defender_needs_a_workspace() -> None:
    with pytest.raises(ValueError, match="defender_enabled needs log_analytics_workspace"):
        AksCluster._security(_args(defender_enabled=True))


MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"


def test_aks_maintenance_windows_per_upgrade_channel(run_components) -> None:
    windows = {
        # Configuration names from https://learn.microsoft.com/azure/aks/planned-maintenance
        "aksManagedAutoUpgradeSchedule": MaintenanceWindowSpec(
            schedule="Weekly",
            interval=2,
            day_of_week="Sunday",
            start_time="01:00",
            duration_hours=4,
            utc_offset="+01:00",
            not_allowed_dates=[("2026-12-20", "2027-01-04")],
        ),
        "aksManagedNodeOSUpgradeSchedule": MaintenanceWindowSpec(
            schedule="AbsoluteMonthly",
            interval=1,
            day_of_month=15,
            start_time="05:30",
            duration_hours=6,
        ),
    }
    run = run_components(lambda: AksCluster("aks", _args(maintenance_windows=windows)))
    configs = {r.inputs["configName"]: r for r in run.of_type(MAINTENANCE)}
    assert set(configs) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    cluster = run.named("aks-cluster")
    auto = configs["aksManagedAutoUpgradeSchedule"]
    assert auto.inputs["resourceName"] == "aks-unit"
    assert cluster.urn in auto.dependencies
    assert auto.inputs["maintenanceWindow"] == {
        "schedule": {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 2}},
        "durationHours": 4,
        "startTime": "01:00",
        "utcOffset": "+01:00",
        "notAllowedDates": [{"start": "2026-12-20", "end": "2027-01-04"}],
    }
    node_os = configs["aksManagedNodeOSUpgradeSchedule"].inputs["maintenanceWindow"]
    assert node_os["schedule"] == {"absoluteMonthly": {"dayOfMonth": 15, "intervalMonths": 1}}
    assert (node_os["startTime"], node_os["durationHours"]) == ("05:30", 6)


def test_aks_no_maintenance_configuration_by_default(run_components) -> None:
    run = run_components(lambda: AksCluster("aks", _args()))
    assert run.of_type(MAINTENANCE) == []


# Network Contributor, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/networking
NETWORK_CONTRIBUTOR_ID = "4d97b98b-1d4f-4787-a291-c67834d212e7"
ROUTE_TABLE_ID = (
    f"{VNET_ID.split('/providers/')[0]}/providers/Microsoft.Network/routeTables/rt-unit"
)


def test_aks_user_defined_routing_grants_the_route_table_before_the_cluster(
    run_components,
) -> None:
    run = run_components(
        lambda: AksCluster(
            "aks",
            _args(outbound_type="userDefinedRouting", route_table_resource_id=ROUTE_TABLE_ID),
        )
    )
    cluster = run.named("aks-cluster")
    assert cluster.inputs["networkProfile"]["outboundType"] == "userDefinedRouting"
    grants = [
        r
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["scope"] == ROUTE_TABLE_ID
    ]
    assert len(grants) == 1
    assert grants[0].inputs["roleDefinitionId"].endswith(NETWORK_CONTRIBUTOR_ID)
    assert grants[0].urn in cluster.dependencies
    # Both grants, not only the route table's: the VNet's comes first too.
    assert run.named("aks-identity-network-contributor").urn in cluster.dependencies


def test_aks_default_outbound_is_the_load_balancer(run_components) -> None:
    assert _cluster(run_components)["networkProfile"]["outboundType"] == "loadBalancer"


def test_aks_ai_toolchain_operator_enabled_when_llm_asked(run_components) -> None:
    c = _cluster(run_components, ai_toolchain_operator_enabled=True)

    # https://learn.microsoft.com/azure/aks/ai-toolchain-operator: the add-on is the
    # managed cluster's aiToolchainOperatorProfile; it needs the OIDC issuer and workload
    # identity, which every cluster here has.
    assert c["aiToolchainOperatorProfile"] == {"enabled": True}
    assert c["oidcIssuerProfile"] == {"enabled": True}
    assert c["securityProfile"]["workloadIdentity"] == {"enabled": True}


def test_aks_app_routing_internal_when_serving_ingress_asked(run_components) -> None:
    c = _cluster(run_components, app_routing_internal_enabled=True)

    # https://learn.microsoft.com/azure/aks/app-routing: "Internal" makes the default NGINX
    # controller's load balancer internal (and overrides annotations that would not).
    assert c["ingressProfile"] == {
        "webAppRouting": {"enabled": True, "nginx": {"defaultIngressControllerType": "Internal"}}
    }


def test_aks_llm_and_app_routing_absent_by_default(run_components) -> None:
    c = _cluster(run_components)

    assert "aiToolchainOperatorProfile" not in c
    assert "ingressProfile" not in c
