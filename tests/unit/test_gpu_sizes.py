"""GPU sizes: the `gpu-model` label, NVIDIA-only, MIG capability -- against written-out facts."""

from __future__ import annotations

import pytest

from components.cluster.gpu_sizes import (
    azure_linux_supported,
    gpu_model,
    is_nvidia_gpu_size,
    mig_capable,
)
from tests.stacks.test_wiring import GPU_MODEL_LABELS


@pytest.mark.parametrize(("size", "model"), sorted(GPU_MODEL_LABELS.items()))
def test_gpu_sizes_model_label_per_size(size: str, model: str) -> None:
    assert gpu_model(size) == model


def test_gpu_sizes_unknown_n_series_size_is_labelled_unknown() -> None:
    assert gpu_model("Standard_NC6s_v3") == "unknown"


@pytest.mark.parametrize(
    ("size", "nvidia"),
    [
        ("Standard_NC4as_T4_v3", True),
        ("Standard_NC24ads_A100_v4", True),
        ("Standard_ND96isr_H100_v5", True),
        ("Standard_NV36ads_A10_v5", True),
        ("Standard_NC6s_v3", True),  # V100, not in the catalogue: N-series shaped
        ("Standard_NG32ads_V620_v1", False),  # AMD Radeon PRO V620
        ("Standard_ND96isr_MI300X_v5", False),  # AMD Instinct MI300X
        ("Standard_NV32as_v4", False),  # AMD MI25
        ("Standard_D4ds_v5", False),
    ],
)
def test_gpu_sizes_nvidia_only(size: str, nvidia: bool) -> None:
    assert is_nvidia_gpu_size(size) is nvidia


@pytest.mark.parametrize(
    ("size", "mig"),
    [
        ("Standard_NC24ads_A100_v4", True),
        ("Standard_ND96asr_v4", True),
        ("Standard_NC40ads_H100_v5", True),
        ("Standard_NC4as_T4_v3", False),
        ("Standard_NV36ads_A10_v5", False),
        ("Standard_NC6s_v3", False),
    ],
)
def test_gpu_sizes_mig_only_on_a100_h100_h200(size: str, mig: bool) -> None:
    assert mig_capable(size) is mig


@pytest.mark.parametrize(
    ("size", "supported"),
    [
        # https://learn.microsoft.com/azure/azure-linux/intro-azure-linux : Azure Linux node
        # pools support the V100 and T4 GPU sizes, not NC A100 v4 (nor H100 / H200).
        ("Standard_NC4as_T4_v3", True),
        ("Standard_NV36ads_A10_v5", True),
        ("Standard_NC24ads_A100_v4", False),
        # ND A100 v4: an A100 size whose name does not say A100 (known from the catalog).
        ("Standard_ND96asr_v4", False),
        ("Standard_NC40ads_H100_v5", False),
        ("Standard_ND96isr_H200_v5", False),
        # Not in the catalog: V100 (NCv3) is supported; a name with A100 is not.
        ("Standard_NC6s_v3", True),
        ("Standard_NC24ads_A100_v9", False),
    ],
)
def test_azure_linux_gpu_sizes(size: str, supported: bool) -> None:
    assert azure_linux_supported(size) is supported
