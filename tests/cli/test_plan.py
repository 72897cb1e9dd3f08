"""The offline plan CLI, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline.runner import ROOT, SECRET_PLACEHOLDER, load_stack_config


def _plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.cli", "plan", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_plan_prints_offline_summary_and_writes_plan_json(tmp_path: Path) -> None:
    result = _plan("--stack", "prod", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OFFLINE PLAN" in result.stdout
    assert "not a diff" in result.stdout
    assert "Standard_NC24ads_A100_v4" in result.stdout
    assert "nvidia.com/gpu=present:NoSchedule" in result.stdout
    assert "API private" in result.stdout
    # Observability: the recording rules every stack registers and the dashboards line.
    assert "recording rules: prg-mlops-prod-weu-node-recording-rules: 11" in result.stdout
    assert "Grafana dashboards:" in result.stdout
    assert "retention 365d" in result.stdout
    doc = json.loads((tmp_path / "prod" / "plan.json").read_text())
    assert doc["offline"] is True
    assert doc["stack"] == "prod"
    customs = [r for r in doc["resources"] if r["custom"]]
    assert doc["resourceCount"] == len(customs) > 10
    assert f"{len(customs)} resources" in result.stdout
    for r in doc["resources"]:
        assert {
            "type",
            "name",
            "inputs",
            "parent",
            "dependencies",
            "protect",
            "retain_on_delete",
        } <= set(r), r["name"]
    registry = next(r for r in customs if r["type"].endswith(":Registry"))
    assert registry["protect"] is True
    assert registry["retain_on_delete"] is True
    assert doc["outputs"]["clusterName"] == "aks-mlops-prod-weu"
    # The shipped file's documentation placeholders: accepted offline, listed as a warning.
    stderr = " ".join(result.stderr.split())
    assert "WARNING: Pulumi.prod.yaml has 4 documentation placeholder(s)" in stderr
    assert "a real `pulumi preview` / `pulumi up` refuses them before creating anything" in stderr
    assert [p.split(" ", 1)[0] for p in doc["placeholders"]] == [
        "cluster.adminGroupObjectIds[0]",
        "postgres.entraAdmin.objectId",
        "network.peerings.runners",
        "release.images.workloads",
    ]


def _project_with(tmp_path: Path, stack: str, mutate) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    mutate(doc["config"])
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return project


def test_plan_invalid_config_exits_2_with_key_and_writes_nothing(tmp_path: Path) -> None:
    project = _project_with(
        tmp_path, "dev", lambda c: c["aks-mlops:gpuPools"][0].update(minCount=3, maxCount=2)
    )
    out = tmp_path / "build"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "plan.json").write_text("{}")  # a stale plan from an earlier run
    result = _plan("--stack", "dev", "--out", str(out), "--project-dir", str(project))
    assert result.returncode == 2
    assert "gpuPools[0].minCount (3) must be <= maxCount (2)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "OFFLINE PLAN" not in result.stdout
    assert not (out / "dev").exists()


def test_plan_unknown_stack_exits_2_listing_stacks(tmp_path: Path) -> None:
    result = _plan("--stack", "staging", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Pulumi.staging.yaml not found" in result.stderr
    assert "dev" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_plan_secure_values_become_placeholders(tmp_path: Path) -> None:
    def add_secret(config: dict) -> None:
        config["azure-native:clientSecret"] = {"secure": "v1:AAAAbm90LXJlYWxseS1lbmNyeXB0ZWQ="}

    project = _project_with(tmp_path, "dev", add_secret)
    config, secret_keys = load_stack_config("dev", project)
    assert config["azure-native:clientSecret"] == SECRET_PLACEHOLDER
    assert secret_keys == ["azure-native:clientSecret"]
    result = _plan("--stack", "dev", "--out", str(tmp_path / "b"), "--project-dir", str(project))
    assert result.returncode == 0, result.stderr
    assert "v1:AAAA" not in (tmp_path / "b" / "dev" / "plan.json").read_text()


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_plan_entry_point_runs_without_make(stack: str, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("aks-mlops")
    assert exe.exists(), "the aks-mlops console script is installed by `pip install -e .`"
    result = subprocess.run(
        [str(exe), "plan", "--stack", stack, "--out", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / stack / "plan.json").is_file()
    shutil.rmtree(tmp_path / stack)
