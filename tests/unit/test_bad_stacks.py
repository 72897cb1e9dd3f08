"""Hand-written bad stack files, the edits a new user makes to a shipped one: each is rejected.

Each case is a YAML fragment as a user would type it into ``Pulumi.<stack>.yaml`` (the keys
they touched; sections are merged into the shipped file, lists replaced). The edited file is
written to disk and read through the same loader as ``make plan`` (``load_stack_config`` +
``parse_config``): it must fail with one problem line naming the key and the rule.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, parse_config
from offline.runner import ROOT, load_stack_config, stack_file

# (stack, what the user wrote, key the error must name, fragment of the rule)
BAD_STACKS: dict[str, tuple[str, str, str, str]] = {
    "pg-tier-upgraded-sku-kept": (
        "dev",
        """
        aks-mlops:postgres:
          tier: GeneralPurpose      # more CPU for the demo, SKU left as it was
        """,
        "postgres.skuName",
        "is a Burstable size; tier GeneralPurpose takes D-series sizes",
    ),
    "pg-vm-size-not-offered": (
        "test",
        """
        aks-mlops:postgres:
          tier: MemoryOptimized
          skuName: Standard_E4s_v5  # a VM size, not a Flexible Server one
        """,
        "postgres.skuName",
        "is not an Azure Database for PostgreSQL flexible server size",
    ),
    "pg-prod-on-burstable": (
        "prod",
        """
        aks-mlops:postgres:
          tier: Burstable           # cut cost, HA left on
          skuName: Standard_B2ms
        """,
        "postgres.highAvailability",
        "needs tier GeneralPurpose or MemoryOptimized (not Burstable)",
    ),
    "pg-storage-round-number": (
        "prod",
        """
        aks-mlops:postgres:
          storageSizeGb: 1000
        """,
        "postgres.storageSizeGb",
        "must be one of [32, 64, 128",
    ),
    "pg-backups-two-months": (
        "prod",
        """
        aks-mlops:postgres:
          backupRetentionDays: 60
        """,
        "postgres.backupRetentionDays",
        "less than or equal to 35",
    ),
    "pg-same-zone-ha-in-dev": (
        "dev",
        """
        aks-mlops:postgres:
          highAvailability: SameZone
        """,
        "postgres.highAvailability",
        "(not Burstable)",
    ),
    "acr-basic-zone-redundant": (
        "dev",
        """
        aks-mlops:registry:
          sku: Basic
          zoneRedundancyEnabled: true
        """,
        "registry.zoneRedundancyEnabled",
        "needs sku Premium, not Basic",
    ),
    "acr-standard-private": (
        "test",
        """
        aks-mlops:registry:
          sku: Standard             # Premium looked expensive
        """,
        "registry.privateEndpointEnabled",
        "needs sku Premium, not Standard",
    ),
    "aks-premium-for-sla": (
        "prod",
        """
        aks-mlops:cluster:
          skuTier: Premium
        """,
        "cluster.skuTier",
        "does not support the KEDA add-on",
    ),
    "aks-free-tier-huge-pool": (
        "dev",
        """
        aks-mlops:cpuPool:
          maxCount: 999
        """,
        "cluster.skuTier",
        "supports at most 1000 nodes",
    ),
    "system-pool-burstable": (
        "dev",
        """
        aks-mlops:systemPool:
          vmSize: Standard_B2s      # cheapest thing in the list
        """,
        "systemPool.vmSize",
        "B-series (burstable)",
    ),
    "system-pool-two-cores": (
        "test",
        """
        aks-mlops:systemPool:
          vmSize: Standard_D2s_v3
        """,
        "systemPool.vmSize",
        "system pools need at least 4",
    ),
    "system-pool-few-pods": (
        "dev",
        """
        aks-mlops:systemPool:
          maxPods: 20               # save pod IPs
        """,
        "systemPool.maxPods",
        "must be >= 30",
    ),
    "cpu-pool-one-core": (
        "dev",
        """
        aks-mlops:cpuPool:
          vmSize: Standard_A1_v2
        """,
        "cpuPool.vmSize",
        "AKS needs at least 2 per node",
    ),
    "kv-sku-as-in-portal": (
        "dev",
        """
        aks-mlops:keyVault:
          sku: Premium
        """,
        "keyVault.sku",
        "Input should be 'standard' or 'premium'",
    ),
    "kv-retention-four-months": (
        "test",
        """
        aks-mlops:keyVault:
          softDeleteRetentionDays: 120
        """,
        "keyVault.softDeleteRetentionDays",
        "less than or equal to 90",
    ),
    "lake-premium-blob": (
        "dev",
        """
        aks-mlops:dataLake:
          sku: Premium_LRS
        """,
        "dataLake.sku",
        "Input should be 'Standard_LRS'",
    ),
}


def _merge(base: Any, edit: Any) -> Any:
    if isinstance(base, dict) and isinstance(edit, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in edit.items()}}
    return edit


def _edited_stack(stack: str, fragment: str, root: Path) -> Path:
    """The shipped stack file with the user's edit, written as ``root/Pulumi.<stack>.yaml``."""
    doc = yaml.safe_load(stack_file(stack).read_text())
    edit = yaml.safe_load(textwrap.dedent(fragment)) or {}
    doc["config"] = _merge(doc["config"], edit)
    path = stack_file(stack, root)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _problems(stack: str, root: Path) -> list[str]:
    config, _ = load_stack_config(stack, root)
    try:
        parse_config(config)
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize("case", sorted(BAD_STACKS))
def test_bad_stack_file_rejected_naming_the_key(case: str, tmp_path: Path) -> None:
    stack, fragment, key, rule = BAD_STACKS[case]
    _edited_stack(stack, fragment, tmp_path)

    problems = _problems(stack, tmp_path)

    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{key} ("), problems
    assert rule in problems[0], problems


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_shipped_stack_file_accepted_through_same_path(stack: str, tmp_path: Path) -> None:
    _edited_stack(stack, "", tmp_path)

    assert _problems(stack, tmp_path) == []
    assert stack_file(stack, tmp_path) != stack_file(stack, ROOT)
