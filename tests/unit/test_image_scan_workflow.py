"""The CVE gate's workflow settings (schema, actionlint, pins and permissions of every
workflow are checked in tests/pipelines/test_workflows.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from offline.runner import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
SCAN = ROOT / ".github" / "workflows" / "image-scan.yml"


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_there_are_workflows() -> None:
    assert SCAN in WORKFLOWS


def _scan() -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load(SCAN.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def test_image_scan_runs_on_pull_requests_and_on_a_schedule() -> None:
    on = _scan()["on"]
    assert "pull_request" in on
    assert on["schedule"][0]["cron"]


def test_image_scan_has_least_privilege_permissions() -> None:
    doc = _scan()
    assert doc["permissions"] == {}
    for job in doc["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


def test_image_scan_uses_the_inventory_and_blocks_on_fixable_critical_high() -> None:
    jobs = _scan()["jobs"]
    inventory = "\n".join(s.get("run", "") for s in jobs["inventory"]["steps"])
    assert "offline.cli images --stack" in inventory
    assert "--json" in inventory
    trivy = [s for s in jobs["scan"]["steps"] if "trivy-action" in s.get("uses", "")]
    assert len(trivy) == 1
    # A full commit id: tags of this action were force-pushed in March 2026
    # (GHSA-69fq-xp46-6x23); v0.36.0 is the release at this commit.
    assert trivy[0]["uses"] == (
        "aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25"
    )
    assert re.search(r"trivy-action@[0-9a-f]{40} # v0\.36\.0$", SCAN.read_text(), re.MULTILINE)
    settings = trivy[0]["with"]
    assert settings["image-ref"] == "${{ matrix.image }}"
    assert settings["severity"] == "CRITICAL,HIGH"
    assert settings["ignore-unfixed"] is True
    assert str(settings["exit-code"]) == "1"
    assert settings["trivyignores"] == ".trivyignore.yaml"
    assert (ROOT / settings["trivyignores"]).is_file()


def test_image_scan_builds_and_scans_the_workload_image_with_the_same_gate() -> None:
    jobs = _scan()["jobs"]
    job = jobs["workloads"]
    # Independent of the inventory: CI-built images are not in any stack's inventory of
    # third-party images (they come from the registry's own repositories).
    assert "needs" not in job
    (build,) = [s for s in job["steps"] if "docker build" in s.get("run", "")]
    assert build["run"].startswith("docker build -f workloads/Dockerfile ")
    assert build["run"].rstrip().endswith(" .")
    tag = re.search(r'-t "([^"]+)"', build["run"])
    assert tag is not None
    (trivy,) = [s for s in job["steps"] if "trivy-action" in s.get("uses", "")]
    (inventory_trivy,) = [s for s in jobs["scan"]["steps"] if "trivy-action" in s.get("uses", "")]
    assert trivy["uses"] == inventory_trivy["uses"]
    settings = dict(trivy["with"])
    # The image built above (GITHUB_SHA in the shell is github.sha in the expression).
    assert tag.group(1).replace("${GITHUB_SHA}", "${{ github.sha }}") == settings.pop("image-ref")
    expected = dict(inventory_trivy["with"])
    expected.pop("image-ref")
    assert settings == expected
