"""Ordering Azure needs on a first `pulumi up`, asserted on the recorded dependency graph."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import STACKS, stack_values

POOL = "azure-native:containerservice:AgentPool"


@pytest.mark.parametrize("stack", STACKS)
def test_order_node_pools_are_created_one_after_another(stack_runs, stack: str) -> None:
    # AKS allows one agent-pool operation per cluster at a time: CPU pool first, then each
    # GPU pool in config order, each waiting for the previous one.
    run = stack_runs[stack]
    pools = run.of_type(POOL)
    values = stack_values(stack)
    expected = [values["aks-mlops:cpuPool"]["name"]]
    expected += [p["name"] for p in values["aks-mlops:gpuPools"]]
    by_name = {p.inputs["agentPoolName"]: p for p in pools}
    assert sorted(by_name) == sorted(expected)
    chain = [by_name[name] for name in expected]
    for earlier, later in itertools.pairwise(chain):
        assert earlier.urn in later.dependencies, (earlier.name, later.name)
    assert not any(p.urn in chain[0].dependencies for p in chain[1:])


K8S_PROVIDER = "pulumi:providers:kubernetes"
PEERING = "azure-native:network:VirtualNetworkPeering"
DNS_LINK = "azure-native:privatedns:VirtualNetworkLink"


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_order_kubernetes_provider_waits_for_peerings_and_api_dns_links(
    stack_runs, stack: str
) -> None:
    # A runner in the peered VNet resolves the private API server through the cluster's
    # private DNS zone: the link and both peering directions must exist before the provider
    # (and everything applied through it) is used.
    run = stack_runs[stack]
    (provider,) = run.of_type(K8S_PROVIDER)
    peerings = run.of_type(PEERING)
    api_links = [r for r in run.of_type(DNS_LINK) if "-api-dns-" in r.name]
    assert len(peerings) == 2, [p.name for p in peerings]
    assert len(api_links) == 1, [r.name for r in run.of_type(DNS_LINK)]
    for needed in [*peerings, *api_links]:
        assert needed.urn in provider.dependencies, needed.name


MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"


@pytest.mark.parametrize("stack", STACKS)
def test_order_every_stack_ships_maintenance_windows_for_both_channels(
    stack_runs, stack: str
) -> None:
    configs = {r.inputs["configName"]: r.inputs for r in stack_runs[stack].of_type(MAINTENANCE)}
    assert set(configs) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    for window in (c["maintenanceWindow"] for c in configs.values()):
        # AKS: "use a maintenance window with a duration of four hours or more".
        assert window["durationHours"] >= 4
        assert window["schedule"]["weekly"]["dayOfWeek"] in {"Saturday", "Sunday"}
