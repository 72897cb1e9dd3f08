"""GPU pools take zones per pool (including none), else the cluster's zones."""

from __future__ import annotations

from infra.config import parse_config
from offline.runner import run_program
from tests.conftest import encode, stack_values

POOL = "azure-native:containerservice:AgentPool"


def test_gpu_pool_zones_per_pool_none_or_cluster_default() -> None:
    values = stack_values("prod")
    values["aks-mlops:gpuPools"][0]["zones"] = []
    values["aks-mlops:gpuPools"][1]["zones"] = ["2"]
    run = run_program("prod", encode(values))
    pools = {p.inputs["agentPoolName"]: p.inputs for p in run.of_type(POOL)}
    # [] pins no zone: the property is absent, Azure places the nodes.
    assert "availabilityZones" not in pools["gpua100"]
    assert pools["gpumig"]["availabilityZones"] == ["2"]
    # Unset: the cluster's zones.
    assert pools["cpu"]["availabilityZones"] == ["1", "2", "3"]


def test_gpu_pool_azure_linux_is_accepted_on_a_t4_size() -> None:
    values = stack_values("dev")
    values["aks-mlops:gpuPools"][0]["osSku"] = "AzureLinux"
    cfg = parse_config(encode(values))
    assert cfg.gpu_pools[0].os_sku == "AzureLinux"
