"""NvidiaDevicePlugin: one DaemonSet per MIG mode, on exactly the AKS-driver GPU nodes."""

from __future__ import annotations

from typing import Any

from components.cluster.device_plugin import (
    NvidiaDevicePlugin,
    NvidiaDevicePluginArgs,
)
from tests.unit.test_well_known_values import DEVICE_PLUGIN_HOST_PATH

DS = "kubernetes:apps/v1:DaemonSet"


def _daemonsets(run_components, **kwargs: bool) -> dict[str, dict[str, Any]]:
    run = run_components(lambda: NvidiaDevicePlugin("dp", NvidiaDevicePluginArgs(**kwargs)))
    return {r.inputs["metadata"]["name"]: r.inputs for r in run.of_type(DS)}


def _env(ds: dict[str, Any]) -> dict[str, str]:
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


def _expressions(ds: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    affinity = ds["spec"]["template"]["spec"]["affinity"]["nodeAffinity"]
    (term,) = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    return {e["key"]: (e["operator"], e.get("values", [])) for e in term["matchExpressions"]}


def test_device_plugin_whole_gpu_daemonset_skips_mig_nodes(run_components) -> None:
    sets = _daemonsets(run_components, whole_gpu_pools=True, mig_pools=False)
    assert set(sets) == {"nvidia-device-plugin"}
    ds = sets["nvidia-device-plugin"]
    assert _env(ds)["MIG_STRATEGY"] == "none"
    assert _expressions(ds) == {
        "accelerator": ("In", ["nvidia"]),
        "gpu-driver": ("In", ["install"]),
        "gpu-mig-profile": ("DoesNotExist", []),
    }


def test_device_plugin_mig_daemonset_uses_single_strategy(run_components) -> None:
    sets = _daemonsets(run_components, whole_gpu_pools=False, mig_pools=True)
    assert set(sets) == {"nvidia-device-plugin-mig"}
    ds = sets["nvidia-device-plugin-mig"]
    assert _env(ds)["MIG_STRATEGY"] == "single"
    assert _expressions(ds)["gpu-mig-profile"] == ("Exists", [])


def test_device_plugin_tolerates_gpu_and_spot_taints_and_mounts_kubelet_dir(
    run_components,
) -> None:
    ds = _daemonsets(run_components)["nvidia-device-plugin"]
    pod = ds["spec"]["template"]["spec"]
    assert {t["key"] for t in pod["tolerations"]} == {
        "nvidia.com/gpu",
        "kubernetes.azure.com/scalesetpriority",
    }
    assert pod["priorityClassName"] == "system-node-critical"
    (volume,) = pod["volumes"]
    assert volume["hostPath"]["path"] == DEVICE_PLUGIN_HOST_PATH
    (container,) = pod["containers"]
    assert container["image"].startswith("nvcr.io/nvidia/k8s-device-plugin:v")
    assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_device_plugin_namespace_allows_the_host_path(run_components) -> None:
    run = run_components(lambda: NvidiaDevicePlugin("dp", NvidiaDevicePluginArgs()))
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
