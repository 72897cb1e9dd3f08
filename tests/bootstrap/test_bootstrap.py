"""The bootstrap program (state backend, secrets key, CI identities) under the mock runtime.

Expected role ids are Azure's built-in role ids, written as literals from
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles (Reader,
Contributor, Role Based Access Control Administrator, Storage Blob Data Contributor, Key Vault
Crypto User, AKS Cluster User / RBAC Reader / RBAC Cluster Admin).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.config import ConfigError
from offline.runner import (
    BOOTSTRAP_DIR,
    BOOTSTRAP_PROJECT,
    ROOT,
    OfflineMocks,
    OfflineRun,
    RecordedResource,
    RecordingMonitor,
    load_stack_config,
    run_bootstrap_stack,
    run_program,
)

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RBAC_ADMIN = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
USER_ACCESS_ADMIN = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
AKS_USER = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f"
AKS_RBAC_READER = "7f6c6a51-bcf8-42ba-9220-52d62157d7db"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"
SUBSCRIPTION_SCOPE = "/subscriptions/00000000-0000-4000-8000-000000000001"
P = "aks-mlops-bootstrap:"


@pytest.fixture(scope="module")
def run() -> OfflineRun:
    return run_bootstrap_stack("example")


def _values() -> dict[str, Any]:
    config, _ = load_stack_config("example", BOOTSTRAP_DIR)
    out: dict[str, Any] = {}
    for key, raw in config.items():
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return copy.deepcopy(out)


def _run_with(values: dict[str, Any], monitor: RecordingMonitor | None = None) -> OfflineRun:
    config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    return run_program(
        "example",
        config,
        program=BOOTSTRAP_DIR / "__main__.py",
        project=BOOTSTRAP_PROJECT,
        monitor=monitor,
    )


def _guid(role_definition_id: str) -> str:
    return role_definition_id.rsplit("/", 1)[-1]


def _roles_of(run: OfflineRun, component: str) -> dict[str, RecordedResource]:
    """Role assignments of one CI identity, by role guid."""
    parent = next(r.urn for r in run.resources if r.name == component and not r.custom)
    found = [
        r for r in run.of_type("azure-native:authorization:RoleAssignment") if r.parent == parent
    ]
    by_guid = {_guid(r.inputs["roleDefinitionId"]): r for r in found}
    assert len(by_guid) == len(found), "one assignment per role"
    return by_guid


def test_bootstrap_state_account_versioned_keyless_private(run: OfflineRun) -> None:
    (account,) = run.of_type("azure-native:storage:StorageAccount")
    i = account.inputs
    assert i["accountName"] == "stmlopspulumi7f3a"
    assert i["kind"] == "StorageV2"
    # Versioning is refused on hierarchical-namespace accounts: the state account is flat.
    assert i["isHnsEnabled"] is False
    assert i["allowSharedKeyAccess"] is False
    assert i["allowBlobPublicAccess"] is False
    assert i["minimumTlsVersion"] == "TLS1_2"
    assert i["enableHttpsTrafficOnly"] is True
    assert i["defaultToOAuthAuthentication"] is True
    (service,) = run.of_type("azure-native:storage:BlobServiceProperties")
    assert service.inputs["isVersioningEnabled"] is True
    assert service.inputs["deleteRetentionPolicy"] == {"enabled": True, "days": 30.0}
    assert service.inputs["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30.0}
    (container,) = run.of_type("azure-native:storage:BlobContainer")
    assert container.inputs["containerName"] == "pulumi-state"
    assert container.inputs["publicAccess"] == "None"


def test_bootstrap_stateful_resources_protected_and_retained(run: OfflineRun) -> None:
    for typ in (
        "azure-native:resources:ResourceGroup",
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobContainer",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
    ):
        (resource,) = run.of_type(typ)
        assert resource.protect, typ
        assert resource.retain_on_delete, typ


def test_bootstrap_secrets_key_in_rbac_vault_with_purge_protection(run: OfflineRun) -> None:
    (vault,) = run.of_type("azure-native:keyvault:Vault")
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enablePurgeProtection"] is True
    assert props["softDeleteRetentionInDays"] == 90
    (key,) = run.of_type("azure-native:keyvault:Key")
    assert key.inputs["properties"]["kty"] == "RSA"
    assert {"encrypt", "decrypt"} <= set(key.inputs["properties"]["keyOps"])
    assert run.outputs["secretsProvider"] == (
        "azurekeyvault://kv-mlops-pulumi-7f3a.vault.azure.net/keys/pulumi-secrets"
    )
    assert run.outputs["backendUrl"] == "azblob://pulumi-state?storage_account=stmlopspulumi7f3a"


def test_bootstrap_operators_get_state_and_key_access(run: OfflineRun) -> None:
    (container,) = run.of_type("azure-native:storage:BlobContainer")
    (key,) = run.of_type("azure-native:keyvault:Key")
    operators = [
        r
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == "11111111-1111-4111-8111-111111111111"
    ]
    assert {(_guid(r.inputs["roleDefinitionId"]), r.inputs["scope"]) for r in operators} == {
        (BLOB_DATA_CONTRIBUTOR, container.id),
        (CRYPTO_USER, key.id),
    }
    assert {r.inputs["principalType"] for r in operators} == {"Group"}


def test_bootstrap_github_subjects_per_environment_and_preview(run: OfflineRun) -> None:
    creds = run.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    github = {
        (c.inputs["resourceName"], c.inputs["subject"])
        for c in creds
        if c.inputs["issuer"] == GITHUB_ISSUER
    }
    assert github == {
        ("id-mlops-ci-preview", "repo:example-org/aks-mlops:pull_request"),
        ("id-mlops-ci-preview", "repo:example-org/aks-mlops:environment:drift"),
        ("id-mlops-ci-dev", "repo:example-org/aks-mlops:environment:dev"),
        ("id-mlops-ci-test", "repo:example-org/aks-mlops:environment:test"),
        ("id-mlops-ci-prod", "repo:example-org/aks-mlops:environment:prod"),
    }
    for c in creds:
        assert c.inputs["audiences"] == [AUDIENCE]
    ado = [c for c in creds if c.inputs["issuer"].startswith("https://login.microsoftonline.com/")]
    assert {c.inputs["resourceName"] for c in ado} == {
        "id-mlops-ci-preview",
        "id-mlops-ci-dev",
        "id-mlops-ci-test",
        "id-mlops-ci-prod",
    }


def test_bootstrap_credentials_of_one_identity_written_one_after_another(run: OfflineRun) -> None:
    creds = run.of_type("azure-native:managedidentity:FederatedIdentityCredential")
    by_identity: dict[str, list[RecordedResource]] = {}
    for c in creds:
        by_identity.setdefault(c.inputs["resourceName"], []).append(c)
    for identity, group in by_identity.items():
        urns = {c.urn for c in group}
        # Entra rejects concurrent writes: every credential but the first waits for another.
        waiting = [c for c in group if set(c.dependencies) & urns]
        assert len(waiting) == len(group) - 1, identity


def test_bootstrap_preview_identity_is_read_only(run: OfflineRun) -> None:
    roles = _roles_of(run, "ci-preview")
    assert set(roles) == {READER, AKS_USER, AKS_RBAC_READER, BLOB_DATA_CONTRIBUTOR, CRYPTO_USER}
    assert not {CONTRIBUTOR, RBAC_ADMIN, USER_ACCESS_ADMIN, OWNER} & set(roles)
    assert roles[READER].inputs["scope"] == SUBSCRIPTION_SCOPE
    (container,) = run.of_type("azure-native:storage:BlobContainer")
    (key,) = run.of_type("azure-native:keyvault:Key")
    assert roles[BLOB_DATA_CONTRIBUTOR].inputs["scope"] == container.id
    assert roles[CRYPTO_USER].inputs["scope"] == key.id
    for r in roles.values():
        assert r.inputs["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_bootstrap_deploy_identity_roles_least_privilege(run: OfflineRun, env: str) -> None:
    roles = _roles_of(run, f"ci-{env}")
    assert set(roles) == {
        CONTRIBUTOR,
        RBAC_ADMIN,
        AKS_RBAC_CLUSTER_ADMIN,
        BLOB_DATA_CONTRIBUTOR,
        CRYPTO_USER,
    }
    assert OWNER not in roles
    assert USER_ACCESS_ADMIN not in roles
    assert roles[CONTRIBUTOR].inputs["scope"] == SUBSCRIPTION_SCOPE
    assert "condition" not in roles[CONTRIBUTOR].inputs


def test_bootstrap_role_delegation_limited_to_platform_roles(
    run: OfflineRun, stack_runs: dict[str, OfflineRun]
) -> None:
    delegation = _roles_of(run, "ci-prod")[RBAC_ADMIN].inputs
    assert delegation["conditionVersion"] == "2.0"
    condition = delegation["condition"]
    # Both actions are constrained (write by the requested role, delete by the existing one).
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in condition
    assert "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in condition
    assert "@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId]" in condition
    assert "@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId]" in condition
    allowed = set(
        re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", condition)
    )
    # Every role the platform stacks assign is allowed; no privileged role ever is.
    used = {
        _guid(r.inputs["roleDefinitionId"])
        for stack in stack_runs.values()
        for r in stack.of_type("azure-native:authorization:RoleAssignment")
    }
    assert used, "the platform stacks assign roles"
    assert used <= allowed
    assert not {OWNER, USER_ACCESS_ADMIN, RBAC_ADMIN, CONTRIBUTOR} & allowed


# (path -> value or _DELETE, expected message fragment naming key, value and rule)
_DELETE = object()
BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    (
        {"stateStorageAccountName": "St-Pulumi-State"},
        'stateStorageAccountName ("St-Pulumi-State") must be 3-24 lowercase letters or digits',
    ),
    (
        {"stateStorageAccountName": "stmlopspulumistate0123456"},
        'stateStorageAccountName ("stmlopspulumistate0123456") must be 3-24 lowercase',
    ),
    ({"stateStorageAccountName": "st"}, 'stateStorageAccountName ("st") must be 3-24'),
    (
        {"identities.prod": _DELETE},
        "identities.prod (null) is required: every environment",
    ),
    (
        {"identities.preview": _DELETE},
        "identities.preview (null) is required",
    ),
    (
        {"identities.stage": {"name": "id-mlops-ci-stage"}},
        'identities.stage ("stage") is not an environment of this bootstrap',
    ),
    ({"keyVaultName": "kv--state"}, 'keyVaultName ("kv--state") must be 3-24 letters'),
    ({"stateContainerName": "Pulumi_State"}, 'stateContainerName ("Pulumi_State") must be 3-63'),
    ({"github.repository": "aks-mlops"}, 'github.repository ("aks-mlops") must be <owner>/<repo>'),
    (
        {"identities.dev.azureDevOps.issuer": "https://vstoken.dev.azure.com/org"},
        'identities.dev.azureDevOps.issuer ("https://vstoken.dev.azure.com/org") must be',
    ),
    (
        {"identities.dev.azureDevOps.subject": "sc://org/project/aks-mlops-dev"},
        'identities.dev.azureDevOps.subject ("sc://org/project/aks-mlops-dev") must be the Entra',
    ),
    ({"environments": ["dev", "preview"]}, 'environments[1] ("preview") must be a stack name'),
    ({"blobSoftDeleteDays": 0}, "blobSoftDeleteDays (0) Input should be greater"),
    (
        {"operatorGroupObjectIds": ["platform-admins"]},
        'operatorGroupObjectIds[0] ("platform-admins") must be an Entra object id',
    ),
    ({"stateBucket": "x"}, 'stateBucket ("x") is not a known key'),
]


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    target = values
    parts[0] = P + parts[0]
    for part in parts[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


@pytest.mark.parametrize(("changes", "expected"), BAD_INPUTS)
def test_bootstrap_config_bad_input_rejected_before_any_resource(
    changes: dict[str, Any], expected: str
) -> None:
    values = _values()
    for path, value in changes.items():
        _set(values, path, value)
    monitor = RecordingMonitor(OfflineMocks())
    with pytest.raises(ConfigError) as excinfo:
        _run_with(values, monitor)
    assert expected in str(excinfo.value)
    assert monitor.records == []


def test_bootstrap_example_stack_is_valid_and_unchanged_values_plan() -> None:
    assert len(_run_with(_values()).resources) > 30


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.cli", "plan", "--program", "bootstrap", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bootstrap_plan_cli_writes_its_own_plan(tmp_path: Path) -> None:
    result = _cli("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OFFLINE PLAN" in result.stdout
    assert "azblob://pulumi-state?storage_account=stmlopspulumi7f3a" in result.stdout
    doc = json.loads((tmp_path / "bootstrap" / "example" / "plan.json").read_text())
    assert doc["stack"] == "example"
    assert doc["offline"] is True
    # Beside the platform's plans, never mixed with them; no Kubernetes manifests.
    assert not (tmp_path / "example").exists()
    assert not (tmp_path / "bootstrap" / "example" / "manifests").exists()


def test_bootstrap_plan_cli_bad_config_exits_2(tmp_path: Path) -> None:
    project = tmp_path / "bootstrap"
    project.mkdir()
    text = (BOOTSTRAP_DIR / "Pulumi.example.yaml").read_text()
    (project / "Pulumi.example.yaml").write_text(
        text.replace("stateStorageAccountName: stmlopspulumi7f3a", "stateStorageAccountName: St_X")
    )
    result = _cli("--project-dir", str(project), "--out", str(tmp_path / "build"))
    assert result.returncode == 2
    assert 'stateStorageAccountName ("St_X") must be 3-24 lowercase letters or digits' in (
        result.stderr
    )
    assert not (tmp_path / "build" / "bootstrap" / "example").exists()
