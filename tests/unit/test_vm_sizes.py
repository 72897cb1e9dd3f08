"""VM size names read for vCPUs: counts are Azure's published ones, written here as literals."""

from __future__ import annotations

import pytest

from infra.config.vm_sizes import is_burstable, vcpus


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        # Learn, VM size pages (Dv5, Fsv2, Av2, B, NCasT4_v3, NC A100 v4, ND H100 v5).
        ("Standard_D4ds_v5", 4),
        ("Standard_D2s_v3", 2),
        ("Standard_F2s_v2", 2),
        ("Standard_A1_v2", 1),
        ("Standard_B2s", 2),
        ("Standard_NC4as_T4_v3", 4),
        ("Standard_NC24ads_A100_v4", 24),
        ("Standard_ND96isr_H100_v5", 96),
        # Dv2/DSv2 number their sizes differently: D3_v2 has 4 vCPUs, D11_v2 has 2.
        ("Standard_D1_v2", 1),
        ("Standard_D3_v2", 4),
        ("Standard_DS11_v2", 2),
        ("Standard_D15_v2", 20),
        ("Standard_D2_v2_Promo", 2),
        ("Standard_D4", 8),
        # G-series: G1 has 2 vCPUs.
        ("Standard_GS1", 2),
        # Unknown shapes are left to Azure.
        ("Standard_E4-2ds_v5", None),
        ("D4ds_v5", None),
        ("Standard_D6_v2", None),
    ],
)
def test_vcpus_reads_count_from_size_name(size: str, expected: int | None) -> None:
    assert vcpus(size) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("Standard_B2s", True),
        ("Standard_B4als_v2", True),
        ("Standard_D4ds_v5", False),
        ("Standard_DS2_v2", False),
    ],
)
def test_is_burstable_only_for_b_series(size: str, expected: bool) -> None:
    assert is_burstable(size) is expected
