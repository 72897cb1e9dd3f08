"""Cross-object semantics over the real program: who lands on which node pool, and tags.

Scheduling is checked the way Kubernetes decides it, not by looking for expected strings:
- a pool's nodes carry its ``nodeTaints`` plus the spot taint AKS adds to spot pools, and its
  ``nodeLabels`` plus the labels AKS adds;
- a DaemonSet *selects* a pool when its ``nodeSelector`` and required node affinity match the
  pool's labels, *tolerates* it when its tolerations match every NoSchedule/NoExecute taint
  (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/), and *lands*
  on it when both hold.
Every DaemonSet is covered, so one added later (a DCGM exporter, a log agent) is checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from offline.runner import OfflineRun
from tests.conftest import STACKS
from tests.stacks.test_wiring import plain_config
from tests.unit.test_well_known_values import GPU_TAINT_KEY, SPOT_TAINT

DAEMONSET = "kubernetes:apps/v1:DaemonSet"
# NVIDIA's device plugin image (https://github.com/NVIDIA/k8s-device-plugin).
DEVICE_PLUGIN_REPOSITORY = "nvidia/k8s-device-plugin"


# --- Kubernetes semantics -------------------------------------------------------------------


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    @staticmethod
    def parse(text: str) -> Taint:
        """``key=value:Effect`` or ``key:Effect`` (AKS nodeTaints syntax)."""
        key_value, effect = text.rsplit(":", 1)
        key, _, value = key_value.partition("=")
        return Taint(key, value, effect)


def tolerates(toleration: dict[str, Any], taint: Taint) -> bool:
    """One toleration against one taint, as the scheduler matches them."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.effect:
        return False
    operator = toleration.get("operator") or "Equal"
    key = toleration.get("key") or ""
    if not key:
        # An empty key with Exists tolerates every taint; with Equal it is invalid.
        return operator == "Exists"
    if key != taint.key:
        return False
    if operator == "Exists":
        return True
    return (toleration.get("value") or "") == taint.value


def tolerates_all(tolerations: list[dict[str, Any]], taints: list[Taint]) -> bool:
    """Every taint that keeps pods off (NoSchedule, NoExecute) is tolerated by some toleration."""
    return all(
        any(tolerates(t, taint) for t in tolerations)
        for taint in taints
        if taint.effect in ("NoSchedule", "NoExecute")
    )


def _expression_matches(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator, values = expr["key"], expr["operator"], expr.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):
        if key not in labels:
            return False
        left, right = int(labels[key]), int(values[0])
        return left > right if operator == "Gt" else left < right
    raise ValueError(f"unknown node selector operator {operator}")


def selects(pod_spec: dict[str, Any], labels: dict[str, str]) -> bool:
    """``nodeSelector`` AND required node affinity (terms ORed, expressions ANDed)."""
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    return any(
        all(_expression_matches(e, labels) for e in term.get("matchExpressions") or [])
        for term in terms
    )


# --- the pools and DaemonSets of a run ------------------------------------------------------


@dataclass
class Pool:
    name: str
    labels: dict[str, str]
    taints: list[Taint]
    gpu_driver: str | None = None
    """``Install`` / ``None`` for GPU pools (gpuProfile.driver), None for CPU pools."""
    mig: bool = False
    spot: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def pools_of(run: OfflineRun) -> list[Pool]:
    """Every node pool with the labels and taints its nodes will have."""
    (cluster,) = run.of_type("azure-native:containerservice:ManagedCluster")
    profiles = [(p["name"], p) for p in cluster.inputs["agentPoolProfiles"]]
    profiles += [
        (r.inputs["agentPoolName"], r.inputs)
        for r in run.of_type("azure-native:containerservice:AgentPool")
    ]
    pools = []
    for name, p in profiles:
        spot = p.get("scaleSetPriority") == "Spot"
        # AKS labels every node with its pool, and spot nodes with their priority.
        labels = {"kubernetes.azure.com/agentpool": name, **(p.get("nodeLabels") or {})}
        taints = [Taint.parse(t) for t in p.get("nodeTaints") or []]
        if spot:
            labels["kubernetes.azure.com/scalesetpriority"] = "spot"
            taints.append(Taint.parse(SPOT_TAINT))
        pools.append(
            Pool(
                name=name,
                labels=labels,
                taints=taints,
                gpu_driver=(p.get("gpuProfile") or {}).get("driver"),
                mig=bool(p.get("gpuInstanceProfile")),
                spot=spot,
                raw=p,
            )
        )
    return pools


def pod_spec(ds: Any) -> dict[str, Any]:
    spec: dict[str, Any] = ds.inputs["spec"]["template"]["spec"]
    return spec


def lands(ds: Any, pool: Pool) -> bool:
    spec = pod_spec(ds)
    return selects(spec, pool.labels) and tolerates_all(spec.get("tolerations") or [], pool.taints)


def is_device_plugin(ds: Any) -> bool:
    # Pulled through the stack registry's cache: <registry>/nvcr/nvidia/k8s-device-plugin:<tag>.
    return any(
        re.search(rf"/{DEVICE_PLUGIN_REPOSITORY}:", c["image"]) for c in pod_spec(ds)["containers"]
    )


def is_gpu_pool(pool: Pool) -> bool:
    return any(t.key == GPU_TAINT_KEY for t in pool.taints)


# --- tests of the matcher itself (it decides what the stack tests below mean) ---------------

GPU = Taint("nvidia.com/gpu", "present", "NoSchedule")
SPOT = Taint.parse(SPOT_TAINT)


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        ({"operator": "Exists"}, GPU, True),
        ({"operator": "Exists"}, SPOT, True),
        ({"key": "", "operator": "Equal"}, GPU, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, GPU, True),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, GPU, True),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, GPU, False),
        ({"key": "nvidia.com/gpu", "value": "present"}, GPU, True),
        ({"key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}, GPU, False),
        ({"key": "nvidia.com/gpu", "operator": "Equal"}, GPU, False),
        ({"key": "sku", "operator": "Exists"}, GPU, False),
        ({"key": "kubernetes.azure.com/scalesetpriority", "value": "spot"}, SPOT, True),
    ],
)
def test_semantics_toleration_matching(
    toleration: dict[str, Any], taint: Taint, expected: bool
) -> None:
    assert tolerates(toleration, taint) is expected


def test_semantics_prefer_no_schedule_never_blocks() -> None:
    assert tolerates_all([], [Taint("a", "b", "PreferNoSchedule")])
    assert not tolerates_all([], [GPU])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, True),
        ({"nodeSelector": {"pool": "gpu"}}, True),
        ({"nodeSelector": {"pool": "cpu"}}, False),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "x", "operator": "Exists"}]},
                                {
                                    "matchExpressions": [
                                        {"key": "pool", "operator": "In", "values": ["gpu"]}
                                    ]
                                },
                            ]
                        }
                    }
                }
            },
            True,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "pool", "operator": "NotIn", "values": ["gpu"]},
                                        {"key": "n", "operator": "Gt", "values": ["1"]},
                                    ]
                                }
                            ]
                        }
                    }
                }
            },
            False,
        ),
    ],
)
def test_semantics_node_selection(spec: dict[str, Any], expected: bool) -> None:
    assert selects(spec, {"pool": "gpu", "n": "3", "gpu-model": "t4"}) is expected


# --- the real program -----------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_daemonset_tolerates_every_pool_it_selects(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    daemonsets = run.of_type(DAEMONSET)
    assert daemonsets, f"{stack}: no DaemonSet at all"
    for ds in daemonsets:
        for pool in pools_of(run):
            if selects(pod_spec(ds), pool.labels):
                assert tolerates_all(pod_spec(ds).get("tolerations") or [], pool.taints), (
                    f"{stack}: {ds.name} selects pool {pool.name} but does not tolerate "
                    f"{[t for t in pool.taints]}"
                )


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_exactly_one_device_plugin_lands_on_each_aks_driver_gpu_pool(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    plugins = [ds for ds in run.of_type(DAEMONSET) if is_device_plugin(ds)]
    gpu_pools = [p for p in pools_of(run) if is_gpu_pool(p)]
    assert gpu_pools
    assert plugins
    for pool in pools_of(run):
        landing = [ds.name for ds in plugins if lands(ds, pool)]
        expected = 1 if is_gpu_pool(pool) and pool.gpu_driver == "Install" else 0
        assert len(landing) == expected, f"{stack}: pool {pool.name} gets {landing}"


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_spot_gpu_pools_keep_their_device_plugin(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    """AKS's spot taint on top of the GPU taint: the plugin still lands (dev's T4 pool)."""
    run = stack_runs[stack]
    spot_gpu = [p for p in pools_of(run) if p.spot and is_gpu_pool(p)]
    spot_in_file = any(g.get("spot") for g in plain_config(stack).get("gpuPools") or [])
    assert bool(spot_gpu) == spot_in_file
    for pool in spot_gpu:
        assert any(lands(ds, pool) for ds in run.of_type(DAEMONSET) if is_device_plugin(ds))


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_no_daemonset_spills_from_gpu_pools_onto_other_pools(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    """A DaemonSet that tolerates GPU taints is meant for GPU nodes: it lands on no CPU pool,
    and one that lands on no GPU pool tolerates no GPU taint it does not need."""
    run = stack_runs[stack]
    pools = pools_of(run)
    for ds in run.of_type(DAEMONSET):
        on_gpu = [p.name for p in pools if is_gpu_pool(p) and lands(ds, p)]
        on_cpu = [p.name for p in pools if not is_gpu_pool(p) and lands(ds, p)]
        if on_gpu:
            assert not on_cpu, f"{stack}: {ds.name} runs on GPU pools {on_gpu} and on {on_cpu}"


def test_semantics_mig_and_whole_gpu_plugins_split_the_prod_pools(
    stack_runs: dict[str, OfflineRun],
) -> None:
    run = stack_runs["prod"]
    by_pool = {
        pool.name: sorted(
            ds.inputs["metadata"]["name"]
            for ds in run.of_type(DAEMONSET)
            if is_device_plugin(ds) and lands(ds, pool)
        )
        for pool in pools_of(run)
    }
    gpu_pools = {g["name"]: g for g in plain_config("prod")["gpuPools"]}
    for name, gpu in gpu_pools.items():
        (plugin,) = by_pool[name]
        env = next(
            {e["name"]: e["value"] for e in c["env"]}
            for ds in run.of_type(DAEMONSET)
            if ds.inputs["metadata"]["name"] == plugin
            for c in pod_spec(ds)["containers"]
        )
        assert env["MIG_STRATEGY"] == ("single" if gpu.get("migProfile") else "none"), name


# --- tags -----------------------------------------------------------------------------------

# azure-native resource types that accept `tags` (ARM tracked resources and the few proxy
# resources that take tags), written out. New types join this list when the program adds them;
# test_semantics_taggable_list_is_complete fails until they do.
TAGGABLE = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:PrivateEndpoint",
        "azure-native:network:NatGateway",
        "azure-native:network:PublicIPAddress",
        "azure-native:network:RouteTable",
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:containerregistry:Registry",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Secret",
        "azure-native:dbforpostgresql:Server",
        "azure-native:operationalinsights:Workspace",
        "azure-native:monitor:AzureMonitorWorkspace",
        "azure-native:monitor:DataCollectionEndpoint",
        "azure-native:monitor:DataCollectionRule",
        "azure-native:monitor:ActionGroup",
        "azure-native:alertsmanagement:PrometheusRuleGroup",
        "azure-native:dashboard:Grafana",
    }
)
REQUIRED_TAGS = ("environment", "owner", "workload", "managed-by")


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_taggable_resource_carries_the_required_tags(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    expected = plain_config(stack)["tags"]
    taggable = [r for r in stack_runs[stack].resources if r.type in TAGGABLE]
    assert len(taggable) >= 10
    for r in taggable:
        tags = r.inputs.get("tags")
        assert tags, f"{stack}: {r.type} {r.name} has no tags at all"
        assert all(tags.get(k) for k in REQUIRED_TAGS), f"{stack}: {r.name} {tags}"
        assert tags["managed-by"] == "pulumi"
        for key in ("environment", "owner", "workload"):
            assert tags[key] == expected[key], f"{stack}: {r.name} {key}"


def _accepts_tags(typ: str) -> bool:
    import importlib  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    _, module, name = typ.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return "tags" in inspect.signature(cls._internal_init).parameters


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_taggable_list_is_complete(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    """Every azure-native type the program registers that takes tags is in TAGGABLE."""
    types = {r.type for r in stack_runs[stack].resources if r.type.startswith("azure-native:")}
    missing = sorted(t for t in types - TAGGABLE if _accepts_tags(t))
    assert not missing, f"add to TAGGABLE (and tag them): {missing}"
