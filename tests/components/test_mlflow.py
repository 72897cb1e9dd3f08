"""Mlflow: the wire inputs of the tracking server's Kubernetes objects and identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.mlflow import server as mlflow_server
from offline.runner import OfflineRun
from tests.manifests.workload_inputs import (
    MLFLOW_LOGIN,
    MLFLOW_PASSWORD_SECRET,
    container,
    env_of,
    objects,
    one,
    one_in,
    render,
    stack_config,
    workload_inputs,
)
from tests.unit.test_well_known_values import CLIENT_ID_ANNOTATION, ROLE_IDS, USE_LABEL

Runner = Callable[[Callable[[], object]], OfflineRun]


@pytest.fixture
def dev(run_components: Runner) -> tuple[OfflineRun, dict[str, Any]]:
    """The dev stack's workloads (one MLflow replica, pgvector)."""
    return render(stack_config("dev"), "dev", run_components)


def _server(run: OfflineRun) -> dict[str, Any]:
    return container(one(run, "Deployment", "mlflow"), "mlflow")


def test_mlflow_command_builds_backend_uri_from_mounted_password_file_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    server = _server(run)
    env = env_of(server)
    mounts = {m["name"]: m for m in server["volumeMounts"]}
    volumes = {
        v["name"]: v
        for v in one(run, "Deployment", "mlflow")["spec"]["template"]["spec"]["volumes"]
    }

    assert server["command"][:2] == ["/bin/sh", "-c"]
    script = server["command"][2]
    assert 'MLFLOW_DB_PASSWORD_FILE"' in script
    assert 'export MLFLOW_BACKEND_STORE_URI\nexec mlflow server "$@"' in script
    assert "--backend-store-uri" not in script + " ".join(server["args"])
    assert "postgresql+psycopg2://" in script
    assert env["MLFLOW_DB_PASSWORD_FILE"] == "/mnt/secrets-store/postgres-password"
    assert mounts["secrets-store"] == {
        "name": "secrets-store",
        "mountPath": "/mnt/secrets-store",
        "readOnly": True,
    }
    assert volumes["secrets-store"]["csi"] == {
        "driver": "secrets-store.csi.k8s.io",
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": "mlflow-postgres"},
    }
    assert env["MLFLOW_DB_HOST"].endswith(".postgres.database.azure.com")
    assert env["MLFLOW_DB_USER"] == MLFLOW_LOGIN
    assert (env["MLFLOW_DB_PORT"], env["MLFLOW_DB_NAME"], env["MLFLOW_DB_SSLMODE"]) == (
        "5432",
        "mlflow",
        "require",
    )


def test_mlflow_secret_provider_class_maps_password_secret_to_file_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = dev
    spc = one(run, "SecretProviderClass", "mlflow-postgres")
    params = spc["spec"]["parameters"]
    items = [yaml.safe_load(item) for item in yaml.safe_load(params["objects"])["array"]]

    assert spc["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    assert spc["spec"]["provider"] == "azure"
    assert "secretObjects" not in spc["spec"]
    assert items == [
        {
            "objectName": MLFLOW_PASSWORD_SECRET,
            "objectType": "secret",
            "objectAlias": "postgres-password",
        }
    ]
    assert params["usePodIdentity"] == "false"
    assert params["clientID"] == seen["mlflow.client_id"]
    assert params["keyvaultName"].startswith("kv-")


def test_mlflow_args_point_artifacts_at_wasbs_container_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    args = _server(run)["args"]
    account = workload_inputs(stack_config("dev"), "dev").storage_account_name

    assert args[args.index("--artifacts-destination") + 1] == (
        f"wasbs://mlflow-artifacts@{account}.blob.core.windows.net/"
    )
    assert "--serve-artifacts" in args
    assert args[args.index("--host") + 1] == "0.0.0.0"
    assert args[args.index("--port") + 1] == "5000"
    assert args[args.index("--workers") + 1] == "2"


def test_mlflow_allowed_hosts_include_service_dns_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = dev
    args = _server(run)["args"]
    hosts = args[args.index("--allowed-hosts") + 1].split(",")

    assert "mlflow.mlflow.svc.cluster.local:*" in hosts
    assert "mlflow:*" in hosts
    assert "*" not in hosts
    assert seen["mlflow.tracking_uri"] == "http://mlflow.mlflow.svc.cluster.local:5000"


def test_mlflow_service_account_annotation_equals_identity_client_id_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = dev
    account = one(run, "ServiceAccount", "mlflow")

    assert seen["mlflow.client_id"]
    assert account["metadata"]["annotations"] == {CLIENT_ID_ANNOTATION: seen["mlflow.client_id"]}
    assert account["metadata"]["namespace"] == "mlflow"


def test_mlflow_pod_template_uses_workload_identity_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    template = one(run, "Deployment", "mlflow")["spec"]["template"]

    assert template["metadata"]["labels"][USE_LABEL] == "true"
    assert template["spec"]["serviceAccountName"] == "mlflow"
    assert template["spec"]["automountServiceAccountToken"] is False


def test_mlflow_federated_credential_trusts_mlflow_service_account_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    federation = run.named("mlflow-identity-federation").inputs
    identity = run.named("mlflow-identity-identity").inputs

    assert federation["subject"] == "system:serviceaccount:mlflow:mlflow"
    assert federation["issuer"].startswith("https://westeurope.oic.prod-aks.azure.com/")
    assert identity["resourceName"] == "id-mlops-dev-weu-mlflow"


def test_mlflow_identity_roles_scoped_to_container_and_password_secret_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    inputs = workload_inputs(stack_config("dev"), "dev")
    blob = run.named("mlflow-identity-artifacts-blob-contributor").inputs
    vault = run.named("mlflow-identity-db-password-reader").inputs

    assert blob["scope"] == inputs.artifacts_container_resource_id
    assert blob["roleDefinitionId"].endswith(ROLE_IDS["Storage Blob Data Contributor"])
    assert vault["scope"] == f"{inputs.key_vault_resource_id}/secrets/{MLFLOW_PASSWORD_SECRET}"
    assert vault["roleDefinitionId"].endswith(ROLE_IDS["Key Vault Secrets User"])
    assert {blob["principalType"], vault["principalType"]} == {"ServicePrincipal"}


def test_mlflow_creates_no_kubernetes_secret_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    server = _server(run)
    kinds = {r.inputs.get("kind") for r in run.resources if r.type.startswith("kubernetes:")}

    assert "Secret" not in kinds
    assert all("valueFrom" not in e for e in server["env"])
    assert "envFrom" not in server
    assert not {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCESS_KEY"} & set(env_of(server))


@pytest.mark.parametrize(("replicas", "budgets"), [(1, 0), (2, 1), (3, 1)])
def test_mlflow_disruption_budget_only_when_two_replicas_or_more(
    run_components: Runner, replicas: int, budgets: int
) -> None:
    run, _ = render(stack_config("dev", mlflow={"replicas": replicas}), "dev", run_components)
    deployment = one(run, "Deployment", "mlflow")
    spread = deployment["spec"]["template"]["spec"].get("topologySpreadConstraints")

    assert deployment["spec"]["replicas"] == replicas
    assert len(objects(run, "PodDisruptionBudget")) == budgets
    assert (spread is not None) == (budgets == 1)
    if budgets:
        pdb = one(run, "PodDisruptionBudget", "mlflow")
        assert pdb["spec"]["maxUnavailable"] == 1
        assert (
            pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        )


def test_mlflow_network_policy_admits_platform_namespaces_on_5000_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    policy = one(run, "NetworkPolicy", "mlflow-ingress")["spec"]
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]

    assert policy["policyTypes"] == ["Ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5000}]
    assert peer["namespaceSelector"]["matchExpressions"] == [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "In",
            # dev runs the workflows (retrain, monitor) and serves a model: both reach MLflow.
            "values": ["mlflow", "serving", "vector-store", "workflows"],
        }
    ]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "mlflow"


def test_mlflow_service_is_cluster_ip_on_5000_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    service = one(run, "Service", "mlflow")["spec"]

    assert service["type"] == "ClusterIP"
    assert service["ports"] == [
        {"name": "http", "port": 5000, "targetPort": "http", "protocol": "TCP"}
    ]
    assert (
        service["selector"] == one(run, "Deployment", "mlflow")["spec"]["selector"]["matchLabels"]
    )
    assert objects(run, "Ingress") == []


def test_mlflow_pod_runs_restricted_with_writable_tmp_only_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    pod = one(run, "Deployment", "mlflow")["spec"]["template"]["spec"]
    server = _server(run)
    security = server["securityContext"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    writable = [m["mountPath"] for m in server["volumeMounts"] if not m.get("readOnly")]
    assert writable == ["/tmp"]
    assert env_of(server)["HOME"] == "/tmp"
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    # Proxied artifacts are buffered whole in /tmp: sized from config (default 32 GiB).
    assert tmp["emptyDir"]["sizeLimit"] == "32Gi"


def test_mlflow_probes_use_health_endpoint_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    server = _server(run)

    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["httpGet"] == {"path": "/health", "port": "http"}
    assert (
        server["startupProbe"]["failureThreshold"] * server["startupProbe"]["periodSeconds"] >= 300
    )


def test_mlflow_lands_on_cpu_pool_without_tolerations_when_pool_on_demand(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    pod = one(run, "Deployment", "mlflow")["spec"]["template"]["spec"]

    assert pod["nodeSelector"] == {"pool": "cpu"}
    assert "tolerations" not in pod


def test_mlflow_tolerates_spot_taint_when_cpu_pool_spot(run_components: Runner) -> None:
    run, _ = render(stack_config("dev", cpuPool={"spot": True}), "dev", run_components)
    pod = one(run, "Deployment", "mlflow")["spec"]["template"]["spec"]

    assert pod["tolerations"] == [
        {
            "key": "kubernetes.azure.com/scalesetpriority",
            "operator": "Equal",
            "value": "spot",
            "effect": "NoSchedule",
        }
    ]


def test_mlflow_resources_and_image_follow_config_when_set(run_components: Runner) -> None:
    cfg = stack_config(
        "dev",
        mlflow={"cpuRequest": "500m", "memoryLimit": "2Gi", "workers": 4},
    )
    run, _ = render(cfg, "dev", run_components)
    server = _server(run)

    assert server["image"] == "ghcr.io/mlflow/mlflow:v3.17.2-full"
    assert server["resources"] == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    assert server["args"][server["args"].index("--workers") + 1] == "4"


def test_server_env_sets_no_storage_credentials_when_built() -> None:
    env = mlflow_server.server_env(db_host="db.example", db_user="u")

    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert not any(key.startswith("AZURE_STORAGE") for key in env)
    assert env["MLFLOW_DB_PASSWORD_FILE"] == mlflow_server.PASSWORD_FILE


def test_allowed_hosts_follow_namespace_when_not_default() -> None:
    hosts = mlflow_server.allowed_hosts("tracking")

    assert hosts[:4] == [
        "mlflow.tracking.svc.cluster.local:*",
        "mlflow.tracking.svc:*",
        "mlflow.tracking:*",
        "mlflow:*",
    ]


def test_mlflow_migration_job_runs_db_upgrade_like_the_server_when_deployed(
    dev: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = dev
    job = one_in(run, "Job", "mlflow")
    upgrade = container(job, "db-upgrade")
    server = _server(run)
    pod = job["spec"]["template"]["spec"]
    deployment_pod = one(run, "Deployment", "mlflow")["spec"]["template"]["spec"]

    assert upgrade["command"][:2] == ["/bin/sh", "-c"]
    assert upgrade["command"][2].endswith('exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"\n')
    # Same URI-building prelude as the server: only the final exec differs.
    assert upgrade["command"][2].rsplit("exec ", 1)[0] == server["command"][2].rsplit("exec ", 1)[0]
    assert (upgrade["image"], upgrade["env"]) == (server["image"], server["env"])
    assert pod["serviceAccountName"] == deployment_pod["serviceAccountName"] == "mlflow"
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"] == deployment_pod["securityContext"]
    assert upgrade["securityContext"] == server["securityContext"]
    assert {v["name"]: v for v in pod["volumes"]}["secrets-store"]["csi"]["volumeAttributes"] == {
        "secretProviderClass": "mlflow-postgres"
    }
    assert job["metadata"]["name"].startswith("mlflow-db-upgrade-")
    assert job["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    # Pinned by tag only: the checkov digest waiver rides on the Job (components/kit/checkov.py).
    assert job["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_43=")
    assert len(job["metadata"]["annotations"]) == 2
    # Not selected by the server's Service, PDB or spread.
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == (
        "db-upgrade"
    )


def test_mlflow_migration_job_name_changes_only_with_the_image(run_components: Runner) -> None:
    names = [
        one_in(
            render(stack_config("dev", mlflow=change), "dev", run_components)[0], "Job", "mlflow"
        )["metadata"]["name"]
        for change in ({}, {"workers": 4}, {"image": "ghcr.io/mlflow/mlflow:v3.18.0-full"})
    ]

    assert names[0] == names[1]
    assert names[0] != names[2]
