"""NVIDIA GPU VM sizes the platform knows, and what AKS can do with them.

Used by config validation (MIG only on MIG-capable sizes) and by the node pools (labels).
Sources: Azure VM size pages for the NCasT4_v3, NC_A100_v4, ND_A100_v4, NDm_A100_v4,
NCads_H100_v5, ND_H100_v5, ND_H200_v5 and NVadsA10_v5 series, and the AKS MIG guide
(https://learn.microsoft.com/azure/aks/gpu-multi-instance), which lists A100/H100-class sizes.
GPU memory per GPU, from the same size pages: T4 16 GB, A10 24 GB, A100 40 or 80 GB, H100 NVL
94 GB, H100 SXM 80 GB, H200 141 GB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class GpuSize:
    """One VM size: its GPU model, how many GPUs a node has, whether MIG partitioning works."""

    model: str
    """GPU model, used as the `gpu-model` node label (lowercase, label-safe)."""
    gpus: int
    """Whole GPUs per node."""
    mig_capable: bool
    """NVIDIA Multi-Instance GPU is available (A100, H100, H200)."""
    gpu_memory_gib: int
    """Memory of one GPU, GiB (the size pages' "GPU memory" column divided by the count)."""

    @property
    def total_gpu_memory_gib(self) -> int:
        """GPU memory of one node (every GPU together)."""
        return self.gpus * self.gpu_memory_gib


GPU_SIZES: dict[str, GpuSize] = {
    # NCasT4_v3: T4, no MIG.
    "Standard_NC4as_T4_v3": GpuSize(model="t4", gpus=1, mig_capable=False, gpu_memory_gib=16),
    "Standard_NC8as_T4_v3": GpuSize(model="t4", gpus=1, mig_capable=False, gpu_memory_gib=16),
    "Standard_NC16as_T4_v3": GpuSize(model="t4", gpus=1, mig_capable=False, gpu_memory_gib=16),
    "Standard_NC64as_T4_v3": GpuSize(model="t4", gpus=4, mig_capable=False, gpu_memory_gib=16),
    # NVadsA10_v5 (whole-GPU sizes only; the fractional ones are not for AKS GPU pools).
    "Standard_NV36ads_A10_v5": GpuSize(model="a10", gpus=1, mig_capable=False, gpu_memory_gib=24),
    "Standard_NV72ads_A10_v5": GpuSize(model="a10", gpus=2, mig_capable=False, gpu_memory_gib=24),
    # NC_A100_v4: A100 80 GB PCIe.
    "Standard_NC24ads_A100_v4": GpuSize(
        model="a100-80gb", gpus=1, mig_capable=True, gpu_memory_gib=80
    ),
    "Standard_NC48ads_A100_v4": GpuSize(
        model="a100-80gb", gpus=2, mig_capable=True, gpu_memory_gib=80
    ),
    "Standard_NC96ads_A100_v4": GpuSize(
        model="a100-80gb", gpus=4, mig_capable=True, gpu_memory_gib=80
    ),
    # ND_A100_v4 (40 GB) and NDm_A100_v4 (80 GB): 8 x A100 SXM.
    "Standard_ND96asr_v4": GpuSize(model="a100-40gb", gpus=8, mig_capable=True, gpu_memory_gib=40),
    "Standard_ND96amsr_A100_v4": GpuSize(
        model="a100-80gb", gpus=8, mig_capable=True, gpu_memory_gib=80
    ),
    # NCads_H100_v5 (H100 NVL) and ND_H100_v5 / ND_H200_v5 (8 x SXM).
    "Standard_NC40ads_H100_v5": GpuSize(
        model="h100-nvl", gpus=1, mig_capable=True, gpu_memory_gib=94
    ),
    "Standard_NC80adis_H100_v5": GpuSize(
        model="h100-nvl", gpus=2, mig_capable=True, gpu_memory_gib=94
    ),
    "Standard_ND96isr_H100_v5": GpuSize(model="h100", gpus=8, mig_capable=True, gpu_memory_gib=80),
    "Standard_ND96isr_H200_v5": GpuSize(model="h200", gpus=8, mig_capable=True, gpu_memory_gib=141),
}

# N-series = the GPU families (NC, ND, NG, NV). AMD-GPU sizes are N-series too but do not
# expose `nvidia.com/gpu`, so they are refused for NVIDIA pools: the whole NG family (AMD
# Radeon PRO V620) and the AMD sizes of the other families matched below.
_N_SERIES = re.compile(r"^Standard_N[CDV]\d+[a-z]*(_[A-Za-z0-9]+)*$")
_AMD_GPU = re.compile(r"(MI300X|MI200|_V710|as_v4$|ads_V710)", re.IGNORECASE)


def is_nvidia_gpu_size(vm_size: str) -> bool:
    """True for an N-series size with NVIDIA GPUs (known or shaped like one)."""
    if vm_size in GPU_SIZES:
        return True
    return bool(_N_SERIES.match(vm_size)) and not _AMD_GPU.search(vm_size)


def gpu_model(vm_size: str) -> str:
    """The `gpu-model` label value; ``unknown`` for an N-series size not in the catalog."""
    known = GPU_SIZES.get(vm_size)
    return known.model if known else "unknown"


def node_gpu_memory_gib(vm_size: str) -> int | None:
    """GPU memory of one node of ``vm_size``; None for a size not in the catalog."""
    known = GPU_SIZES.get(vm_size)
    return known.total_gpu_memory_gib if known else None


def mig_capable(vm_size: str) -> bool:
    """True only for sizes known to support MIG on AKS."""
    known = GPU_SIZES.get(vm_size)
    return bool(known and known.mig_capable)


# Azure Linux does not offer the A100 / H100-class GPU sizes on AKS: "Azure Linux doesn't
# support the NC A100 v4 series" (https://learn.microsoft.com/azure/azure-linux/intro-azure-linux,
# supported GPU sizes: V100, T4), and "Certain SKUs, including A100 and H100 VM SKUs, aren't
# available for Azure Linux" (https://learn.microsoft.com/azure/aks/use-nvidia-gpu, until its
# 2026-06 rewrite). H200 (ND_H200_v5) is treated the same: no Azure Linux page lists it.
_NO_AZURE_LINUX_GPU = re.compile(r"(A100|H100|H200)", re.IGNORECASE)
NO_AZURE_LINUX_MODELS = ("a100", "h100", "h200")


def azure_linux_supported(vm_size: str) -> bool:
    """False for the A100 / H100 / H200 sizes that AKS offers only with Ubuntu."""
    known = GPU_SIZES.get(vm_size)
    if known is not None:
        return not known.model.startswith(NO_AZURE_LINUX_MODELS)
    return not _NO_AZURE_LINUX_GPU.search(vm_size)
