"""The workflows as each shipped stack would apply them: wiring from the plain stack file, KEDA
objects against KEDA 2.16's CRD models and scaler docs, the RayJob against a schema of the
KubeRay v1.4 CRD, least-privilege roles by their well-known ids, and the order Azure needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.keda import v1alpha1 as keda

from offline.manifests import manifest
from offline.runner import OfflineRun, RecordedResource
from tests.conftest import STACKS
from tests.manifests.crds import validate_pod_monitor

ROOT = Path(__file__).resolve().parents[2]
SCALED_JOB = "kubernetes:keda.sh/v1alpha1:ScaledJob"
TRIGGER_AUTH = "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"
CRONJOB = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
RAYJOB = "kubernetes:ray.io/v1:RayJob"
HELM = "kubernetes:helm.sh/v3:Release"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLE = "azure-native:authorization:RoleAssignment"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
RAYJOB_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "rayjob-v1.json").read_text())

# KEDA 2.16 scaler metadata keys, from its docs (the version the AKS add-on runs):
# https://keda.sh/docs/2.16/scalers/azure-storage-blob/ (parameter list)
AZURE_BLOB_KEYS = {
    "blobContainerName",
    "blobCount",
    "activationBlobCount",
    "connectionFromEnv",
    "accountName",
    "blobPrefix",
    "blobDelimiter",
    "cloud",
    "endpointSuffix",
    "recursive",
    "globPattern",
}
# https://keda.sh/docs/2.16/scalers/prometheus/ (parameter list + authModes)
PROMETHEUS_KEYS = {
    "serverAddress",
    "query",
    "threshold",
    "activationThreshold",
    "namespace",
    "customHeaders",
    "ignoreNullValues",
    "queryParameters",
    "unsafeSsl",
    "authModes",
}
# Built-in role ids, https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
BLOB_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
# The AKS KEDA add-on's operator (Learn, "Securely scale your applications using the KEDA
# add-on and workload identity").
KEDA_SUBJECT = "system:serviceaccount:kube-system:keda-operator"


def plain(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in doc.items() if k.startswith("aks-mlops:")}


def scaled(run: OfflineRun, name: str) -> dict[str, Any]:
    found = [manifest(r) for r in run.of_type(SCALED_JOB) if r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def pod(job_spec: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = job_spec["template"]["spec"]
    return spec


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_schedule_and_thresholds_come_from_the_stack_file(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    wf = plain(stack)["workflows"]
    (cron,) = [manifest(r) for r in run.of_type(CRONJOB)]
    assert cron["spec"]["schedule"] == wf["retrain"]["schedule"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    new_data = scaled(run, "retrain-new-data")
    (blob,) = new_data["spec"]["triggers"]
    threshold = wf["retrain"]["newData"]["blobThreshold"]
    assert blob["metadata"]["blobContainerName"] == "raw"
    assert blob["metadata"]["blobPrefix"] == "incoming/"
    assert blob["metadata"]["blobCount"] == str(threshold)
    # Active only above activationBlobCount: nothing runs below the threshold.
    assert int(blob["metadata"]["activationBlobCount"]) == threshold - 1
    assert new_data["spec"]["maxReplicaCount"] == 1
    degradation = scaled(run, "retrain-degradation")
    drift, quality = degradation["spec"]["triggers"]
    share = wf["retrain"]["degradation"]["driftShare"]
    floor = wf["retrain"]["degradation"]["qualityFloor"]
    assert drift["metadata"]["query"] == f'max(data_drift_share_ratio{{model="{wf["modelName"]}"}})'
    assert float(drift["metadata"]["threshold"]) == share
    assert float(drift["metadata"]["activationThreshold"]) == share
    assert quality["metadata"]["query"].endswith(f"< bool {floor:g})")
    assert float(quality["metadata"]["activationThreshold"]) == 0.5
    assert degradation["spec"]["maxReplicaCount"] == 1
    ingest = scaled(run, "ingest-new-documents")
    (docs,) = ingest["spec"]["triggers"]
    assert docs["metadata"]["blobContainerName"] == "documents"
    assert docs["metadata"]["blobCount"] == str(wf["ingest"]["blobThreshold"])
    ingest_env = env(pod(ingest["spec"]["jobTargetRef"])["containers"][0])
    assert ingest_env["CHUNK_SIZE"] == str(wf["ingest"]["chunkSize"])
    assert ingest_env["CHUNK_OVERLAP"] == str(wf["ingest"]["chunkOverlap"])
    assert ingest_env["VECTOR_DISTANCE"] == plain(stack)["vectorDb"].get("distance", "cosine")


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_prometheus_server_is_the_workspace_query_endpoint(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (workspace,) = run.of_type("azure-native:monitor:AzureMonitorWorkspace")
    endpoint = workspace.outputs["metrics"]["prometheusQueryEndpoint"]
    assert endpoint.startswith("https://")
    for trigger in scaled(run, "retrain-degradation")["spec"]["triggers"]:
        assert trigger["metadata"]["serverAddress"] == endpoint
        assert "authModes" not in trigger["metadata"]


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_image_is_the_stack_registry_and_release_digest(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (registry,) = run.of_type("azure-native:containerregistry:Registry")
    expected = f"{registry.outputs['loginServer']}/{plain(stack)['release']['images']['workloads']}"
    images = [
        c["image"]
        for r in run.of_type(SCALED_JOB)
        for c in pod(manifest(r)["spec"]["jobTargetRef"])["containers"]
    ]
    images += [
        c["image"]
        for r in run.of_type(DEPLOYMENT)
        if r.name == "workflows-monitor"
        for c in manifest(r)["spec"]["template"]["spec"]["containers"]
    ]
    assert images
    assert set(images) == {expected}


def _workflow_auths(run: OfflineRun) -> list[RecordedResource]:
    """The workflows' TriggerAuthentications (serving renders its own in its namespace)."""
    return [
        r for r in run.of_type(TRIGGER_AUTH) if r.inputs["metadata"]["namespace"] == "workflows"
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_keda_objects_valid_against_keda_models_and_scaler_docs(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    jobs = [manifest(r) for r in run.of_type(SCALED_JOB)]
    auths = [manifest(r) for r in _workflow_auths(run)]
    assert len(jobs) == 3
    assert len(auths) == 1
    for obj in jobs:
        # The Job spec is checked strictly by kubernetes-validate below; the KEDA models'
        # generated pod-template types reject valid int-or-string quantities.
        target = {**obj["spec"], "jobTargetRef": {"template": {}}}
        keda.ScaledJob.model_validate({**obj, "spec": target})
        kubernetes_validate.validate(
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "x"},
                "spec": obj["spec"]["jobTargetRef"],
            },
            plain(stack)["cluster"]["kubernetesVersion"],
            strict=True,
        )
        for trigger in obj["spec"]["triggers"]:
            allowed = {"azure-blob": AZURE_BLOB_KEYS, "prometheus": PROMETHEUS_KEYS}[
                trigger["type"]
            ]
            assert set(trigger["metadata"]) <= allowed, trigger["metadata"]
            assert all(isinstance(v, str) for v in trigger["metadata"].values())
            assert trigger["authenticationRef"]["name"] == auths[0]["metadata"]["name"]
    (auth,) = auths
    keda.TriggerAuthentication.model_validate(auth)
    # Workload identity only: no secrets, no env, no connection strings.
    assert set(auth["spec"]) == {"podIdentity"}
    assert auth["spec"]["podIdentity"]["provider"] == "azure-workload"


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_keda_identity_is_federated_with_the_operator_and_reads_only(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (auth,) = [manifest(r) for r in _workflow_auths(run)]
    keda_identity = next(
        r for r in run.of_type(IDENTITY) if r.name == "workflows-keda-identity-identity"
    )
    assert auth["spec"]["podIdentity"]["identityId"] == keda_identity.outputs["clientId"]
    (fed,) = [r for r in run.of_type(FEDERATION) if r.name == "workflows-keda-identity-federation"]
    assert fed.inputs["subject"] == KEDA_SUBJECT
    roles = _roles_of(run, keda_identity)
    assert sorted(roles.values()) == sorted([BLOB_READER, BLOB_READER, MONITORING_DATA_READER])
    scopes = set(roles)
    assert any(s.endswith("/containers/raw") for s in scopes)
    assert any(s.endswith("/containers/documents") for s in scopes)
    assert any("Microsoft.Monitor/accounts/" in s for s in scopes)


def _roles_of(run: OfflineRun, identity: RecordedResource) -> dict[str, str]:
    principal = identity.outputs["principalId"]
    return {
        r.inputs["scope"]: r.inputs["roleDefinitionId"].rsplit("/", 1)[1]
        for r in run.of_type(ROLE)
        if r.inputs["principalId"] == principal
    }


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_each_workload_has_least_privilege_roles(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]

    def roles(workload: str) -> dict[str, str]:
        identity = next(
            r for r in run.of_type(IDENTITY) if r.name == f"workflows-{workload}-identity-identity"
        )
        return {
            s.split("/blobServices/default/")[-1].split("/secrets/")[-1]: role
            for s, role in _roles_of(run, identity).items()
        }

    ingest = roles("ingest")
    assert ingest.pop("containers/documents") == BLOB_CONTRIBUTOR
    ((secret, role),) = ingest.items()
    assert role == KV_SECRETS_USER
    assert secret in {"postgres-vectors-password", "qdrant-api-key"}
    assert roles("retrain") == {"containers/raw": BLOB_CONTRIBUTOR}
    assert roles("monitor") == {"containers/raw": BLOB_READER, "containers/curated": BLOB_READER}


def _deps(run: OfflineRun, resource: RecordedResource) -> set[str]:
    return set(resource.dependencies)


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_order_identities_before_pods_and_keda_after_the_cluster(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (cluster,) = run.of_type(CLUSTER)
    ident = {r.name: r for r in run.resources if r.name.startswith("workflows-")}

    def needs(resource: RecordedResource, workload: str) -> None:
        prefix = f"workflows-{workload}-identity-"
        needed = [r for n, r in ident.items() if n.startswith(prefix) and r.custom]
        kinds = {r.type for r in needed}
        assert {IDENTITY, FEDERATION, ROLE} <= kinds, kinds
        for r in needed:
            assert r.urn in resource.dependencies, (resource.name, r.name)

    for job in run.of_type(SCALED_JOB):
        workload = "ingest" if "ingest" in job.name else "retrain"
        needs(job, workload)
        needs(job, "keda")
        assert cluster.urn in job.dependencies, job.name
    (auth,) = _workflow_auths(run)
    assert cluster.urn in auth.dependencies
    needs(auth, "keda")
    (cron,) = run.of_type(CRONJOB)
    needs(cron, "retrain")
    monitor = next(r for r in run.of_type(DEPLOYMENT) if r.name == "workflows-monitor")
    needs(monitor, "monitor")


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_gpu_retrain_lands_on_the_configured_pool(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    cfg = plain(stack)
    pool = cfg["workflows"]["retrain"].get("gpuPool")
    spec = pod(scaled(stack_runs[stack], "retrain-new-data")["spec"]["jobTargetRef"])
    limits = spec["containers"][0]["resources"]["limits"]
    tolerations = {t["key"] for t in spec.get("tolerations", [])}
    if pool is None:
        assert spec["nodeSelector"] == {"pool": cfg["cpuPool"]["name"]}
        assert "nvidia.com/gpu" not in limits
        return
    gpu = next(p for p in cfg["gpuPools"] if p["name"] == pool)
    assert spec["nodeSelector"] == {"pool": pool}
    assert limits["nvidia.com/gpu"] == "1"
    assert "nvidia.com/gpu" in tolerations
    assert ("kubernetes.azure.com/scalesetpriority" in tolerations) == bool(gpu.get("spot"))


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_jobs_bounded_and_restricted(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    specs = [manifest(r)["spec"] for r in run.of_type(SCALED_JOB)]
    cron = [manifest(r)["spec"] for r in run.of_type(CRONJOB)]
    job_specs = [s["jobTargetRef"] for s in specs] + [c["jobTemplate"]["spec"] for c in cron]
    for s in specs + cron:
        assert 1 <= s["successfulJobsHistoryLimit"] <= 10
        assert 1 <= s["failedJobsHistoryLimit"] <= 10
    for job in job_specs:
        assert job["backoffLimit"] <= 6
        assert job["activeDeadlineSeconds"] > 0
        assert job["ttlSecondsAfterFinished"] > 0
        p = pod(job)
        assert p["securityContext"]["runAsNonRoot"] is True
        c = p["containers"][0]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert set(c["resources"]) == {"requests", "limits"}


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_monitor_scraped_by_managed_prometheus(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    monitors = [
        manifest(r)
        for r in run.of_type("kubernetes:azmonitoring.coreos.com/v1:PodMonitor")
        if r.name == "workflows-monitor-podmonitor"
    ]
    (pm,) = monitors
    validate_pod_monitor(pm)
    assert pm["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


def test_workflows_ray_only_where_enabled_and_rayjob_valid(
    stack_runs: dict[str, OfflineRun],
) -> None:
    for stack in STACKS:
        run = stack_runs[stack]
        ray = plain(stack)["workflows"].get("ray", {})
        jobs = [manifest(r) for r in run.of_type(RAYJOB)]
        releases = run.of_type(HELM)
        if not ray.get("enabled"):
            assert jobs == []
            assert [r for r in releases if r.name == "kuberay-operator"] == []
            continue
        (job,) = jobs
        jsonschema.validate(job, RAYJOB_SCHEMA)
        (release,) = [r for r in releases if r.name == "kuberay-operator"]
        assert release.inputs["version"] == "1.4.2"
        assert release.inputs["values"]["image"]["tag"] == "v1.4.2"
        (workers,) = job["spec"]["rayClusterSpec"]["workerGroupSpecs"]
        wpod = workers["template"]["spec"]
        assert wpod["nodeSelector"] == {"pool": ray["workerPool"]}
        assert wpod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        head_env = env(
            job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
        )
        assert head_env["RAY_ADDRESS"] == "auto"
        assert job["spec"]["entrypoint"] == "python -m workloads.retrain"
        assert math.isclose(len(job["metadata"]["name"]), len("retrain-ray-") + 8)


def test_rayjob_schema_rejects_unknown_field() -> None:
    bad = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "x"},
        "spec": {"entrypoint": "x", "rayClusterSpec": {"headGroupSpec": {}}, "entryPoint": "y"},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, RAYJOB_SCHEMA)


# The job-control fields of every workflow object, whole (the pod template and the triggers
# are asserted above). Values a stack file does not set are the config's documented defaults,
# written out here: retrain deadline 120 min, backoff 1; ingest deadline 60 min, 2 parallel jobs.
HISTORY = {"successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3}
FINISHED_TTL = 86400  # finished Jobs (and their pods' logs) kept one day


@pytest.mark.parametrize("stack", STACKS)
def test_workflows_job_control_fields_whole(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    run = stack_runs[stack]
    wf = plain(stack)["workflows"]
    retrain_job = {
        "backoffLimit": wf["retrain"].get("backoffLimit", 1),
        "activeDeadlineSeconds": wf["retrain"].get("deadlineMinutes", 120) * 60,
        "ttlSecondsAfterFinished": FINISHED_TTL,
    }
    (cron,) = [manifest(r)["spec"] for r in run.of_type(CRONJOB)]
    assert {k: v for k, v in cron.items() if k != "jobTemplate"} == {
        "schedule": wf["retrain"]["schedule"],
        "timeZone": "Etc/UTC",
        # A run still going when the next is due is not doubled; a run missed by more than an
        # hour (controller down) is skipped rather than started late.
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 3600,
        **HISTORY,
    }
    assert {k: v for k, v in cron["jobTemplate"]["spec"].items() if k != "template"} == (
        retrain_job
    )
    scaler = {
        "minReplicaCount": 0,
        "pollingInterval": 60,
        # A ScaledJob update lets running Jobs finish (KEDA's default would delete them).
        "rollout": {"strategy": "gradual"},
        **HISTORY,
    }
    ingest_job = {
        "backoffLimit": 2,
        "activeDeadlineSeconds": wf["ingest"].get("deadlineMinutes", 60) * 60,
        "ttlSecondsAfterFinished": FINISHED_TTL,
    }
    expected = {
        "retrain-new-data": ({**scaler, "maxReplicaCount": 1}, retrain_job),
        "retrain-degradation": ({**scaler, "maxReplicaCount": 1}, retrain_job),
        "ingest-new-documents": (
            {**scaler, "maxReplicaCount": wf["ingest"].get("maxParallelJobs", 2)},
            ingest_job,
        ),
    }
    for name, (spec, job) in expected.items():
        got = scaled(run, name)["spec"]
        assert {k: v for k, v in got.items() if k not in {"jobTargetRef", "triggers"}} == spec
        assert {k: v for k, v in got["jobTargetRef"].items() if k != "template"} == job, name
        assert got["jobTargetRef"]["template"]["spec"]["restartPolicy"] == "Never", name
    assert cron["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] == "Never"
