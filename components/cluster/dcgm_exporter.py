"""DcgmExporter: NVIDIA DCGM exporter on the GPU nodes, scraped by managed Prometheus.

Creates a ``gpu-telemetry`` namespace (Pod Security "privileged": the exporter reads the
kubelet's pod-resources socket through a host path, to label each GPU with the pod using it),
a DaemonSet on exactly the AKS-driver GPU nodes (``accelerator=nvidia``, ``gpu-driver=install``
— the nodes the device plugin serves; pools whose driver the GPU Operator installs get the
Operator's own exporter), tolerating the GPU taint and AKS's spot taint, and a PodMonitor in the
``azmonitoring.coreos.com/v1`` group that ``ama-metrics`` (managed Prometheus's collector)
reads.

Why a PodMonitor and not the ``ama-metrics-prometheus-config`` ConfigMap: the scrape job is a
Kubernetes object beside the DaemonSet it scrapes, created, validated and deleted with it, and
selects pods by label; the custom scrape ConfigMap is a single kube-system object shared by
every job of the cluster (another team's job would be overwritten by ours) carrying a raw
Prometheus config string that no schema checks before ``ama-metrics`` rejects it at run time.
https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-crd

The exporter runs as root because the pod-resources socket is root-owned, with every capability
dropped: without ``SYS_ADMIN`` only the profiling fields (``DCGM_FI_PROF_*``) are skipped, and the
platform's alerts and dashboards use none of them (``DCGM_FI_DEV_*`` only).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.node_pools import GPU_DRIVER_LABEL
from components.kit import kubernetes as kube

# NVIDIA's published tag for DCGM 4.5.3 / exporter 4.8.2 (the release's own manifest uses it).
DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
NAMESPACE = "gpu-telemetry"
APP = "dcgm-exporter"
METRICS_PORT = 9400
POD_RESOURCES_DIR = "/var/lib/kubelet/pod-resources"
GPU_TAINT_KEY = "nvidia.com/gpu"
PODMONITOR_API = "azmonitoring.coreos.com/v1"
# AKS names VMSS nodes aks-<pool>-<id>-vmss<n>: the scrape derives the pool label from it,
# because a pod's scrape metadata has the node's name but not the node's labels.
AKS_NODE_POOL_REGEX = "aks-([a-z0-9]+)-.+"
# ama-metrics drops series whose labels exceed its limits unless the monitor sets them
# (values from the Learn page's templates).
LABEL_LIMIT = 63
LABEL_NAME_LENGTH_LIMIT = 511
LABEL_VALUE_LENGTH_LIMIT = 1023


_ROOT_REASON = (
    "reads the kubelet's root-owned pod-resources socket to label each GPU with the pod using "
    "it, so it runs as root: all capabilities dropped, no privilege escalation, read-only host "
    "path and root filesystem"
)
CHECKOV_SKIPS = {"CKV_K8S_23": _ROOT_REASON, "CKV_K8S_40": _ROOT_REASON}
"""Checkov waivers on the DaemonSet (its root user; the image digest waiver comes from
``kube.workload_metadata`` while the image is pinned by tag)."""


@dataclass(frozen=True, kw_only=True)
class DcgmExporterArgs:
    """Inputs of :class:`DcgmExporter`."""

    image: str = DCGM_EXPORTER_IMAGE
    """Pinned exporter image."""
    namespace: str = NAMESPACE
    """Namespace of the DaemonSet and its PodMonitor."""
    scrape_interval_seconds: int = 30
    """How often managed Prometheus scrapes each exporter."""
    cpu_request: str = "100m"
    """CPU request per node."""
    cpu_limit: str = "500m"
    """CPU limit per node."""
    memory_request: str = "128Mi"
    """Memory request per node."""
    memory_limit: str = "512Mi"
    """Memory limit per node (DCGM's host engine grows with the number of GPUs)."""


class DcgmExporter(pulumi.ComponentResource):
    """DCGM exporter DaemonSet on the GPU nodes and its managed-Prometheus PodMonitor."""

    namespace: pulumi.Output[str]
    """Namespace of the exporter."""

    def __init__(
        self, name: str, args: DcgmExporterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workloads:DcgmExporter", name, None, opts)
        namespace = kube.create_node_agent_namespace(
            f"{name}-namespace", args.namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        labels = kube.app_labels(APP, "gpu-telemetry")
        self._create_daemonset(name, args, labels, in_namespace)
        self._create_pod_monitor(name, args, labels, in_namespace)
        self.namespace = namespace.metadata.apply(lambda m: m.name or args.namespace)
        self.register_outputs({"namespace": self.namespace})

    @staticmethod
    def _create_daemonset(
        name: str, args: DcgmExporterArgs, labels: dict[str, str], opts: pulumi.ResourceOptions
    ) -> k8s.apps.v1.DaemonSet:
        on_gpu_nodes = k8s.core.v1.NodeSelectorTermArgs(
            match_expressions=[
                k8s.core.v1.NodeSelectorRequirementArgs(
                    key="accelerator", operator="In", values=["nvidia"]
                ),
                k8s.core.v1.NodeSelectorRequirementArgs(
                    key=GPU_DRIVER_LABEL, operator="In", values=["install"]
                ),
            ]
        )
        container = k8s.core.v1.ContainerArgs(
            name=APP,
            image=args.image,
            image_pull_policy=kube.IMAGE_PULL_POLICY,
            env=[
                k8s.core.v1.EnvVarArgs(name="DCGM_EXPORTER_LISTEN", value=f":{METRICS_PORT}"),
                # Label each GPU's series with the pod, namespace and container using it.
                k8s.core.v1.EnvVarArgs(name="DCGM_EXPORTER_KUBERNETES", value="true"),
                # The exporter requests no nvidia.com/gpu (it would take a GPU from the
                # workloads); the NVIDIA runtime still exposes every GPU to it with this.
                k8s.core.v1.EnvVarArgs(name="NVIDIA_VISIBLE_DEVICES", value="all"),
                k8s.core.v1.EnvVarArgs(
                    name="NODE_NAME",
                    value_from=k8s.core.v1.EnvVarSourceArgs(
                        field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="spec.nodeName")
                    ),
                ),
            ],
            ports=[
                k8s.core.v1.ContainerPortArgs(
                    name="metrics", container_port=METRICS_PORT, protocol="TCP"
                )
            ],
            security_context=k8s.core.v1.SecurityContextArgs(
                run_as_user=0,
                run_as_non_root=False,
                allow_privilege_escalation=False,
                privileged=False,
                # It writes nothing but its logs (stderr) and scratch under /tmp (emptyDir).
                read_only_root_filesystem=True,
                capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            resources=kube.resources(
                cpu_request=args.cpu_request,
                memory_request=args.memory_request,
                cpu_limit=args.cpu_limit,
                memory_limit=args.memory_limit,
            ),
            readiness_probe=kube.http_probe("/health", "metrics", period=15),
            liveness_probe=kube.http_probe("/health", "metrics", period=30, failures=5),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(
                    name="pod-resources", mount_path=POD_RESOURCES_DIR, read_only=True
                ),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            ],
        )
        return k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata=kube.workload_metadata(
                name=APP,
                namespace=args.namespace,
                labels=labels,
                images=[args.image],
                skips=CHECKOV_SKIPS,
                annotations={
                    "policy.aks-mlops.io/k8s-containers-non-root-with-limits": (
                        "reads the kubelet's root-owned pod-resources socket to label each GPU "
                        "with the pod using it, so it runs as root (all capabilities dropped, "
                        "no privilege escalation, read-only host path)"
                    )
                },
            ),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        priority_class_name="system-node-critical",
                        automount_service_account_token=False,
                        # Root (see CHECKOV_SKIPS), under the runtime's default syscall filter.
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
                        ),
                        affinity=k8s.core.v1.AffinityArgs(
                            node_affinity=k8s.core.v1.NodeAffinityArgs(
                                required_during_scheduling_ignored_during_execution=(
                                    k8s.core.v1.NodeSelectorArgs(node_selector_terms=[on_gpu_nodes])
                                )
                            )
                        ),
                        tolerations=[
                            k8s.core.v1.TolerationArgs(
                                key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                            ),
                            k8s.core.v1.TolerationArgs(
                                key=kube.SPOT_TAINT_KEY,
                                operator="Equal",
                                value="spot",
                                effect="NoSchedule",
                            ),
                        ],
                        containers=[container],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="pod-resources",
                                host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                                    path=POD_RESOURCES_DIR, type="Directory"
                                ),
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="tmp",
                                empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi"),
                            ),
                        ],
                    ),
                ),
            ),
            opts=opts,
        )

    @staticmethod
    def _create_pod_monitor(
        name: str, args: DcgmExporterArgs, labels: dict[str, str], opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{name}-podmonitor",
            api_version=PODMONITOR_API,
            kind="PodMonitor",
            metadata={"name": APP, "namespace": args.namespace, "labels": kube.part_of_labels()},
            spec={
                "labelLimit": LABEL_LIMIT,
                "labelNameLengthLimit": LABEL_NAME_LENGTH_LIMIT,
                "labelValueLengthLimit": LABEL_VALUE_LENGTH_LIMIT,
                "selector": {"matchLabels": labels},
                "namespaceSelector": {"matchNames": [args.namespace]},
                "podMetricsEndpoints": [
                    {
                        "port": "metrics",
                        "path": "/metrics",
                        "interval": f"{args.scrape_interval_seconds}s",
                        # Keep the exporter's pod/namespace/container labels: they name the
                        # workload using the GPU, not the exporter pod.
                        "honorLabels": True,
                        "relabelings": [
                            {
                                "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                "targetLabel": "node",
                                "action": "replace",
                            },
                            {
                                "sourceLabels": ["__meta_kubernetes_pod_node_name"],
                                "regex": AKS_NODE_POOL_REGEX,
                                "replacement": "$1",
                                "targetLabel": "pool",
                                "action": "replace",
                            },
                        ],
                    }
                ],
            },
            opts=opts,
        )
