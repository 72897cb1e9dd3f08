"""Cluster and node pool config.

Rules: Kubernetes version inside the supported window; pool names valid for AKS Linux pools
and unique; 0 <= minCount <= maxCount (system pools need >= 1 node); spot only on user pools;
GPU pools on NVIDIA N-series sizes; MIG only on MIG-capable sizes; no Azure Linux on the
A100 / H100 / H200 sizes; zones listed at most once (an empty list pins no zone); no pool on a
size with fewer than 2 vCPUs; the system pool not burstable, with 4+ vCPUs and room for 30
pods; no Premium tier (its long-term support plan excludes the KEDA add-on the platform uses).
"""

from __future__ import annotations

import re
from typing import Literal, Self
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from components.cluster.gpu_sizes import azure_linux_supported, is_nvidia_gpu_size, mig_capable
from infra.config.base import ConfigModel
from infra.config.errors import rule_error
from infra.config.maintenance import MaintenanceConfig
from infra.config.network import ApiServerConfig
from infra.config.vm_sizes import is_burstable, vcpus

# AKS Kubernetes minor versions in support on 2026-11-26 (AKS release calendar,
# https://learn.microsoft.com/azure/aks/supported-kubernetes-versions: 1.35 GA Mar 2026 /
# EOL Mar 2027, 1.36 Jun 2026 / Jun 2027, 1.37 Oct 2026 / Oct 2027; 1.34 ends Nov 2026).
# Revisit each quarter: a version leaving the window is a config error, so stacks move
# before Azure forces an upgrade.
SUPPORTED_KUBERNETES_MINORS: tuple[str, ...] = ("1.35", "1.36", "1.37")
_VERSION = re.compile(r"^(?P<minor>1\.\d{1,2})(\.\d{1,2})?$")

# AKS: Linux pool names are 1-12 lowercase alphanumerics starting with a letter.
_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
MAX_NODES_PER_POOL = 1000
# AKS sizing rules (Learn, "Quotas, virtual machine size restrictions, and region availability
# in AKS": sizes with fewer than two vCPUs may not be used; "Manage system node pools in AKS"
# (2026-04): system pools need a size with at least 4 vCPUs and 4 GB of memory, no B-series,
# and room for at least 30 pods). No non-burstable size with 4+ vCPUs has under 4 GiB, so the
# vCPU rule covers the memory rule.
MIN_POOL_VCPUS = 2
MIN_SYSTEM_POOL_VCPUS = 4
MIN_SYSTEM_POOL_MAX_PODS = 30
Zone = Literal["1", "2", "3"]


class PoolConfig(ConfigModel):
    """What every node pool has."""

    name: str
    vm_size: str
    min_count: int = Field(ge=0)
    max_count: int = Field(ge=1, le=MAX_NODES_PER_POOL)
    zones: list[Zone] | None = None
    """Availability zones; None means the cluster's zones, ``[]`` pins no zone (Azure places
    the nodes), e.g. for a GPU size that is not offered in every zone of the region."""
    os_disk_size_gb: int | None = Field(default=None, ge=30, le=2048)
    os_sku: Literal["AzureLinux", "Ubuntu"] = "AzureLinux"
    max_pods: int = Field(default=110, ge=10, le=250)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _pool_name(cls, value: str) -> str:
        if not _POOL_NAME.match(value):
            raise rule_error(
                "", value, "must be 1-12 lowercase letters or digits, starting with a letter"
            )
        return value

    @field_validator("vm_size")
    @classmethod
    def _vm_size(cls, value: str) -> str:
        if not _VM_SIZE.match(value):
            raise rule_error("", value, "must be an Azure VM size such as Standard_D4ds_v5")
        return value

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise rule_error("", value, "must not repeat a zone")
        return value

    @model_validator(mode="after")
    def _counts(self) -> Self:
        if self.min_count > self.max_count:
            raise rule_error("minCount", self.min_count, f"must be <= maxCount ({self.max_count})")
        cores = vcpus(self.vm_size)
        if cores is not None and cores < MIN_POOL_VCPUS:
            raise rule_error(
                "vmSize",
                self.vm_size,
                f"has {cores} vCPU(s); AKS needs at least {MIN_POOL_VCPUS} per node",
            )
        return self


class SystemPoolConfig(PoolConfig):
    """The system pool: runs only critical add-ons (CriticalAddonsOnly taint)."""

    min_count: int = Field(default=1, ge=1)
    spot: bool = False

    @model_validator(mode="after")
    def _system_rules(self) -> Self:
        if self.spot:
            raise rule_error("spot", self.spot, "is not allowed: spot VMs are for user pools only")
        if is_burstable(self.vm_size):
            raise rule_error(
                "vmSize",
                self.vm_size,
                "is a B-series (burstable) size, which AKS does not support for system pools",
            )
        cores = vcpus(self.vm_size)
        if cores is not None and cores < MIN_SYSTEM_POOL_VCPUS:
            raise rule_error(
                "vmSize",
                self.vm_size,
                f"has {cores} vCPUs; AKS system pools need at least {MIN_SYSTEM_POOL_VCPUS}",
            )
        if self.max_pods < MIN_SYSTEM_POOL_MAX_PODS:
            raise rule_error(
                "maxPods",
                self.max_pods,
                f"must be >= {MIN_SYSTEM_POOL_MAX_PODS}: AKS system pools must fit "
                f"{MIN_SYSTEM_POOL_MAX_PODS} pods per node",
            )
        return self


class CpuPoolConfig(PoolConfig):
    """The general-purpose user pool (MLflow, ingestion, vector DB, ...)."""

    spot: bool = False


class GpuPoolConfig(PoolConfig):
    """One NVIDIA GPU user pool. Tainted ``nvidia.com/gpu=present:NoSchedule``."""

    os_sku: Literal["AzureLinux", "Ubuntu"] = "Ubuntu"
    spot: bool = False
    mig_profile: Literal["MIG1g", "MIG2g", "MIG3g", "MIG4g", "MIG7g"] | None = None
    gpu_driver: Literal["Install", "None"] = "Install"
    """``Install``: AKS installs the NVIDIA driver; ``None``: the GPU Operator does."""

    @model_validator(mode="after")
    def _gpu_size(self) -> Self:
        if not is_nvidia_gpu_size(self.vm_size):
            raise rule_error(
                "vmSize",
                self.vm_size,
                "must be an NVIDIA GPU (N-series) size, e.g. Standard_NC4as_T4_v3",
            )
        if self.mig_profile and not mig_capable(self.vm_size):
            raise rule_error(
                "migProfile",
                self.mig_profile,
                f"needs a MIG-capable size (A100/H100/H200 families); vmSize is {self.vm_size}",
            )
        if self.os_sku == "AzureLinux" and not azure_linux_supported(self.vm_size):
            raise rule_error(
                "osSku",
                self.os_sku,
                f"is not offered by AKS for {self.vm_size} (A100/H100/H200 GPU sizes run "
                "Ubuntu only): use osSku Ubuntu",
            )
        return self


class ClusterConfig(ConfigModel):
    """The managed cluster itself."""

    kubernetes_version: str
    sku_tier: Literal["Free", "Standard", "Premium"] = "Free"
    zones: list[Zone] = Field(default_factory=list)
    api_server: ApiServerConfig
    admin_group_object_ids: list[UUID] = Field(min_length=1)
    """Entra ID groups that get cluster-admin through Azure RBAC."""
    upgrade_channel: Literal["none", "patch", "stable", "rapid", "node-image"] = "patch"
    node_os_upgrade_channel: Literal["None", "Unmanaged", "NodeImage", "SecurityPatch"] = (
        "NodeImage"
    )
    image_cleaner_interval_hours: int = Field(default=48, ge=24, le=2160)
    azure_policy_enabled: bool = True
    maintenance: MaintenanceConfig = Field(default_factory=MaintenanceConfig)
    """Planned maintenance windows of the upgrade channels."""

    @model_validator(mode="after")
    def _windows_have_a_channel(self) -> Self:
        if self.maintenance.auto_upgrade and self.upgrade_channel == "none":
            raise rule_error(
                "maintenance.autoUpgrade",
                "set",
                "needs an upgradeChannel other than none (nothing would use the window)",
            )
        if self.maintenance.node_os and self.node_os_upgrade_channel not in (
            "NodeImage",
            "SecurityPatch",
        ):
            raise rule_error(
                "maintenance.nodeOs",
                "set",
                "needs nodeOsUpgradeChannel NodeImage or SecurityPatch (nothing else follows "
                "the window)",
            )
        return self

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = _VERSION.match(value)
        if not match:
            raise rule_error("", value, "must look like 1.34 or 1.34.2")
        if match["minor"] not in SUPPORTED_KUBERNETES_MINORS:
            raise rule_error(
                "",
                value,
                f"is outside the AKS support window ({', '.join(SUPPORTED_KUBERNETES_MINORS)})",
            )
        return value

    @field_validator("sku_tier")
    @classmethod
    def _tier(cls, value: str) -> str:
        # Learn, "AKS pricing tiers": Premium and the AKSLongTermSupport plan are enabled
        # together; "Long-term support": the KEDA add-on is not supported under LTS (and a
        # cluster with it enabled cannot move to LTS). Every workflow here scales with KEDA.
        if value == "Premium":
            raise rule_error(
                "",
                value,
                "is not supported: Premium goes with the AKSLongTermSupport plan, which does "
                "not support the KEDA add-on the platform uses; use Standard (uptime SLA)",
            )
        return value

    @field_validator("zones")
    @classmethod
    def _unique_zones(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise rule_error("", value, "must not repeat a zone")
        return value
