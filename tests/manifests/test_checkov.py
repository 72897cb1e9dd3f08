"""Checkov's Kubernetes checks pass on every rendered manifest: zero failed checks.

The manifests of each stack (dev and prod: pgvector; test: qdrant), plus qdrant in dev on a
spot pool and in prod, are written the way ``make plan`` writes them and scanned offline
(``--skip-download``), **one checkov run per folder**: checkov's graph checks (e.g. CKV2_K8S_6,
"a NetworkPolicy selects every pod") match objects across all files of a run and ignore
namespaces, so one run over every stack would let one stack's policy cover another's pods.

A check that cannot pass is waived on the object itself (``checkov.io/skipN: ID=reason``,
components/kit/checkov.py). The waivers are pinned below: a new one is a reviewed change.

checkov runs from its own virtualenv (``.tools/checkov``, created by ``make unit`` / ``make
test``): it pins ``packaging<24``, which the project's pins exclude.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.manifests import write_manifests
from offline.runner import OfflineRun, run_callable
from tests.manifests.workload_inputs import render, stack_config

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = Path(os.environ.get("CHECKOV", ROOT / ".tools" / "checkov" / "bin" / "checkov"))
SKIP_PREFIX = "checkov.io/skip"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
QDRANT = {"engine": "qdrant"}
# Beyond the stack files: the engine each stack does not ship with.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev-qdrant-spot": ("dev", {"vectorDb": QDRANT, "cpuPool": {"spot": True}}),
    "prod-qdrant": ("prod", {"vectorDb": QDRANT}),
}
# Every waiver the platform's objects carry, by object (kind.name) -> check ids.
# - CKV_K8S_43 "Image should use digest": images are pinned by version tag; no digest can be
#   resolved offline (config accepts @sha256 digests, which drop the waiver).
# - NVIDIA device plugin: runs as root to register its socket in the kubelet's host directory
#   (CKV_K8S_23 root containers, CKV_K8S_40 high UID) and serves no health endpoint
#   (CKV_K8S_8 liveness, CKV_K8S_9 readiness).
DIGEST = {"CKV_K8S_43"}
DEVICE_PLUGIN = {"CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_23", "CKV_K8S_40", *DIGEST}
EXPECTED_WAIVERS: dict[str, set[str]] = {
    "DaemonSet.nvidia-device-plugin": DEVICE_PLUGIN,
    # MIG: SYS_ADMIN for the MIG monitor devices (and so no allowPrivilegeEscalation: false).
    "DaemonSet.nvidia-device-plugin-mig": {
        *DEVICE_PLUGIN,
        "CKV_K8S_20",
        "CKV_K8S_25",
        "CKV_K8S_39",
    },
    # Root for the kubelet's pod-resources socket (capabilities dropped, read-only root).
    "DaemonSet.dcgm-exporter": {"CKV_K8S_23", "CKV_K8S_40", *DIGEST},
    "Deployment.mlflow": DIGEST,
    "StatefulSet.qdrant": DIGEST,
    "Job.vector-schema-*": DIGEST,
    "Job.db-roles-*": DIGEST,
    "Job.mlflow-db-upgrade-*": DIGEST,
}

Scan = tuple[Path, dict[str, Any]]


def run_checkov(folder: Path) -> dict[str, Any]:
    """checkov's JSON report of one folder (passed, failed and skipped checks)."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: `make unit` creates .tools/checkov")
    done = subprocess.run(
        [
            str(CHECKOV),
            *("-d", str(folder), "--framework", "kubernetes"),
            *("--compact", "--skip-download", "-o", "json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit status 1 means "some check failed"; anything else is checkov itself failing.
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    if isinstance(report, list):
        report = next(r for r in report if r.get("check_type") == "kubernetes")
    assert report.get("check_type") == "kubernetes", done.stdout[:500]
    return dict(report)


def _variant_run(stack: str, overrides: dict[str, Any]) -> OfflineRun:
    run, _ = render(
        stack_config(stack, **overrides), stack, lambda body: run_callable(body, stack="unit")
    )
    return run


@pytest.fixture(scope="module")
def scans(
    stack_runs: dict[str, OfflineRun], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Scan]:
    """Each stack's (and variant's) manifest folder and checkov's report on it."""
    runs = {name: stack_runs[name] for name in ("dev", "test", "prod")}
    runs.update({name: _variant_run(*variant) for name, variant in VARIANTS.items()})
    out: dict[str, Scan] = {}
    for name, run in runs.items():
        files = write_manifests(run, tmp_path_factory.mktemp(name))
        assert files, f"{name}: no Kubernetes objects rendered"
        out[name] = (files[0].parent, run_checkov(files[0].parent))
    return out


def _objects(folder: Path) -> Iterator[dict[str, Any]]:
    for path in sorted(folder.glob("*.yaml")):
        yield yaml.safe_load(path.read_text())


def _resource(obj: dict[str, Any]) -> str:
    """checkov's name of a namespaced object: ``Kind.namespace.name``."""
    meta = obj["metadata"]
    return f"{obj['kind']}.{meta['namespace']}.{meta['name']}"


def _waivers(obj: dict[str, Any]) -> dict[str, str]:
    """Check id -> reason, from the object's ``checkov.io/skipN`` annotations."""
    annotations = obj["metadata"].get("annotations") or {}
    out: dict[str, str] = {}
    for key, value in annotations.items():
        if key.startswith(SKIP_PREFIX):
            check, _, reason = value.partition("=")
            out[check] = reason
    return out


def _expected_waivers(obj: dict[str, Any]) -> set[str]:
    key = f"{obj['kind']}.{obj['metadata']['name']}"
    # Run-once Jobs are named after a hash of what they run.
    key = re.sub(r"^(Job\..+)-[0-9a-f]{8}$", r"\1-*", key)
    return EXPECTED_WAIVERS.get(key, set())


def test_checkov_reports_no_failed_check_on_any_stack(scans: dict[str, Scan]) -> None:
    failures = [
        f"{name}: {f['check_id']} ({f['check_name']}) on {f['resource']} "
        f"in {Path(f['file_path']).name}"
        for name, (_, report) in scans.items()
        for f in report["results"]["failed_checks"]
    ]

    assert not failures, "checkov failed checks:\n" + "\n".join(failures)
    assert all(report["summary"]["passed"] > 0 for _, report in scans.values())


def test_checkov_scans_every_workload_of_every_stack(scans: dict[str, Scan]) -> None:
    for name, (folder, report) in scans.items():
        results = report["results"]
        scanned = {
            r["resource"]
            for kind in ("passed_checks", "failed_checks", "skipped_checks")
            for r in results[kind]
        }
        workloads = {_resource(o) for o in _objects(folder) if o["kind"] in WORKLOAD_KINDS}

        assert report["summary"]["parsing_errors"] == 0, name
        assert len(workloads) >= 3, name
        assert workloads <= scanned, f"{name}: not scanned: {sorted(workloads - scanned)}"


def test_checkov_waivers_each_carry_a_reason_and_are_honoured(scans: dict[str, Scan]) -> None:
    for name, (folder, report) in scans.items():
        annotated = {
            (_resource(obj), check): reason
            for obj in _objects(folder)
            for check, reason in _waivers(obj).items()
        }
        skipped = {
            (s["resource"], s["check_id"]): s["check_result"]["suppress_comment"]
            for s in report["results"]["skipped_checks"]
        }

        assert annotated, name
        for (resource, check), reason in annotated.items():
            assert re.fullmatch(r"CKV2?_K8S_\d+", check), (name, resource, check)
            assert len(reason.strip()) >= 20, (name, resource, check, reason)
            assert "=" not in reason, (name, resource, check, reason)
        # Every waiver is one checkov read (and nothing is skipped by any other means).
        assert skipped == annotated, name


def test_checkov_waivers_are_only_the_reviewed_ones(scans: dict[str, Scan]) -> None:
    for name, (folder, _) in scans.items():
        for obj in _objects(folder):
            assert set(_waivers(obj)) == _expected_waivers(obj), (name, _resource(obj))


def test_checkov_fails_manifest_when_pull_policy_and_uid_regress(
    scans: dict[str, Scan], tmp_path: Path
) -> None:
    folder = tmp_path / "manifests"
    shutil.copytree(scans["dev"][0], folder)
    path = next(folder.glob("*-deployment-mlflow-mlflow.yaml"))
    deployment = yaml.safe_load(path.read_text())
    pod = deployment["spec"]["template"]["spec"]
    del pod["containers"][0]["imagePullPolicy"]
    pod["securityContext"]["runAsUser"] = 1000
    path.write_text(yaml.safe_dump(deployment))

    failed = {
        (f["resource"], f["check_id"]) for f in run_checkov(folder)["results"]["failed_checks"]
    }

    assert failed == {
        ("Deployment.mlflow.mlflow", "CKV_K8S_15"),
        ("Deployment.mlflow.mlflow", "CKV_K8S_40"),
    }
