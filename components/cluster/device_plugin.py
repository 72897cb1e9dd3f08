"""NvidiaDevicePlugin: makes the GPU pools' GPUs schedulable (`nvidia.com/gpu`).

AKS's ``gpuProfile.driver: Install`` puts the NVIDIA driver on the nodes but does not run the
device plugin, so without it no node advertises ``nvidia.com/gpu`` and GPU pods stay Pending
(https://learn.microsoft.com/azure/aks/use-nvidia-gpu). Pools with ``gpuDriver: None`` are
left to the NVIDIA GPU Operator, which brings its own plugin.

Creates a ``gpu-resources`` namespace (Pod Security "privileged": the plugin registers a socket
under the kubelet's host path), a NetworkPolicy denying all ingress to it, and one DaemonSet per
MIG mode:
- whole GPUs: nodes labelled ``accelerator=nvidia``, ``gpu-driver=install`` without a MIG
  profile, ``MIG_STRATEGY=none``;
- MIG pools: the same nodes with ``gpu-mig-profile``, ``MIG_STRATEGY=single`` (each node has
  one profile, exposed as ``nvidia.com/gpu``; https://learn.microsoft.com/azure/aks/gpu-multi-instance).
Both tolerate the GPU taint and AKS's spot taint, and run at ``system-node-critical`` priority.
Only the MIG DaemonSet gets ``NVIDIA_MIG_MONITOR_DEVICES=all`` and ``SYS_ADMIN`` (see
:func:`_container_security`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.node_pools import GPU_DRIVER_LABEL, GPU_MIG_LABEL
from components.kit import kubernetes as kube

DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.18.0"
NAMESPACE = "gpu-resources"
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
GPU_TAINT_KEY = "nvidia.com/gpu"
# Checkov checks the plugin cannot pass, waived on each DaemonSet (components/kit/checkov.py).
_ROOT_REASON = (
    "registers its socket in the kubelet's root-owned host directory "
    "/var/lib/kubelet/device-plugins, which needs root (namespace is Pod Security privileged)"
)
_PROBE_REASON = (
    "the plugin serves no health endpoint; the kubelet drops its GPUs when the registration "
    "socket goes and the DaemonSet restarts a plugin that exits"
)
CHECKOV_SKIPS = {
    "CKV_K8S_8": _PROBE_REASON,
    "CKV_K8S_9": _PROBE_REASON,
    "CKV_K8S_23": _ROOT_REASON,
    "CKV_K8S_40": _ROOT_REASON,
}
_MIG_REASON = (
    "reading MIG monitor devices needs CAP_SYS_ADMIN (AKS MIG guide; NVIDIA's chart adds it for "
    "every MIG strategy but none); Kubernetes refuses allowPrivilegeEscalation false with it"
)
MIG_CHECKOV_SKIPS = {
    **CHECKOV_SKIPS,
    "CKV_K8S_20": _MIG_REASON,
    "CKV_K8S_25": _MIG_REASON,
    "CKV_K8S_39": _MIG_REASON,
}


@dataclass(frozen=True, kw_only=True)
class NvidiaDevicePluginArgs:
    """Inputs of :class:`NvidiaDevicePlugin`."""

    image: str = DEVICE_PLUGIN_IMAGE
    """Pinned device plugin image."""
    namespace: str = NAMESPACE
    """Namespace of the DaemonSets."""
    whole_gpu_pools: bool = True
    """Some pool exposes whole GPUs (no MIG profile)."""
    mig_pools: bool = False
    """Some pool is MIG-partitioned."""


class NvidiaDevicePlugin(pulumi.ComponentResource):
    """NVIDIA device plugin DaemonSets for the AKS-driver GPU pools."""

    namespace: pulumi.Output[str]
    """Namespace of the DaemonSets."""

    def __init__(
        self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workloads:NvidiaDevicePlugin", name, None, opts)
        namespace = kube.create_node_agent_namespace(
            f"{name}-namespace", args.namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        if args.whole_gpu_pools:
            self._daemonset(f"{name}-whole", args, mig=False, opts=in_namespace)
        if args.mig_pools:
            self._daemonset(f"{name}-mig", args, mig=True, opts=in_namespace)
        # The plugin talks to the kubelet over a unix socket; nothing may connect to its pods.
        kube.create_ingress_policy(
            f"{name}-deny-ingress",
            namespace=args.namespace,
            policy_name="deny-all-ingress",
            pod_labels={},
            ports=[],
            from_namespaces=[],
            opts=in_namespace,
        )
        self.namespace = namespace.metadata.apply(lambda m: m.name or args.namespace)
        self.register_outputs({"namespace": self.namespace})

    @staticmethod
    def _daemonset(
        name: str, args: NvidiaDevicePluginArgs, *, mig: bool, opts: pulumi.ResourceOptions
    ) -> k8s.apps.v1.DaemonSet:
        app = "nvidia-device-plugin-mig" if mig else "nvidia-device-plugin"
        labels = kube.app_labels(app, "device-plugin")
        terms = [
            k8s.core.v1.NodeSelectorRequirementArgs(
                key="accelerator", operator="In", values=["nvidia"]
            ),
            k8s.core.v1.NodeSelectorRequirementArgs(
                key=GPU_DRIVER_LABEL, operator="In", values=["install"]
            ),
            k8s.core.v1.NodeSelectorRequirementArgs(
                key=GPU_MIG_LABEL, operator="Exists" if mig else "DoesNotExist"
            ),
        ]
        return k8s.apps.v1.DaemonSet(
            name,
            metadata=kube.workload_metadata(
                name=app,
                namespace=args.namespace,
                labels=labels,
                images=[args.image],
                skips=MIG_CHECKOV_SKIPS if mig else CHECKOV_SKIPS,
                annotations={
                    "policy.aks-mlops.io/k8s-containers-non-root-with-limits": (
                        "registers its socket in the kubelet's root-owned device-plugins host "
                        "directory, so it runs as root (all capabilities dropped, no "
                        "privilege escalation)"
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
                        # Root (see CHECKOV_SKIPS), but the runtime's default syscall filter:
                        # NVML talks to the driver through ioctl, which it allows.
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
                        ),
                        affinity=k8s.core.v1.AffinityArgs(
                            node_affinity=k8s.core.v1.NodeAffinityArgs(
                                required_during_scheduling_ignored_during_execution=(
                                    k8s.core.v1.NodeSelectorArgs(
                                        node_selector_terms=[
                                            k8s.core.v1.NodeSelectorTermArgs(
                                                match_expressions=terms
                                            )
                                        ]
                                    )
                                )
                            )
                        ),
                        tolerations=[
                            k8s.core.v1.TolerationArgs(
                                key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                            ),
                            k8s.core.v1.TolerationArgs(
                                key=kube.SPOT_TAINT_KEY, operator="Exists", effect="NoSchedule"
                            ),
                        ],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="nvidia-device-plugin",
                                image=args.image,
                                image_pull_policy=kube.IMAGE_PULL_POLICY,
                                env=kube.env_vars(_env(mig=mig)),
                                security_context=_container_security(mig=mig),
                                resources=kube.resources(
                                    cpu_request="50m",
                                    memory_request="64Mi",
                                    cpu_limit="200m",
                                    memory_limit="256Mi",
                                ),
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(
                                        name="device-plugins", mount_path=DEVICE_PLUGIN_DIR
                                    ),
                                    k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                                ],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="device-plugins",
                                host_path=k8s.core.v1.HostPathVolumeSourceArgs(
                                    path=DEVICE_PLUGIN_DIR, type="Directory"
                                ),
                            ),
                            kube.scratch_volume("tmp", "64Mi"),
                        ],
                    ),
                ),
            ),
            opts=opts,
        )


def _env(*, mig: bool) -> dict[str, str]:
    env = {
        "MIG_STRATEGY": "single" if mig else "none",
        # A node whose driver is still installing must not crash-loop the plugin.
        "FAIL_ON_INIT_ERROR": "false",
    }
    if mig:
        # The NVIDIA container toolkit exposes the MIG monitor devices (which the plugin
        # reads to enumerate MIG instances) only to containers that ask for them. AKS's MIG
        # guide requires this variable in a device plugin deployed without NVIDIA's chart
        # (https://learn.microsoft.com/azure/aks/gpu-multi-instance), and the chart sets it
        # for every MIG strategy other than `none`.
        env["NVIDIA_MIG_MONITOR_DEVICES"] = "all"
    return env


def _container_security(*, mig: bool) -> k8s.core.v1.SecurityContextArgs:
    if not mig:
        # Whole GPUs: the plugin only registers a socket with the kubelet; no privilege
        # beyond the host path.
        # It writes nothing else but its logs (stderr, or /tmp as a fallback).
        return k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        )
    # MIG: reading the MIG monitor devices needs CAP_SYS_ADMIN (the container toolkit refuses
    # to mount them otherwise); NVIDIA's k8s-device-plugin chart adds SYS_ADMIN whenever the
    # MIG strategy is not `none`. Everything else stays dropped. Kubernetes rejects
    # allowPrivilegeEscalation=false together with SYS_ADMIN, so it is left unset here.
    return k8s.core.v1.SecurityContextArgs(
        read_only_root_filesystem=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"], add=["SYS_ADMIN"]),
    )
