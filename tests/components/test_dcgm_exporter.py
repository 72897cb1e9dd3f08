"""DcgmExporter: a DaemonSet on the AKS-driver GPU nodes and its ama-metrics PodMonitor."""

from __future__ import annotations

import re
from typing import Any

from components.cluster.dcgm_exporter import DcgmExporter, DcgmExporterArgs
from tests.manifests.crds import validate_pod_monitor

DS = "kubernetes:apps/v1:DaemonSet"
PODMONITOR = "kubernetes:azmonitoring.coreos.com/v1:PodMonitor"


def _run(run_components) -> tuple[dict[str, Any], dict[str, Any]]:
    run = run_components(lambda: DcgmExporter("gpu-telemetry", DcgmExporterArgs()))
    (ds,) = run.of_type(DS)
    (monitor,) = run.of_type(PODMONITOR)
    return ds.inputs, monitor.inputs


def test_dcgm_exporter_selects_gpu_nodes_and_tolerates_gpu_and_spot_taints(
    run_components,
) -> None:
    ds, _ = _run(run_components)
    pod = ds["spec"]["template"]["spec"]
    (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert {e["key"]: e["values"] for e in term["matchExpressions"]} == {
        "accelerator": ["nvidia"],
        "gpu-driver": ["install"],
    }
    # Taints from the node pools (nvidia.com/gpu=present) and AKS's spot taint
    # (https://learn.microsoft.com/azure/aks/spot-node-pool).
    assert {(t["key"], t.get("value"), t["effect"]) for t in pod["tolerations"]} == {
        ("nvidia.com/gpu", None, "NoSchedule"),
        ("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule"),
    }
    # A toleration with a value tolerates only with operator Equal (Kubernetes semantics).
    assert {t["key"]: t["operator"] for t in pod["tolerations"]} == {
        "nvidia.com/gpu": "Exists",
        "kubernetes.azure.com/scalesetpriority": "Equal",
    }


def test_dcgm_exporter_image_pinned_with_limits_and_no_capabilities(run_components) -> None:
    ds, _ = _run(run_components)
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    # The exporter's documented settings (dcgm-exporter README): listen address, Kubernetes
    # pod attribution, every GPU visible, and the node it runs on.
    assert container["env"] == [
        {"name": "DCGM_EXPORTER_LISTEN", "value": ":9400"},
        {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
        {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
    ]
    assert re.fullmatch(
        r"nvcr\.io/nvidia/k8s/dcgm-exporter:\d+\.\d+\.\d+-\d+\.\d+\.\d+-[a-z0-9.]+",
        container["image"],
    )
    assert set(container["resources"]) == {"requests", "limits"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["allowPrivilegeEscalation"] is False
    assert security["privileged"] is False
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {"pod-resources", "tmp"}
    assert mounts["pod-resources"]["readOnly"] is True
    # The kubelet's pod-resources API socket lives here (Kubernetes docs, "Node metrics data":
    # /var/lib/kubelet/pod-resources), mounted at the same path the exporter reads.
    assert mounts["pod-resources"]["mountPath"] == "/var/lib/kubelet/pod-resources"
    assert mounts["tmp"]["mountPath"] == "/tmp"  # the scratch the read-only root needs
    volumes = {v["name"]: v for v in ds["spec"]["template"]["spec"]["volumes"]}
    assert volumes["pod-resources"]["hostPath"] == {
        "path": "/var/lib/kubelet/pod-resources",
        "type": "Directory",
    }
    # A read-only root filesystem; scratch goes to a size-limited emptyDir.
    assert security["readOnlyRootFilesystem"] is True
    assert container["imagePullPolicy"] == "Always"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_dcgm_exporter_pod_monitor_uses_azure_group_and_scrapes_the_named_port(
    run_components,
) -> None:
    ds, monitor = _run(run_components)
    # https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-crd
    assert monitor["apiVersion"] == "azmonitoring.coreos.com/v1"
    validate_pod_monitor(monitor)
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    assert endpoint["port"] in {p["name"] for p in container["ports"]}
    assert monitor["spec"]["selector"]["matchLabels"] == ds["spec"]["selector"]["matchLabels"]
    assert monitor["spec"]["labelLimit"] == 63


def test_dcgm_exporter_pod_monitor_derives_pool_from_aks_node_name(run_components) -> None:
    _, monitor = _run(run_components)
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    pool = next(r for r in endpoint["relabelings"] if r["targetLabel"] == "pool")
    # AKS VMSS node names: aks-<pool>-<id>-vmss<instance> (e.g. `kubectl get nodes` on Learn).
    match = re.fullmatch(pool["regex"], "aks-gpua100-12345678-vmss000001")
    assert match is not None
    assert pool["replacement"].replace("$1", match.group(1)) == "gpua100"
    assert re.fullmatch(pool["regex"], "gpu-node-1") is None


def test_dcgm_exporter_states_why_it_runs_as_root(run_components) -> None:
    ds, _ = _run(run_components)
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    reason = ds["metadata"]["annotations"][
        "policy.aks-mlops.io/k8s-containers-non-root-with-limits"
    ]

    assert container["securityContext"]["runAsUser"] == 0
    assert "pod-resources" in reason
