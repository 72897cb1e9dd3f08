"""``aks-mlops cost`` and the cost table of ``make plan``, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from offline.runner import ROOT


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "offline.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def _project_with_budget(tmp_path: Path, stack: str, budget: object) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    doc["config"]["aks-mlops:cost"] = {"monthlyBudgetUsd": budget}
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
    return project


def test_cost_json_warns_when_idle_cost_exceeds_budget(tmp_path: Path) -> None:
    # dev's registry alone is Basic at $0.167/day (Microsoft Learn): above a $1 budget.
    project = _project_with_budget(tmp_path, "dev", 1)
    done = _cli("cost", "--stack", "dev", "--json", "--project-dir", str(project))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["stack"] == "dev"
    assert doc["budgetUsd"] == 1.0
    assert doc["overBudget"] is True
    assert "exceeds cost.monthlyBudgetUsd $1.00" in done.stderr
    # dev's GPU pool scales from zero: $0 at idle, never $0 at full scale.
    gpu = doc["components"]["pool-gput4"]
    assert gpu["idle"]["usd"] == 0
    assert gpu["fullScale"]["usd"] is None
    assert "vm-spot:Standard_NC4as_T4_v3" in gpu["fullScale"]["unknownItems"]
    assert doc["idle"]["usd"] is None  # the VM sizes are unpriced: the total is a lower bound


def test_cost_bad_budget_exits_2_naming_the_key(tmp_path: Path) -> None:
    project = _project_with_budget(tmp_path, "dev", -5)
    done = _cli("cost", "--stack", "dev", "--project-dir", str(project))
    assert done.returncode == 2
    assert "cost.monthlyBudgetUsd (-5) must be a positive amount" in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_prints_cost_table_within_shipped_budget(tmp_path: Path) -> None:
    done = _cli("plan", "--stack", "test", "--out", str(tmp_path), "--no-picture")
    assert done.returncode == 0, done.stderr
    assert "estimated monthly cost, stack test" in done.stdout
    assert "budget $1,500.00/month: within at idle" in done.stdout
    assert "unknown prices" in done.stdout
    assert "exceeds cost.monthlyBudgetUsd" not in done.stderr
