"""KubeRay: the operator's chart values (pinned image, restricted security context) and the
RayJob's pod groups, asserted on what the component registers (literals, not the module's
constants)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.kit.kubernetes import Placement
from components.workflows.pods import ContainerResources
from components.workflows.ray import KubeRay, KubeRayArgs
from offline.runner import OfflineRun

Runner = Callable[[Callable[[], object]], OfflineRun]
RES = ContainerResources(cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi")
GPU_RES = ContainerResources(
    cpu_request="4", cpu_limit="4", memory_request="16Gi", memory_limit="16Gi", gpus=1
)
IMAGE = "crunit.azurecr.io/aks-mlops/workloads@sha256:" + "cd" * 32


def _run(run_components: Runner) -> OfflineRun:
    args = KubeRayArgs(
        operator_namespace="kuberay",
        operator_placement=Placement(pool="cpu"),
        job_namespace="workflows",
        service_account="retrain",
        image=IMAGE,
        env={"MODEL_NAME": "churn"},
        head_placement=Placement(pool="cpu"),
        head_resources=RES,
        worker_placement=Placement(pool="gput4", spot=True, gpu=True),
        worker_resources=GPU_RES,
        workers=2,
        deadline_seconds=3600,
        ttl_seconds=86400,
        content=IMAGE,
    )
    return run_components(lambda: KubeRay("ray", args))


def test_kuberay_operator_pinned_and_restricted(run_components: Runner) -> None:
    run = _run(run_components)
    (release,) = run.of_type("kubernetes:helm.sh/v3:Release")
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")

    assert release.inputs["chart"] == "kuberay-operator"
    assert release.inputs["repositoryOpts"] == {
        "repo": "https://ray-project.github.io/kuberay-helm/"
    }
    assert release.inputs["version"] == "1.4.2"
    assert release.inputs["namespace"] == "kuberay"
    values: dict[str, Any] = release.inputs["values"]
    assert values["image"] == {"repository": "quay.io/kuberay/operator", "tag": "v1.4.2"}
    assert values["nodeSelector"] == {"pool": "cpu"}
    assert values["podSecurityContext"] == {
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert values["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # The namespace belongs to the component (its URN is what users deployed) and comes first.
    assert namespace.inputs["metadata"]["name"] == "kuberay"
    assert "aks-mlops:workflows:KubeRay" in namespace.parent
    assert namespace.urn in release.dependencies


def test_kuberay_rayjob_groups_labelled_and_placed(run_components: Runner) -> None:
    (job,) = [r.inputs for r in _run(run_components).of_type("kubernetes:ray.io/v1:RayJob")]
    cluster = job["spec"]["rayClusterSpec"]
    head = cluster["headGroupSpec"]["template"]
    (workers,) = cluster["workerGroupSpecs"]

    assert job["metadata"]["namespace"] == "workflows"
    assert head["metadata"]["labels"] == {
        "app.kubernetes.io/name": "retrain",
        "app.kubernetes.io/component": "ray-head",
        "azure.workload.identity/use": "true",
    }
    assert workers["template"]["metadata"]["labels"] == {
        "app.kubernetes.io/name": "retrain",
        "app.kubernetes.io/component": "ray-worker",
        "azure.workload.identity/use": "true",
    }
    assert workers["groupName"] == "workers"
    assert (workers["replicas"], workers["minReplicas"], workers["maxReplicas"]) == (2, 2, 2)
    assert workers["template"]["spec"]["nodeSelector"] == {"pool": "gput4"}
    assert head["spec"]["nodeSelector"] == {"pool": "cpu"}
    assert head["spec"]["serviceAccountName"] == "retrain"
    # The head and workers are the Ray cluster's long-running pods: their containers restart
    # in place; the RayJob (backoffLimit 0 below) bounds the job's attempts.
    assert head["spec"]["restartPolicy"] == "Always"
    assert workers["template"]["spec"]["restartPolicy"] == "Always"
    # KubeRay writes the Ray container's command; the container keeps the workload's name.
    assert [c["name"] for c in head["spec"]["containers"]] == ["retrain"]
    assert [c["name"] for c in workers["template"]["spec"]["containers"]] == ["retrain"]
    assert "command" not in head["spec"]["containers"][0]
    # One attempt, submitted over the dashboard API (no submitter pod).
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["submissionMode"] == "HTTPMode"
    assert job["spec"]["shutdownAfterJobFinishes"] is True
    assert job["spec"]["ttlSecondsAfterFinished"] == 86400
    assert job["spec"]["activeDeadlineSeconds"] == 3600
