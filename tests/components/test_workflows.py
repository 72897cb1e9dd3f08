"""Workflows component: each workload's environment is exactly the contract's, the switches
(no schedule, no ingestion, no monitor, no degradation trigger) remove what they name, Qdrant
ingestion mounts the API key, and the triggers' activation keeps every Job off below threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from components.kit.kubernetes import Placement
from components.workflows import triggers
from components.workflows.loop import Workflows
from components.workflows.pods import ContainerResources
from components.workflows.specs import (
    IngestSpec,
    MonitorSpec,
    RetrainSpec,
    VectorStoreAccess,
    WorkflowsArgs,
)
from contract import workloads as contract
from offline.runner import OfflineRun
from tests.components.helpers import RG, SUB, TENANT

Runner = Callable[[Callable[[], object]], OfflineRun]
ACCOUNT = "stmlopsunitweu"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers"
CONTAINERS = {
    k: f"{BASE}/Microsoft.Storage/storageAccounts/{ACCOUNT}/blobServices/default/containers/{k}"
    for k in ("raw", "curated", "documents")
}
RES = ContainerResources(cpu_request="1", cpu_limit="2", memory_request="1Gi", memory_limit="2Gi")
CPU = Placement(pool="cpu")
IMAGE = "crunit.azurecr.io/aks-mlops/workloads@sha256:" + "ab" * 32


def _args(**overrides: Any) -> WorkflowsArgs:
    base: dict[str, Any] = {
        "namespace": "workflows",
        "resource_group_name": RG,
        "location": "westeurope",
        "identity_names": {k: f"id-{k}" for k in ("ingest", "retrain", "monitor", "keda")},
        "oidc_issuer_url": "https://westeurope.oic.prod-aks.azure.com/x/y/",
        "tenant_id": TENANT,
        "cluster_resource_id": f"{BASE}/Microsoft.ContainerService/managedClusters/aks-unit",
        "image": IMAGE,
        "image_digest": "sha256:" + "ab" * 32,
        "storage_account_name": ACCOUNT,
        "container_names": {"raw": "raw", "curated": "curated", "documents": "documents"},
        "container_resource_ids": CONTAINERS,
        "key_vault_name": "kv-unit",
        "key_vault_resource_id": f"{BASE}/Microsoft.KeyVault/vaults/kv-unit",
        "monitor_workspace_resource_id": f"{BASE}/Microsoft.Monitor/accounts/amw-unit",
        "prometheus_query_endpoint": "https://amw-unit.westeurope.prometheus.monitor.azure.com",
        "mlflow_tracking_uri": "http://mlflow.mlflow.svc.cluster.local:5000",
        "model_name": "churn",
        "champion_margin": 0.02,
        "retrain": RetrainSpec(
            schedule="0 3 * * 0",
            new_data_threshold=3,
            drift_share=0.3,
            quality_floor=0.7,
            placement=CPU,
            resources=RES,
        ),
        "ingest": IngestSpec(
            threshold=2,
            chunk_size=500,
            chunk_overlap=50,
            embedder="hashing",
            max_parallel_jobs=2,
            placement=CPU,
            resources=RES,
        ),
        "monitor": MonitorSpec(placement=CPU, resources=RES),
        "vector_store": VectorStoreAccess(
            engine="pgvector",
            collection="documents",
            dimensions=384,
            distance="cosine",
            credential_secret_name="postgres-vectors-password",
            postgres_fqdn="psql-unit.postgres.database.azure.com",
            postgres_login="vectors_app",
        ),
    }
    return WorkflowsArgs(**{**base, **overrides})


def _kinds(run: OfflineRun) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in run.resources:
        if r.type.startswith("kubernetes:") and "kind" in r.inputs:
            out.setdefault(r.inputs["kind"], []).append(r.inputs)
    return out


def _env(template: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in template["spec"]["containers"][0]["env"]}


def _scaled(kinds: dict[str, list[dict[str, Any]]], name: str) -> dict[str, Any]:
    (found,) = [o for o in kinds["ScaledJob"] if o["metadata"]["name"] == name]
    return found


def test_workflows_env_is_exactly_the_contracts_names(run_components: Runner) -> None:
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args())))
    names = {v for k, v in vars(contract).items() if k.isupper() and isinstance(v, str)}
    ingest = _env(_scaled(kinds, "ingest-new-documents")["spec"]["jobTargetRef"]["template"])
    retrain = _env(_scaled(kinds, "retrain-new-data")["spec"]["jobTargetRef"]["template"])
    (monitor,) = kinds["Deployment"]
    for env in (ingest, retrain, _env(monitor["spec"]["template"])):
        assert set(env) - {"HOME"} <= names
    assert ingest["PGUSER"] == "vectors_app"
    assert ingest["DB_PASSWORD_FILE"] == "/mnt/secrets-store/vector-store-credential"
    assert ingest["AZURE_STORAGE_ACCOUNT_URL"] == f"https://{ACCOUNT}.blob.core.windows.net"
    assert retrain["CHAMPION_MARGIN"] == "0.02"
    assert retrain["RAW_CONTAINER"] == "raw"
    assert "AZURE_STORAGE_CONNECTION_STRING" not in {**ingest, **retrain}


def test_workflows_switches_remove_what_they_name(run_components: Runner) -> None:
    args = _args(
        ingest=None,
        monitor=None,
        retrain=RetrainSpec(
            schedule=None,
            new_data_threshold=1,
            drift_share=None,
            quality_floor=None,
            placement=CPU,
            resources=RES,
        ),
    )
    run = run_components(lambda: Workflows("workflows", args))
    kinds = _kinds(run)
    assert [o["metadata"]["name"] for o in kinds["ScaledJob"]] == ["retrain-new-data"]
    assert "CronJob" not in kinds
    assert "Deployment" not in kinds
    assert "SecretProviderClass" not in kinds
    identities = run.of_type("azure-native:managedidentity:UserAssignedIdentity")
    assert sorted(r.inputs["resourceName"] for r in identities) == ["id-keda", "id-retrain"]


def test_workflows_qdrant_ingest_mounts_the_api_key(run_components: Runner) -> None:
    store = VectorStoreAccess(
        engine="qdrant",
        collection="documents",
        dimensions=384,
        distance="l2",
        credential_secret_name="qdrant-api-key",
        qdrant_url="http://qdrant.qdrant.svc.cluster.local:6333",
    )
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args(vector_store=store))))
    env = _env(_scaled(kinds, "ingest-new-documents")["spec"]["jobTargetRef"]["template"])
    assert env["QDRANT_URL"] == "http://qdrant.qdrant.svc.cluster.local:6333"
    assert env["QDRANT_API_KEY_FILE"] == "/mnt/secrets-store/vector-store-credential"
    assert "PGHOST" not in env
    (spc,) = kinds["SecretProviderClass"]
    assert "qdrant-api-key" in spc["spec"]["parameters"]["objects"]


@pytest.mark.parametrize("threshold", [1, 2, 7])
def test_workflows_blob_trigger_inactive_below_threshold(threshold: int) -> None:
    t = triggers.azure_blob_trigger(
        account_name=ACCOUNT, container="raw", threshold=threshold, auth_name="a", name="n"
    )
    # KEDA activates when the count is above activationBlobCount.
    waiting_below = threshold - 1
    assert not waiting_below > int(t["metadata"]["activationBlobCount"])
    assert threshold > int(t["metadata"]["activationBlobCount"])


def test_workflows_blob_trigger_refuses_zero_threshold() -> None:
    with pytest.raises(ValueError, match=">= 1"):
        triggers.azure_blob_trigger(
            account_name=ACCOUNT, container="raw", threshold=0, auth_name="a", name="n"
        )


def test_workflows_gpu_retrain_requests_gpus_and_tolerates_taints(run_components: Runner) -> None:
    gpu = RetrainSpec(
        schedule="0 3 * * 0",
        new_data_threshold=None,
        drift_share=None,
        quality_floor=None,
        placement=Placement(pool="gput4", spot=True, gpu=True),
        resources=ContainerResources(
            cpu_request="1", cpu_limit="2", memory_request="1Gi", memory_limit="2Gi", gpus=1
        ),
    )
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args(retrain=gpu))))
    (cron,) = kinds["CronJob"]
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "gput4"}
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    # The platform's GPU taint and AKS's spot taint (literals: node_pools.py / Learn, "spot").
    assert {(t["key"], t.get("value")) for t in pod["tolerations"]} == {
        ("nvidia.com/gpu", None),
        ("kubernetes.azure.com/scalesetpriority", "spot"),
    }


def _pod_labels(kinds: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, str]]:
    """Labels of every pod the workflows start, by the object that starts them."""
    out = {
        f"ScaledJob/{o['metadata']['name']}": o["spec"]["jobTargetRef"]["template"]["metadata"][
            "labels"
        ]
        for o in kinds["ScaledJob"]
    }
    for o in kinds["CronJob"]:
        out[f"CronJob/{o['metadata']['name']}"] = o["spec"]["jobTemplate"]["spec"]["template"][
            "metadata"
        ]["labels"]
    for o in kinds["Deployment"]:
        out[f"Deployment/{o['metadata']['name']}"] = o["spec"]["template"]["metadata"]["labels"]
    return out


def _selected(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    # NetworkPolicy podSelector with matchLabels only: every pair must be on the pod.
    wanted = policy["spec"]["podSelector"].get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def test_workflows_pods_admit_only_the_scrape_of_the_monitor(run_components: Runner) -> None:
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args())))
    policies = {p["metadata"]["name"]: p for p in kinds["NetworkPolicy"]}
    pods = _pod_labels(kinds)

    assert set(policies) == {"workflows-deny-ingress", "monitor-metrics"}
    assert all(p["metadata"]["namespace"] == "workflows" for p in policies.values())
    deny = policies["workflows-deny-ingress"]
    assert deny["spec"]["policyTypes"] == ["Ingress"]
    assert not deny["spec"].get("ingress")
    # Every pod the workflows start is isolated by the deny-all policy.
    assert len(pods) == 5
    assert all(_selected(deny, labels) for labels in pods.values()), pods
    # The monitor's metrics port, and nothing else, from kube-system (ama-metrics; Learn:
    # "Azure Monitor managed service for Prometheus", the ama-metrics pods in kube-system).
    scrape = policies["monitor-metrics"]
    assert [name for name, labels in pods.items() if _selected(scrape, labels)] == [
        "Deployment/monitor"
    ]
    (rule,) = scrape["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 9100}]
    (peer,) = rule["from"]
    assert peer["namespaceSelector"]["matchExpressions"] == [
        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["kube-system"]}
    ]
    (monitor,) = kinds["Deployment"]
    (port,) = monitor["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert port["containerPort"] == 9100


def test_workflows_policies_created_after_their_namespace(run_components: Runner) -> None:
    run = run_components(lambda: Workflows("workflows", _args()))
    (namespace,) = run.of_type("kubernetes:core/v1:Namespace")
    policies = run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")

    assert len(policies) == 2
    assert all(namespace.urn in p.dependencies for p in policies)


def test_workflows_without_monitor_keep_only_the_deny_policy(run_components: Runner) -> None:
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args(monitor=None))))

    assert [p["metadata"]["name"] for p in kinds["NetworkPolicy"]] == ["workflows-deny-ingress"]


def _identity_client_id(run: OfflineRun, identity_name: str) -> str:
    (identity,) = [
        r
        for r in run.of_type("azure-native:managedidentity:UserAssignedIdentity")
        if r.inputs["resourceName"] == identity_name
    ]
    client_id: str = identity.outputs["clientId"]
    return client_id


def test_workflows_keda_objects_reference_their_trigger_authentication(
    run_components: Runner,
) -> None:
    run = run_components(lambda: Workflows("workflows", _args()))
    kinds = _kinds(run)

    (auth,) = kinds["TriggerAuthentication"]
    assert auth["metadata"]["name"] == "workflows-azure"
    assert auth["metadata"]["labels"]["app.kubernetes.io/part-of"] == "aks-mlops"
    refs = {
        t["authenticationRef"]["name"] for o in kinds["ScaledJob"] for t in o["spec"]["triggers"]
    }
    assert refs == {"workflows-azure"}


def test_workflows_ingest_reads_its_one_secret_as_itself(run_components: Runner) -> None:
    run = run_components(lambda: Workflows("workflows", _args()))
    (spc,) = _kinds(run)["SecretProviderClass"]

    assert spc["spec"]["parameters"]["clientID"] == _identity_client_id(run, "id-ingest")
    # Key Vault Secrets User on the one secret ingestion reads, not on the vault.
    scopes = {
        r.inputs["scope"]
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith("4633458b-17de-408a-b874-0445c86b69e6")
    }
    assert scopes == {f"{BASE}/Microsoft.KeyVault/vaults/kv-unit/secrets/postgres-vectors-password"}


def test_workflows_monitor_service_and_scrape_reach_its_pods(run_components: Runner) -> None:
    kinds = _kinds(run_components(lambda: Workflows("workflows", _args())))
    (monitor,) = kinds["Deployment"]
    (service,) = kinds["Service"]
    (pod_monitor,) = kinds["PodMonitor"]
    pod_labels = monitor["spec"]["template"]["metadata"]["labels"]

    assert service["metadata"]["labels"]["app.kubernetes.io/part-of"] == "aks-mlops"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"}
    ]
    assert pod_monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pod_monitor["spec"]["namespaceSelector"] == {"matchNames": ["workflows"]}
    # MonitorSpec's default scrape interval: 60 s.
    assert pod_monitor["spec"]["podMetricsEndpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "60s"}
    ]


def test_workflows_prometheus_trigger_metadata_as_keda_documents_it() -> None:
    # KEDA 2.16 prometheus scaler (https://keda.sh/docs/2.16/scalers/prometheus/): keys are
    # case-sensitive; the activation threshold keeps the Job off up to the threshold.
    trigger = triggers.prometheus_trigger(
        server_address="https://amw-unit.westeurope.prometheus.monitor.azure.com",
        query="max(model_drift_share)",
        threshold=0.3,
        auth_name="workflows-azure",
        name="drift",
    )

    assert trigger == {
        "type": "prometheus",
        "name": "drift",
        "metadata": {
            "serverAddress": "https://amw-unit.westeurope.prometheus.monitor.azure.com",
            "query": "max(model_drift_share)",
            "threshold": "0.3",
            "activationThreshold": "0.3",
            "ignoreNullValues": "true",
        },
        "authenticationRef": {"name": "workflows-azure"},
    }
