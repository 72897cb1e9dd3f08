"""Per-stack network shape: subnets' service endpoints and sizes, egress."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from offline.runner import OfflineRun
from tests.conftest import STACKS

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
