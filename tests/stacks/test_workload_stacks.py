"""Per-stack invariants of the Kubernetes workloads, from the real program's run.

The manifests written by the offline plan for each stack are validated (strict schemas for
the stack's Kubernetes version; SecretProviderClass and PodMonitor against their CRD schemas),
and the identities the workloads use are tied to the Azure resources the same run created.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from infra.config import parse_config
from offline.manifests import write_manifests
from offline.runner import OfflineRun
from tests.conftest import STACKS, encode, stack_values
from tests.manifests.crds import keda_problems, validate_pod_monitor
from tests.unit.test_well_known_values import ROLE_IDS

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "schemas" / "secretproviderclass-v1.json").read_text()
)
WORKSPACE_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "schemas" / "kaito-workspace-v1beta1.json").read_text()
)
# Custom resources: each checked against its own schema or model below.
CRD_KINDS = {
    "SecretProviderClass",
    "PodMonitor",
    "ScaledObject",
    "TriggerAuthentication",
    "Workspace",
    "ScaledJob",
    "RayJob",
}
K8S = "kubernetes:"


def _manifests(run: OfflineRun, tmp_path: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in write_manifests(run, tmp_path)]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, [(d["kind"], d["metadata"]["name"]) for d in docs])
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_manifests_are_valid_for_the_cluster_version(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    cfg = parse_config(encode(stack_values(stack)))
    docs = _manifests(stack_runs[stack], tmp_path)
    # The workflows' KubeRay RayJob is validated in tests/manifests/test_workflows_manifests.py.
    builtin = [d for d in docs if d["kind"] not in CRD_KINDS]
    classes = [d for d in docs if d["kind"] == "SecretProviderClass"]
    monitors = [d for d in docs if d["kind"] == "PodMonitor"]
    # Serving's KEDA objects (the workflows' ScaledJobs: test_workflows_manifests.py).
    keda_objects = [d for d in docs if d["kind"] in {"ScaledObject", "TriggerAuthentication"}]
    workspaces = [d for d in docs if d["kind"] == "Workspace"]
    assert len(builtin) >= 10
    assert classes
    assert monitors
    assert {d["kind"] for d in keda_objects} == {"ScaledObject", "TriggerAuthentication"}
    assert len(workspaces) == (1 if cfg.serving.llm else 0)
    for obj in builtin:
        kubernetes_validate.validate(obj, cfg.cluster.kubernetes_version, strict=True)
    for obj in classes:
        jsonschema.validate(obj, SCHEMA)
    for obj in monitors:
        validate_pod_monitor(obj)
    for obj in keda_objects:
        assert keda_problems(obj) == []
    for obj in workspaces:
        jsonschema.validate(obj, WORKSPACE_SCHEMA)
    assert not [d for d in docs if d["kind"] == "Secret"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_mlflow_runs_the_configured_image_and_replicas(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    cfg = parse_config(encode(stack_values(stack)))
    docs = _manifests(stack_runs[stack], tmp_path)
    deployment = _one(docs, "Deployment", "mlflow")
    assert deployment["metadata"]["namespace"] == cfg.mlflow.namespace
    assert deployment["spec"]["replicas"] == cfg.mlflow.replicas
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    # Configured upstream (ghcr.io/...), pulled through the registry's cache rule.
    login = (
        stack_runs[stack]
        .of_type("azure-native:containerregistry:Registry")[0]
        .outputs["loginServer"]
    )
    assert container["image"] == f"{login}/ghcr/" + cfg.mlflow.image.removeprefix("ghcr.io/")
    pdbs = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert bool(pdbs) == (cfg.mlflow.replicas >= 2)
    assert stack_runs[stack].outputs["mlflowTrackingUri"] == (
        f"http://mlflow.{cfg.mlflow.namespace}.svc.cluster.local:5000"
    )


@pytest.mark.parametrize("stack", STACKS)
def test_stack_mlflow_identity_is_federated_to_its_service_account_and_scoped(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    run = stack_runs[stack]
    cfg = parse_config(encode(stack_values(stack)))
    docs = _manifests(run, tmp_path)
    sa = _one(docs, "ServiceAccount", "mlflow")
    client_id = sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
    identities = [
        r
        for r in run.of_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.outputs["clientId"] == client_id
    ]
    assert len(identities) == 1
    identity = identities[0]
    (cluster,) = run.of_type("azure-native:containerservice:ManagedCluster")
    federations = [
        r.inputs
        for r in run.of_type("azure-native:managedidentity:FederatedIdentityCredential")
        if r.inputs["resourceName"] == identity.inputs["resourceName"]
    ]
    assert [f["subject"] for f in federations] == [
        f"system:serviceaccount:{cfg.mlflow.namespace}:mlflow"
    ]
    assert federations[0]["issuer"] == cluster.outputs["oidcIssuerProfile"]["issuerURL"]
    grants = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[-1]: r.inputs["scope"]
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == identity.outputs["principalId"]
    }
    container = next(
        r
        for r in run.of_type("azure-native:storage:BlobContainer")
        if r.inputs["containerName"] == "mlflow-artifacts"
    )
    assert grants[ROLE_IDS["Storage Blob Data Contributor"]] == container.id
    assert grants[ROLE_IDS["Key Vault Secrets User"]].endswith("/secrets/postgres-mlflow-password")
    assert len(grants) == 2


def test_stack_test_runs_qdrant_on_the_configured_volume(stack_runs, tmp_path: Path) -> None:
    cfg = parse_config(encode(stack_values("test")))
    docs = _manifests(stack_runs["test"], tmp_path)
    sts = _one(docs, "StatefulSet", "qdrant")
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    # The test stack's CPU pool spans two zones: the platform's zone-redundant class.
    assert claim["spec"]["storageClassName"] == "qdrant-premium-zrs"
    assert claim["spec"]["resources"]["requests"]["storage"] == (
        f"{cfg.vector_db.qdrant.storage_size_gi}Gi"
    )
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert stack_runs["test"].outputs["vectorStoreEndpoint"].startswith("http://qdrant.")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_pgvector_schema_job_targets_the_vectors_database(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    docs = _manifests(stack_runs[stack], tmp_path)
    jobs = [d for d in docs if d["kind"] == "Job" and d["metadata"]["namespace"] == "vector-store"]
    assert len(jobs) == 1
    assert jobs[0]["spec"]["template"]["spec"]["containers"][0]["env"][2] == {
        "name": "PGDATABASE",
        "value": "vectors",
    }
    fqdn = stack_runs[stack].outputs["postgresFqdn"]
    assert stack_runs[stack].outputs["vectorStoreEndpoint"] == f"postgresql://{fqdn}:5432/vectors"
    assert not [d for d in docs if d["kind"] == "StatefulSet"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_kubernetes_resources_use_the_cluster_provider(stack_runs, stack: str) -> None:
    run = stack_runs[stack]
    providers = run.of_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    k8s = [r for r in run.resources if r.custom and r.type.startswith(K8S)]
    assert k8s
    for r in k8s:
        assert r.provider.startswith(providers[0].urn), r.name


def _selects(expressions: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    for e in expressions:
        present = e["key"] in labels
        if e["operator"] == "In" and not (present and labels[e["key"]] in e["values"]):
            return False
        if e["operator"] == "Exists" and not present:
            return False
        if e["operator"] == "DoesNotExist" and present:
            return False
    return True


@pytest.mark.parametrize("stack", STACKS)
def test_stack_every_aks_driver_gpu_pool_gets_exactly_one_device_plugin(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    run = stack_runs[stack]
    docs = _manifests(run, tmp_path)
    daemonsets = [
        d
        for d in docs
        if d["kind"] == "DaemonSet" and d["metadata"]["name"].startswith("nvidia-device-plugin")
    ]
    gpu_pools = [
        p.inputs
        for p in run.of_type("azure-native:containerservice:AgentPool")
        if p.inputs["nodeLabels"].get("accelerator") == "nvidia"
    ]
    assert gpu_pools
    for pool in gpu_pools:
        labels = pool["nodeLabels"]
        selecting = [
            d["metadata"]["name"]
            for d in daemonsets
            if _selects(
                d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
                    "requiredDuringSchedulingIgnoredDuringExecution"
                ]["nodeSelectorTerms"][0]["matchExpressions"],
                labels,
            )
        ]
        expected = 1 if pool["gpuProfile"]["driver"] == "Install" else 0
        assert len(selecting) == expected, (pool["agentPoolName"], selecting)
    cpu_labels = next(
        p.inputs["nodeLabels"]
        for p in run.of_type("azure-native:containerservice:AgentPool")
        if "accelerator" not in p.inputs["nodeLabels"]
    )
    for d in daemonsets:
        terms = d["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"
        ]["nodeSelectorTerms"][0]["matchExpressions"]
        assert not _selects(terms, cpu_labels), d["metadata"]["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_stack_dcgm_exporter_runs_on_exactly_the_aks_driver_gpu_pools(
    stack_runs, stack: str, tmp_path: Path
) -> None:
    run = stack_runs[stack]
    docs = _manifests(run, tmp_path)
    exporter = _one(docs, "DaemonSet", "dcgm-exporter")
    terms = exporter["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"][0]["matchExpressions"]
    for pool in run.of_type("azure-native:containerservice:AgentPool"):
        labels = pool.inputs["nodeLabels"]
        expected = (
            labels.get("accelerator") == "nvidia"
            and pool.inputs["gpuProfile"]["driver"] == "Install"
        )
        assert _selects(terms, labels) == expected, pool.inputs["agentPoolName"]
    monitor = _one(docs, "PodMonitor", "dcgm-exporter")
    assert monitor["apiVersion"] == "azmonitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == exporter["metadata"]["namespace"]
    assert (
        monitor["spec"]["selector"]["matchLabels"]
        == exporter["spec"]["template"]["metadata"]["labels"]
    )
