"""The workflows' manifests as ``make plan`` writes them: built-in kinds strictly valid for the
stack's Kubernetes version, every custom resource checked against its own schema (KEDA 2.16
models, the ama-metrics PodMonitor model, the KubeRay v1.4 RayJob schema), no Secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda

from offline.manifests import write_manifests
from offline.runner import OfflineRun
from tests.conftest import STACKS, stack_values
from tests.manifests.crds import keda_problems, validate_pod_monitor

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
RAYJOB_SCHEMA = json.loads((SCHEMAS / "rayjob-v1.json").read_text())
WORKFLOW_NAMESPACES = {"workflows", "ray-system"}


def _keda(obj: dict[str, Any]) -> None:
    # Strict keys and KEDA's enumerations; the Job template's types are validated as a
    # batch/v1 Job below.
    assert keda_problems(obj) == []


CRD_VALIDATORS = {
    "ScaledJob": _keda,
    "TriggerAuthentication": _keda,
    "PodMonitor": validate_pod_monitor,
    "RayJob": lambda obj: jsonschema.validate(obj, RAYJOB_SCHEMA),
    "SecretProviderClass": lambda obj: jsonschema.validate(
        obj, json.loads((SCHEMAS / "secretproviderclass-v1.json").read_text())
    ),
}


def _ours(obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") in WORKFLOW_NAMESPACES or (
        obj["kind"] == "Namespace" and meta.get("name") in WORKFLOW_NAMESPACES
    )


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_manifests_valid_strict_and_against_their_crds(
    stack_runs: dict[str, OfflineRun], stack: str, tmp_path: Path
) -> None:
    version = stack_values(stack)["aks-mlops:cluster"]["kubernetesVersion"]
    docs = [yaml.safe_load(p.read_text()) for p in write_manifests(stack_runs[stack], tmp_path)]
    # A Helm release is applied by Helm, not as a manifest (its chart is pinned and asserted
    # in the stack tests).
    ours = [d for d in docs if "kind" in d and _ours(d)]
    kinds = {d["kind"] for d in ours}

    assert {"ScaledJob", "CronJob", "Deployment", "TriggerAuthentication", "PodMonitor"} <= kinds
    assert "Secret" not in kinds
    for obj in ours:
        if obj["kind"] in CRD_VALIDATORS:
            CRD_VALIDATORS[obj["kind"]](obj)
        else:
            kubernetes_validate.validate(obj, version, strict=True)
        if obj["kind"] == "ScaledJob":
            job = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": obj["metadata"]["name"]},
                "spec": obj["spec"]["jobTargetRef"],
            }
            kubernetes_validate.validate(job, version, strict=True)
        if obj["kind"] == "RayJob":
            for template in [
                obj["spec"]["rayClusterSpec"]["headGroupSpec"]["template"],
                *(g["template"] for g in obj["spec"]["rayClusterSpec"]["workerGroupSpecs"]),
            ]:
                pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
                kubernetes_validate.validate(
                    {**pod, "spec": template["spec"]}, version, strict=True
                )


def test_workflows_keda_model_rejects_a_trigger_without_type() -> None:
    bad = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledJob",
        "metadata": {"name": "x"},
        "spec": {"jobTargetRef": {"template": {}}, "triggers": [{"metadata": {}}]},
    }
    with pytest.raises(ValueError, match="type"):
        keda.ScaledJob.model_validate(bad)
