"""Per-stack ordering and least privilege of the database Jobs, from the real program's run.

What Azure and PostgreSQL need first is asserted on the recorded dependency graph (each
resource's ``dependencies`` as Pulumi would register them): a Job that runs before its
database or the extension allow-list exists fails, and a failed Job blocks the next
``pulumi up`` unless Pulumi may replace it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from offline.runner import MASK, SECRET_PLACEHOLDER, OfflineRun, RecordedResource
from tests.conftest import STACKS

JOB = "kubernetes:batch/v1:Job"
ROLE = "azure-native:authorization:RoleAssignment"
SECRET = "azure-native:keyvault:Secret"
# Key Vault Secrets User, from https://learn.microsoft.com/azure/role-based-access-control/
# built-in-roles/security#key-vault-secrets-user
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
PGVECTOR_STACKS = ("dev", "prod")


def _job(run: OfflineRun, namespace: str) -> RecordedResource:
    found = [r for r in run.of_type(JOB) if r.inputs["metadata"]["namespace"] == namespace]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def _waits_for(run: OfflineRun, later: RecordedResource, *earlier: str) -> None:
    for name in earlier:
        assert run.named(name).urn in later.dependencies, f"{later.name} must wait for {name}"


def _secret_readers(run: OfflineRun) -> dict[str, set[str]]:
    """Key Vault secret name -> the identities (logical names) allowed to read it."""
    principals = {
        r.outputs["principalId"]: r.name
        for r in run.of_type("azure-native:managedidentity:UserAssignedIdentity")
    }
    readers: dict[str, set[str]] = {}
    for grant in run.of_type(ROLE):
        inputs = grant.inputs
        if inputs["roleDefinitionId"].rsplit("/", 1)[-1] != KEY_VAULT_SECRETS_USER:
            continue
        assert "/secrets/" in inputs["scope"], f"{grant.name} reads the whole vault"
        secret = inputs["scope"].rsplit("/secrets/", 1)[1]
        readers.setdefault(secret, set()).add(principals[inputs["principalId"]])
    return readers


@pytest.mark.parametrize("stack", STACKS)
def test_stack_roles_job_waits_for_databases_and_extension_allow_list(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    job = run.named("db-roles-job")
    script = run.named("db-roles-script").inputs["data"]["roles.sql"]

    _waits_for(run, job, "postgres-db-mlflow", "postgres-extensions", "db-roles-script")
    # The secret grants exist before the pod mounts the secrets (a component expands to its
    # children in the graph).
    _waits_for(run, job, "db-roles-identity-admin-password-reader", "db-roles-secrets")
    assert "CREATE ROLE mlflow_app LOGIN;" in script
    if stack in PGVECTOR_STACKS:
        _waits_for(run, job, "postgres-db-vectors")
        assert "CREATE ROLE vectors_app LOGIN;" in script
        assert "CREATE EXTENSION IF NOT EXISTS vector;" in script
    else:
        assert "vectors_app" not in script


@pytest.mark.parametrize("stack", PGVECTOR_STACKS)
def test_stack_schema_job_waits_for_vectors_database_allow_list_and_roles(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    job = _job(run, "vector-store")
    env = {
        e["name"]: e["value"]
        for e in job.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    }

    assert job.name == "vector-store-schema-job"
    _waits_for(run, job, "postgres-db-vectors", "db-roles-job")
    # Transitively through the roles job: the allow-list exists before CREATE EXTENSION.
    _waits_for(run, run.named("db-roles-job"), "postgres-extensions")
    assert env["PGUSER"] == "vectors_app"
    assert env["PGDATABASE"] == "vectors"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_mlflow_migrates_once_before_the_deployment_rolls(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    migration = _job(run, "mlflow")
    deployment = run.named("mlflow-deployment")
    (upgrade,) = migration.inputs["spec"]["template"]["spec"]["containers"]
    (server,) = deployment.inputs["spec"]["template"]["spec"]["containers"]

    assert migration.name == "mlflow-db-upgrade"
    _waits_for(run, migration, "postgres-db-mlflow", "db-roles-job")
    _waits_for(run, migration, "mlflow-identity-db-password-reader", "mlflow-secrets")
    _waits_for(run, deployment, "mlflow-db-upgrade", "postgres-db-mlflow")
    assert (
        upgrade["command"][2]
        .rstrip()
        .endswith('exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"')
    )
    assert upgrade["image"] == server["image"]
    assert upgrade["env"] == server["env"]
    assert {e["name"]: e["value"] for e in server["env"]}["MLFLOW_DB_USER"] == "mlflow_app"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_jobs_are_replaced_when_unready_and_kept_when_finished(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    jobs = stack_runs[stack].of_type(JOB)

    assert len(jobs) == (3 if stack in PGVECTOR_STACKS else 2)
    for job in jobs:
        # pulumi-kubernetes batch/v1 Job reference: replace a Job that did not become ready.
        annotations = job.inputs["metadata"]["annotations"]
        assert annotations["pulumi.com/replaceUnready"] == "true"
        # Besides it, only checkov waivers (tests/manifests/test_checkov.py pins which).
        assert all(
            k.startswith("checkov.io/skip")
            for k in set(annotations) - {"pulumi.com/replaceUnready"}
        )
        assert "ttlSecondsAfterFinished" not in job.inputs["spec"]
        assert job.inputs["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_each_identity_reads_only_its_own_database_password(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    readers = _secret_readers(stack_runs[stack])

    assert readers["postgres-admin-password"] == {"db-roles-identity-identity"}
    assert readers["postgres-mlflow-password"] == {
        "db-roles-identity-identity",
        "mlflow-identity-identity",
    }
    if stack in PGVECTOR_STACKS:
        assert readers["postgres-vectors-password"] == {
            "db-roles-identity-identity",
            "vector-store-identity-identity",
            # Ingestion writes vectors as the vectors application (workflows).
            "workflows-ingest-identity-identity",
        }
    else:
        assert "postgres-vectors-password" not in readers


@pytest.mark.parametrize("stack", STACKS)
def test_stack_app_role_passwords_are_generated_and_kept_in_key_vault_masked(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    secrets = {r.inputs["secretName"]: r for r in run.of_type(SECRET)}
    passwords = {
        r.name: r.inputs for r in run.of_type("random:index/randomPassword:RandomPassword")
    }
    expected = ["postgres-mlflow-password"] + (
        ["postgres-vectors-password"] if stack in PGVECTOR_STACKS else []
    )

    for name in expected:
        properties: Any = secrets[name].inputs["properties"]
        assert properties == MASK or properties["value"] == MASK
        assert passwords[name]["length"] >= 32
    assert SECRET_PLACEHOLDER not in repr([r.inputs for r in run.resources])


@pytest.mark.parametrize("stack", STACKS)
def test_stack_apps_mount_their_own_password_never_the_administrators(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    mounted = {
        r.inputs["metadata"]["namespace"]: {
            yaml.safe_load(item)["objectName"]
            for item in yaml.safe_load(r.inputs["spec"]["parameters"]["objects"])["array"]
        }
        for r in run.resources
        if r.inputs.get("kind") == "SecretProviderClass"
    }

    assert mounted.pop("db-roles") >= {"postgres-admin-password", "postgres-mlflow-password"}
    assert mounted.pop("mlflow") == {"postgres-mlflow-password"}
    if stack in PGVECTOR_STACKS:
        assert mounted.pop("vector-store") == {"postgres-vectors-password"}
        assert mounted.pop("workflows") == {"postgres-vectors-password"}
    assert all("postgres-admin-password" not in names for names in mounted.values())
