"""Per-stack network shape: subnets' service endpoints and sizes, egress."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from offline.runner import OfflineRun, run_program
from tests.conftest import STACKS, encode, stack_values

VNET = "azure-native:network:VirtualNetwork"
PG_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
API_DELEGATION = "Microsoft.ContainerService/managedClusters"


def _subnets_by_delegation(run: OfflineRun) -> dict[str, dict]:
    (vnet,) = run.of_type(VNET)
    out: dict[str, dict] = {}
    for subnet in vnet.inputs["subnets"]:
        for delegation in subnet.get("delegations") or []:
            out[delegation["serviceName"]] = subnet
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_network_postgres_subnet_has_the_storage_service_endpoint(stack_runs, stack: str) -> None:
    # HA and WAL archival of a VNet-integrated flexible server write to Azure Storage.
    subnet = _subnets_by_delegation(stack_runs[stack])[PG_DELEGATION]
    assert subnet["serviceEndpoints"] == [{"service": "Microsoft.Storage"}]


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_network_api_server_subnet_is_a_slash_27(stack_runs, stack: str) -> None:
    subnet = _subnets_by_delegation(stack_runs[stack])[API_DELEGATION]
    assert IPv4Network(subnet["addressPrefix"]).prefixlen == 27
    assert "serviceEndpoints" not in subnet


AKS = "azure-native:containerservice:ManagedCluster"
NAT = "azure-native:network:NatGateway"
ROUTES = "azure-native:network:RouteTable"
ROLE = "azure-native:authorization:RoleAssignment"


def _egress_run(stack: str, egress: dict) -> OfflineRun:
    values = stack_values(stack)
    values["aks-mlops:network"]["egress"] = egress
    return run_program(stack, encode(values))


def test_network_nat_gateway_egress_exists_before_the_cluster() -> None:
    run = _egress_run("dev", {"type": "natGateway"})
    (cluster,) = run.of_type(AKS)
    (nat,) = run.of_type(NAT)
    # AKS outbound type for a NAT gateway already on the subnet
    # (https://learn.microsoft.com/azure/aks/nat-gateway).
    assert cluster.inputs["networkProfile"]["outboundType"] == "userAssignedNATGateway"
    assert nat.urn in cluster.dependencies
    for pool in run.of_type("azure-native:containerservice:AgentPool"):
        assert nat.urn in pool.dependencies, pool.name


def test_network_user_defined_routing_exists_and_is_granted_before_the_cluster() -> None:
    run = _egress_run("prod", {"type": "userDefinedRouting", "firewallPrivateIp": "10.0.1.4"})
    (cluster,) = run.of_type(AKS)
    (table,) = run.of_type(ROUTES)
    assert cluster.inputs["networkProfile"]["outboundType"] == "userDefinedRouting"
    assert table.inputs["routes"][0]["nextHopIpAddress"] == "10.0.1.4"
    assert table.urn in cluster.dependencies
    (grant,) = [r for r in run.of_type(ROLE) if r.inputs["scope"] == table.id]
    assert grant.urn in cluster.dependencies
    assert run.of_type(NAT) == []


@pytest.mark.parametrize("stack", STACKS)
def test_network_shipped_stacks_keep_the_load_balancer_egress(stack_runs, stack: str) -> None:
    run = stack_runs[stack]
    (cluster,) = run.of_type(AKS)
    assert cluster.inputs["networkProfile"]["outboundType"] == "loadBalancer"
    assert run.of_type(NAT) == run.of_type(ROUTES) == []
