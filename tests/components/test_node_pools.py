"""NodePool: GPU taints and labels, scale from zero, spot, MIG."""

from __future__ import annotations

from typing import Any

from components.cluster.node_pools import NodePool, NodePoolArgs
from tests.components.helpers import NODES_SUBNET_ID, RG
from tests.unit.test_well_known_values import GPU_TAINT


def _pool(run_components, **overrides: object) -> dict[str, Any]:
    base: dict[str, object] = {
        "resource_group_name": RG,
        "cluster_name": "aks-unit",
        "pool_name": "gpu",
        "vm_size": "Standard_NC24ads_A100_v4",
        "min_count": 0,
        "max_count": 2,
        "node_subnet_resource_id": NODES_SUBNET_ID,
        "zones": ["1"],
    }
    base.update(overrides)
    run = run_components(lambda: NodePool("p", NodePoolArgs(**base)))  # type: ignore[arg-type]
    return run.named("p-pool").inputs


def test_node_pool_gpu_is_tainted_labelled_and_scales_from_zero(run_components) -> None:
    p = _pool(run_components, gpu_enabled=True, gpu_model="a100-80gb")
    assert p["nodeTaints"] == [GPU_TAINT]
    assert p["nodeLabels"]["accelerator"] == "nvidia"
    assert p["nodeLabels"]["gpu-model"] == "a100-80gb"
    assert p["nodeLabels"]["gpu-driver"] == "install"
    assert p["mode"] == "User"
    assert p["osType"] == "Linux"  # the API's enum value, exact case
    assert p["enableAutoScaling"] is True
    assert (p["minCount"], p["maxCount"], p["count"]) == (0, 2, 0)
    assert p["gpuProfile"] == {"driver": "Install"}
    assert p["resourceName"] == "aks-unit"


def test_node_pool_spot_uses_delete_eviction_and_on_demand_cap(run_components) -> None:
    p = _pool(run_components, gpu_enabled=True, spot_enabled=True)
    assert p["scaleSetPriority"] == "Spot"
    assert p["scaleSetEvictionPolicy"] == "Delete"
    assert p["spotMaxPrice"] == -1
    assert p["nodeLabels"]["capacity"] == "spot"
    assert "upgradeSettings" not in p


def test_node_pool_mig_profile_is_set_and_labelled(run_components) -> None:
    p = _pool(run_components, gpu_enabled=True, mig_profile="MIG3g")
    assert p["gpuInstanceProfile"] == "MIG3g"
    assert p["nodeLabels"]["gpu-mig-profile"] == "MIG3g"


def test_node_pool_cpu_has_no_taint_and_regular_priority(run_components) -> None:
    p = _pool(run_components, pool_name="cpu", vm_size="Standard_D4ds_v5", min_count=1)
    assert "nodeTaints" not in p
    assert "gpuProfile" not in p
    assert "accelerator" not in p["nodeLabels"]
    assert p["scaleSetPriority"] == "Regular"


def test_node_pool_gpu_operator_mode_skips_driver_install(run_components) -> None:
    p = _pool(run_components, gpu_enabled=True, gpu_driver="None")
    assert p["gpuProfile"] == {"driver": "None"}
    assert p["nodeLabels"]["gpu-driver"] == "none"
