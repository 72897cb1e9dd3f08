"""NodePool: one AKS user pool (CPU or NVIDIA GPU) as its own AgentPool resource.

GPU pools get the taint ``nvidia.com/gpu=present:NoSchedule`` (only pods that tolerate it
land there), labels ``accelerator=nvidia`` and ``gpu-model=<model>``, autoscaling that may
start at zero, the NVIDIA driver setting and an optional MIG profile. Spot pools use
eviction ``Delete`` and max price -1 (pay up to on-demand, never evicted for price); AKS adds
the taint ``kubernetes.azure.com/scalesetpriority=spot:NoSchedule`` itself.

AKS runs one agent-pool operation per cluster at a time ("Another agentpool operation ... is
in progress"), so the caller chains pools: ``opts.depends_on`` is applied to the AgentPool
itself (a component's ``depends_on`` does not reach its children).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerservice as cs

GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
GPU_DRIVER_LABEL = "gpu-driver"
"""``install`` (AKS installed the driver: the platform runs the device plugin) or ``none``."""
GPU_MIG_LABEL = "gpu-mig-profile"
SPOT_MAX_PRICE_ON_DEMAND = -1.0


@dataclass(frozen=True, kw_only=True)
class NodePoolArgs:
    """Inputs of :class:`NodePool`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster."""
    cluster_name: pulumi.Input[str]
    """Name of the managed cluster."""
    pool_name: str
    """AKS pool name (1-12 lowercase alphanumerics)."""
    vm_size: str
    """VM size of the nodes."""
    min_count: int
    """Autoscaler minimum (0 allowed for user pools)."""
    max_count: int
    """Autoscaler maximum."""
    node_subnet_resource_id: pulumi.Input[str]
    """Subnet of the nodes."""
    zones: Sequence[str] = ()
    """Availability zones (empty: regional)."""
    spot_enabled: bool = False
    """Spot VMs (evicted when Azure needs the capacity)."""
    gpu_enabled: bool = False
    """Taint and label the pool as an NVIDIA GPU pool."""
    gpu_model: str | None = None
    """GPU model for the ``gpu-model`` label (GPU pools)."""
    gpu_driver: str = "Install"
    """``Install`` (AKS installs the NVIDIA driver) or ``None`` (GPU Operator does)."""
    mig_profile: str | None = None
    """MIG instance profile (``MIG1g`` .. ``MIG7g``) on MIG-capable sizes."""
    os_sku: str = "AzureLinux"
    """Node OS."""
    os_disk_size_gb: int | None = None
    """OS disk size; None for the size's default."""
    max_pods: int = 110
    """Pods per node."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra node labels."""
    orchestrator_version: str | None = None
    """Kubernetes version of the pool; None follows the cluster."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the pool's VMSS."""


class NodePool(pulumi.ComponentResource):
    """One user node pool."""

    name: pulumi.Output[str]
    """Name of the pool."""
    resource_id: pulumi.Output[str]
    """Resource id of the pool."""

    def __init__(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:aks:NodePool", name, None, opts)
        labels = {"pool": args.pool_name, **args.labels}
        taints: list[str] = []
        if args.gpu_enabled:
            taints.append(GPU_TAINT)
            labels |= {
                "accelerator": "nvidia",
                "gpu-model": args.gpu_model or "unknown",
                GPU_DRIVER_LABEL: args.gpu_driver.lower(),
            }
            if args.mig_profile:
                labels[GPU_MIG_LABEL] = args.mig_profile
        if args.spot_enabled:
            labels["capacity"] = "spot"
        pool = cs.AgentPool(
            f"{name}-pool",
            agent_pool_name=args.pool_name,
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            mode="User",
            os_type="Linux",
            os_sku=args.os_sku,
            vm_size=args.vm_size,
            os_disk_size_gb=args.os_disk_size_gb,
            max_pods=args.max_pods,
            enable_auto_scaling=True,
            min_count=args.min_count,
            max_count=args.max_count,
            count=args.min_count,
            availability_zones=list(args.zones) or None,
            vnet_subnet_id=args.node_subnet_resource_id,
            orchestrator_version=args.orchestrator_version,
            node_labels=labels,
            node_taints=taints or None,
            scale_set_priority="Spot" if args.spot_enabled else "Regular",
            scale_set_eviction_policy="Delete" if args.spot_enabled else None,
            spot_max_price=SPOT_MAX_PRICE_ON_DEMAND if args.spot_enabled else None,
            gpu_profile=cs.GPUProfileArgs(driver=args.gpu_driver) if args.gpu_enabled else None,
            gpu_instance_profile=args.mig_profile,
            # Surge is not possible for spot pools; regular pools surge one node at a time
            # so a GPU quota of N+1 is enough to upgrade.
            upgrade_settings=None
            if args.spot_enabled
            else cs.AgentPoolUpgradeSettingsArgs(max_surge="1"),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["count"],
                depends_on=opts.depends_on if opts else None,
            ),
        )
        self.name = pool.name
        self.resource_id = pool.id
        self.register_outputs({"name": self.name, "resource_id": self.resource_id})
