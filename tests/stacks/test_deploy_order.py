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
