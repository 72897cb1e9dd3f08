"""Per-stack invariants of the foundation (network, cluster, pools, registry).

The real program runs for each stack file under the mock runtime; these assertions are on
the inputs each resource would be created with.
"""

from __future__ import annotations

import pytest

from infra.config import ConfigError
from offline.runner import OfflineMocks, OfflineRun, RecordingMonitor, run_program
from tests.conftest import STACKS, encode, stack_values
from tests.unit.test_well_known_values import GPU_TAINT, ROLE_IDS

AKS = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
ACR = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"


def _cluster(run: OfflineRun):
    (cluster,) = run.of_type(AKS)
    return cluster


def _gpu_pools(run: OfflineRun):
    # A GPU pool is one on an N-series size (not: whatever the product's size table says).
    return [p for p in run.of_type(POOL) if p.inputs["vmSize"].startswith("Standard_N")]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_gpu_pools_are_tainted_and_scale_from_zero(stack_runs, stack: str) -> None:
    pools = _gpu_pools(stack_runs[stack])
    assert pools, f"{stack} declares no GPU pool"
    for pool in pools:
        assert GPU_TAINT in pool.inputs["nodeTaints"], pool.name
        assert pool.inputs["minCount"] == 0, pool.name
        assert pool.inputs["enableAutoScaling"] is True
        assert pool.inputs["nodeLabels"]["accelerator"] == "nvidia"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_cluster_is_entra_only_with_workload_identity(stack_runs, stack: str) -> None:
    c = _cluster(stack_runs[stack]).inputs
    assert c["disableLocalAccounts"] is True
    assert c["aadProfile"]["enableAzureRBAC"] is True
    assert c["securityProfile"]["workloadIdentity"]["enabled"] is True
    assert c["oidcIssuerProfile"]["enabled"] is True
    assert "0.0.0.0/0" not in (c["apiServerAccessProfile"].get("authorizedIPRanges") or [])


@pytest.mark.parametrize("stack", STACKS)
def test_stack_registry_has_no_admin_user_and_kubelet_can_pull(stack_runs, stack: str) -> None:
    run = stack_runs[stack]
    (registry,) = run.of_type(ACR)
    assert registry.inputs["adminUserEnabled"] is False
    kubelet = _cluster(run).outputs["identityProfile"]["kubeletidentity"]["objectId"]
    pulls = [
        r for r in run.of_type(ROLE) if r.inputs["roleDefinitionId"].endswith(ROLE_IDS["AcrPull"])
    ]
    assert [(p.inputs["principalId"], p.inputs["scope"]) for p in pulls] == [(kubelet, registry.id)]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_exports_what_a_user_needs(stack_runs, stack: str) -> None:
    out = stack_runs[stack].outputs
    cluster = _cluster(stack_runs[stack])
    assert out["clusterName"] == cluster.inputs["resourceName"]
    assert out["oidcIssuerUrl"] == cluster.outputs["oidcIssuerProfile"]["issuerURL"]
    assert out["acrLoginServer"].endswith(".azurecr.io")
    assert out["getCredentials"].startswith("az aks get-credentials --resource-group rg-")
    assert set(out["nodePools"]) == {
        p.inputs["agentPoolName"] for p in stack_runs[stack].of_type(POOL)
    }


def test_stack_dev_is_cheap(stack_runs) -> None:
    run = stack_runs["dev"]
    c = _cluster(run).inputs
    assert c["sku"]["tier"] == "Free"
    assert c["agentPoolProfiles"][0]["availabilityZones"] == ["1"]
    (gpu,) = _gpu_pools(run)
    assert gpu.inputs["vmSize"].endswith("_T4_v3")
    assert gpu.inputs["scaleSetPriority"] == "Spot"
    assert c["apiServerAccessProfile"]["enablePrivateCluster"] is False
    (registry,) = run.of_type(ACR)
    assert registry.inputs["sku"]["name"] == "Basic"


def test_stack_prod_is_private_zonal_and_protected(stack_runs) -> None:
    run = stack_runs["prod"]
    c = _cluster(run).inputs
    assert c["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert c["apiServerAccessProfile"]["enableVnetIntegration"] is True
    assert c["sku"]["tier"] == "Standard"
    assert c["agentPoolProfiles"][0]["availabilityZones"] == ["1", "2", "3"]
    gpus = {p.inputs["agentPoolName"]: p.inputs for p in _gpu_pools(run)}
    assert "A100" in gpus["gpua100"]["vmSize"]
    assert gpus["gpua100"]["scaleSetPriority"] == "Regular"
    assert gpus["gpumig"]["gpuInstanceProfile"] == "MIG1g"
    (registry,) = run.of_type(ACR)
    assert registry.inputs["sku"]["name"] == "Premium"
    assert registry.inputs["publicNetworkAccess"] == "Disabled"
    assert (registry.protect, registry.retain_on_delete) == (True, True)
    assert run.of_type("azure-native:network:PrivateEndpoint")


def test_stack_test_is_prod_shaped_but_small(stack_runs) -> None:
    c = _cluster(stack_runs["test"]).inputs
    prod = _cluster(stack_runs["prod"]).inputs
    assert c["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert len(c["agentPoolProfiles"][0]["availabilityZones"]) == 2
    assert c["agentPoolProfiles"][0]["maxCount"] < prod["agentPoolProfiles"][0]["maxCount"]


def test_stack_invalid_config_registers_no_resource() -> None:
    values = stack_values("dev")
    values["aks-mlops:gpuPools"][0]["minCount"] = 5
    monitor = RecordingMonitor(OfflineMocks())
    with pytest.raises(ConfigError, match=r"gpuPools\[0\]\.minCount \(5\)"):
        run_program("dev", encode(values), monitor=monitor)
    assert monitor.records == []


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_stack_private_api_server_is_reachable_from_the_peered_runner_vnet(
    stack_runs, stack: str
) -> None:
    run = stack_runs[stack]
    runners = stack_values(stack)["aks-mlops:network"]["peerings"]["runners"]
    (vnet,) = run.of_type("azure-native:network:VirtualNetwork")
    peerings = {
        (p.inputs["virtualNetworkName"], p.inputs["remoteVirtualNetwork"]["id"])
        for p in run.of_type("azure-native:network:VirtualNetworkPeering")
    }
    assert peerings == {
        (vnet.inputs["virtualNetworkName"], runners),
        (runners.rsplit("/", 1)[-1], vnet.id),
    }
    cluster = _cluster(run)
    zone = cluster.outputs["privateFQDN"].split(".", 1)[1]
    links = [
        link.inputs
        for link in run.of_type("azure-native:privatedns:VirtualNetworkLink")
        if link.inputs["privateZoneName"] == zone
    ]
    assert [link["virtualNetwork"]["id"] for link in links] == [runners]
    assert links[0]["resourceGroupName"] == cluster.inputs["nodeResourceGroup"]


def test_stack_dev_public_api_needs_no_peering(stack_runs) -> None:
    assert stack_runs["dev"].of_type("azure-native:network:VirtualNetworkPeering") == []
