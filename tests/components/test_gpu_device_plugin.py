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
    # The whole environment: no MIG on these nodes; a node whose driver is still installing
    # must not crash-loop the plugin (the plugin's FAIL_ON_INIT_ERROR, k8s-device-plugin docs).
    assert _env(ds) == {"MIG_STRATEGY": "none", "FAIL_ON_INIT_ERROR": "false"}
    assert _expressions(ds) == {
        "accelerator": ("In", ["nvidia"]),
        "gpu-driver": ("In", ["install"]),
        "gpu-mig-profile": ("DoesNotExist", []),
    }


def test_device_plugin_mig_daemonset_uses_single_strategy(run_components) -> None:
    sets = _daemonsets(run_components, whole_gpu_pools=False, mig_pools=True)
    assert set(sets) == {"nvidia-device-plugin-mig"}
    ds = sets["nvidia-device-plugin-mig"]
    assert _env(ds) == {
        "MIG_STRATEGY": "single",
        "FAIL_ON_INIT_ERROR": "false",
        "NVIDIA_MIG_MONITOR_DEVICES": "all",
    }
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
    host_paths = [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v]
    assert host_paths == [DEVICE_PLUGIN_HOST_PATH]
    (container,) = pod["containers"]
    assert container["image"].startswith("nvcr.io/nvidia/k8s-device-plugin:v")


def test_device_plugin_runs_read_only_with_default_seccomp_and_fresh_pulls(
    run_components,
) -> None:
    for ds in _daemonsets(run_components, whole_gpu_pools=True, mig_pools=True).values():
        pod = ds["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["imagePullPolicy"] == "Always"
        assert {m["mountPath"] for m in container["volumeMounts"]} == {
            DEVICE_PLUGIN_HOST_PATH,
            "/tmp",
        }


def test_device_plugin_waives_only_root_probe_and_digest_checks_with_reasons(
    run_components,
) -> None:
    ds = _daemonsets(run_components)["nvidia-device-plugin"]
    skips = {k: v for k, v in ds["metadata"]["annotations"].items() if k.startswith("checkov.io/")}
    waivers = dict(v.split("=", 1) for v in skips.values())
    assert set(skips) == {f"checkov.io/skip{i}" for i in range(1, 6)}
    assert set(waivers) == {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_23", "CKV_K8S_40", "CKV_K8S_43"}
    assert "root" in waivers["CKV_K8S_23"]
    assert "health endpoint" in waivers["CKV_K8S_8"]


def test_device_plugin_namespace_denies_all_ingress(run_components) -> None:
    run = run_components(lambda: NvidiaDevicePlugin("dp", NvidiaDevicePluginArgs()))
    (policy,) = run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    spec = policy.inputs["spec"]
    assert policy.inputs["metadata"]["namespace"] == "gpu-resources"
    assert spec["policyTypes"] == ["Ingress"]
    assert "ingress" not in spec
    assert not spec["podSelector"].get("matchLabels")


def test_device_plugin_namespace_allows_the_host_path(run_components) -> None:
    run = run_components(lambda: NvidiaDevicePlugin("dp", NvidiaDevicePluginArgs()))
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")
    labels = namespace.inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def _security(ds: dict[str, Any]) -> dict[str, Any]:
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    return dict(container["securityContext"])


def test_device_plugin_mig_daemonset_can_see_mig_devices(run_components) -> None:
    # AKS MIG guide (https://learn.microsoft.com/azure/aks/gpu-multi-instance): a plugin
    # deployed without the chart needs NVIDIA_MIG_MONITOR_DEVICES=all; NVIDIA's chart
    # (k8s-device-plugin, templates/_helpers.tpl "requiresCapSysAdmin") adds SYS_ADMIN for
    # any MIG strategy other than none.
    ds = _daemonsets(run_components, whole_gpu_pools=True, mig_pools=True)
    mig = ds["nvidia-device-plugin-mig"]
    assert _env(mig)["NVIDIA_MIG_MONITOR_DEVICES"] == "all"
    security = _security(mig)
    assert security["capabilities"]["add"] == ["SYS_ADMIN"]
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security.get("privileged") in (None, False)


def test_device_plugin_whole_gpu_daemonset_stays_unprivileged(run_components) -> None:
    ds = _daemonsets(run_components, whole_gpu_pools=True, mig_pools=True)
    whole = ds["nvidia-device-plugin"]
    assert "NVIDIA_MIG_MONITOR_DEVICES" not in _env(whole)
    security = _security(whole)
    assert "add" not in security["capabilities"]
    assert security["allowPrivilegeEscalation"] is False
