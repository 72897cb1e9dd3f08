"""``aks-mlops diff``: every setting that differs between two stacks, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.runner import ROOT


def _diff(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "offline.cli", "diff", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _stack_file(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return {k.split(":", 1)[1]: v for k, v in doc["config"].items()}


@pytest.fixture(scope="module")
def dev_prod() -> dict[str, Any]:
    done = _diff("--from", "dev", "--to", "prod", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_diff_stack_against_itself_has_no_differences() -> None:
    done = _diff("--from", "test", "--to", "test")
    assert done.returncode == 0, done.stderr
    assert "no differences" in done.stdout
    as_json = json.loads(_diff("--from", "test", "--to", "test", "--json").stdout)
    assert as_json["differences"] is False
    assert as_json["settings"] == as_json["resources"] == []


def test_diff_lists_every_differing_scalar_of_the_stack_files(dev_prod: dict[str, Any]) -> None:
    # Expected values read from the two stack files with plain YAML, not through the program.
    dev, prod = _stack_file("dev"), _stack_file("prod")
    settings = {s["key"]: (s["from"], s["to"]) for s in dev_prod["settings"]}
    checked = 0
    for section in ("cluster", "registry", "dataLake", "keyVault", "postgres", "mlflow"):
        for key in sorted(set(dev.get(section, {})) & set(prod.get(section, {}))):
            a, b = dev[section][key], prod[section][key]
            if isinstance(a, dict | list) or a == b:
                continue
            assert settings.get(f"{section}.{key}") == (a, b), f"{section}.{key}"
            checked += 1
    assert checked >= 10


def test_diff_matches_pools_by_name(dev_prod: dict[str, Any]) -> None:
    keys = {s["key"] for s in dev_prod["settings"]}
    dev_pool = _stack_file("dev")["gpuPools"][0]["name"]
    assert f"gpuPools[{dev_pool}].vmSize" in keys
    resources = {r["resource"]: r for r in dev_prod["resources"]}
    only_dev = resources[f"azure-native:containerservice:AgentPool::pool-{dev_pool}-pool"]
    assert only_dev["to"] is None
    assert only_dev["from"].startswith(_stack_file("dev")["gpuPools"][0]["vmSize"])


def test_diff_text_output_groups_by_section() -> None:
    done = _diff("--from", "dev", "--to", "prod")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("dev -> prod (offline plans")
    assert "[cluster]" in lines
    assert any(line.split() == ["skuTier", "Free", "->", "Standard"] for line in lines)
    assert "\x1b[" not in done.stdout  # no colour codes when stdout is not a terminal


def test_diff_unknown_stack_names_it() -> None:
    done = _diff("--from", "dev", "--to", "staging")
    assert done.returncode == 2
    assert "Pulumi.staging.yaml not found" in done.stderr


def test_diff_shows_budget_and_estimated_cost(dev_prod: dict[str, Any]) -> None:
    settings = {s["key"]: (s["from"], s["to"]) for s in dev_prod["settings"]}
    dev, prod = _stack_file("dev"), _stack_file("prod")
    assert settings["cost.monthlyBudgetUsd"] == (
        dev["cost"]["monthlyBudgetUsd"],
        prod["cost"]["monthlyBudgetUsd"],
    )
    # Unpriced VM sizes keep both totals lower bounds, never complete dollar amounts.
    for key in ("estimatedMonthlyCost.idle", "estimatedMonthlyCost.fullScale"):
        left, right = settings[key]
        assert left.startswith(">= $"), left
        assert right.endswith("+ unknown"), right


def test_diff_non_positive_budget_names_stack_and_key(tmp_path: Path) -> None:
    # Bad input is refused before either stack is run: exit 2, the stack, key and rule.
    for stack in ("dev", "prod"):
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        if stack == "prod":
            doc["config"]["aks-mlops:cost"] = {"monthlyBudgetUsd": 0}
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    done = _diff("--from", "dev", "--to", "prod", "--project-dir", str(tmp_path))
    assert done.returncode == 2
    assert "error: stack prod:" in done.stderr
    assert "cost.monthlyBudgetUsd (0) must be a positive amount" in done.stderr
    assert "Traceback" not in done.stderr
    assert "offline plan:" not in done.stderr, "a stack was run before the input was checked"
    assert done.stdout == ""
