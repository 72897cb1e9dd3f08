"""Per-stack invariants of the data layer (data lake, Key Vault, PostgreSQL).

The real program runs for each stack file under the mock runtime; the assertions are on the
inputs and resource options each resource would be registered with.
"""

from __future__ import annotations

import json

import pytest

from components.data.postgres import PASSWORD_SECRET_NAME
from infra.config import parse_config
from infra.data_layer import (
    BLOB_PRIVATE_DNS_ZONE,
    DFS_PRIVATE_DNS_ZONE,
    POSTGRES_PRIVATE_DNS_SUFFIX,
    VAULT_PRIVATE_DNS_ZONE,
)
from offline.runner import CLIENT_OBJECT_ID, MASK, SECRET_PLACEHOLDER, OfflineRun
from tests.conftest import STACKS, encode, stack_values

STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
SERVER = "azure-native:dbforpostgresql:Server"
SECRET = "azure-native:keyvault:Secret"
PEP = "azure-native:network:PrivateEndpoint"
ZONE = "azure-native:privatedns:PrivateZone"
ROLE = "azure-native:authorization:RoleAssignment"
STATEFUL = (STORAGE, VAULT, SERVER)


def _one(run: OfflineRun, typ: str):
    (record,) = run.of_type(typ)
    return record


def _endpoint_groups(run: OfflineRun) -> set[str]:
    return {
        group
        for pep in run.of_type(PEP)
        for conn in pep.inputs["privateLinkServiceConnections"]
        for group in conn["groupIds"]
    }


@pytest.mark.parametrize("stack", STACKS)
def test_stack_data_lake_is_entra_only_adls_gen2_with_soft_delete(stack_runs, stack) -> None:
    run = stack_runs[stack]
    account = _one(run, STORAGE).inputs
    assert account["isHnsEnabled"] is True
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    service = _one(run, "azure-native:storage:BlobServiceProperties").inputs
    assert service["isVersioningEnabled"] is False
    cfg = parse_config(encode(stack_values(stack)))
    assert service["deleteRetentionPolicy"]["days"] == cfg.data_lake.blob_soft_delete_days
    assert (
        service["containerDeleteRetentionPolicy"]["days"]
        == cfg.data_lake.container_soft_delete_days
    )
    containers = {
        c.inputs["containerName"] for c in run.of_type("azure-native:storage:BlobContainer")
    }
    assert containers == {"raw", "curated", "documents", "mlflow-artifacts"}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_key_vault_uses_rbac_and_holds_the_postgres_password(stack_runs, stack) -> None:
    run = stack_runs[stack]
    props = _one(run, VAULT).inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    secrets = {r.inputs["secretName"]: r.inputs for r in run.of_type(SECRET)}
    assert secrets[PASSWORD_SECRET_NAME]["properties"] == MASK


@pytest.mark.parametrize("stack", STACKS)
def test_stack_postgres_has_entra_auth_pgvector_and_both_databases(stack_runs, stack) -> None:
    run = stack_runs[stack]
    server = _one(run, SERVER).inputs
    assert server["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert server["administratorLoginPassword"] == MASK
    assert server["version"] == parse_config(encode(stack_values(stack))).postgres.version
    (config,) = run.of_type("azure-native:dbforpostgresql:Configuration")
    assert (config.inputs["configurationName"], config.inputs["value"]) == (
        "azure.extensions",
        "VECTOR",
    )
    databases = {
        d.inputs["databaseName"] for d in run.of_type("azure-native:dbforpostgresql:Database")
    }
    assert databases == {"mlflow", "vectors"}
    assert run.of_type("azure-native:dbforpostgresql:FirewallRule") == []


@pytest.mark.parametrize("stack", STACKS)
def test_stack_never_records_or_exports_the_password(stack_runs, stack) -> None:
    run = stack_runs[stack]
    assert SECRET_PLACEHOLDER not in json.dumps(run.outputs, default=str)
    assert SECRET_PLACEHOLDER not in json.dumps([r.inputs for r in run.resources], default=str)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_exports_data_layer_names_and_endpoints(stack_runs, stack) -> None:
    out = stack_runs[stack].outputs
    assert out["storageAccountName"] == _one(stack_runs[stack], STORAGE).inputs["accountName"]
    assert out["keyVaultUri"] == f"https://{out['keyVaultName']}.vault.azure.net/"
    assert out["postgresFqdn"].endswith(".postgres.database.azure.com")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_private_dns_zones_follow_config(stack_runs, stack) -> None:
    run = stack_runs[stack]
    cfg = parse_config(encode(stack_values(stack)))
    zones = {z.inputs["privateZoneName"] for z in run.of_type(ZONE)}
    assert ({BLOB_PRIVATE_DNS_ZONE, DFS_PRIVATE_DNS_ZONE} <= zones) == (
        cfg.data_lake.private_endpoint_enabled
    )
    assert (VAULT_PRIVATE_DNS_ZONE in zones) == cfg.key_vault.private_endpoint_enabled
    postgres_zones = [z for z in zones if z.endswith(POSTGRES_PRIVATE_DNS_SUFFIX)]
    assert len(postgres_zones) == (1 if cfg.postgres.private_access_enabled else 0)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_private_postgres_waits_for_its_zone_link(stack_runs, stack) -> None:
    # Every shipped stack uses VNet integration: with public access and no firewall rule
    # nothing in the cluster could reach the server.
    assert parse_config(encode(stack_values(stack))).postgres.private_access_enabled
    run = stack_runs[stack]
    server = _one(run, SERVER)
    network = server.inputs["network"]
    zone = network["privateDnsZoneArmResourceId"].rsplit("/", 1)[-1]
    (link,) = [
        r
        for r in run.of_type("azure-native:privatedns:VirtualNetworkLink")
        if r.inputs["privateZoneName"] == zone
    ]
    assert link.urn in server.dependencies
    assert network["delegatedSubnetResourceId"].endswith("-psql")


def test_stack_prod_protects_and_retains_stateful_data(stack_runs) -> None:
    run = stack_runs["prod"]
    for typ in STATEFUL:
        record = _one(run, typ)
        assert (record.protect, record.retain_on_delete) == (True, True), typ
    assert all(c.protect for c in run.of_type("azure-native:storage:BlobContainer"))
    assert all(d.protect for d in run.of_type("azure-native:dbforpostgresql:Database"))


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_stack_non_prod_leaves_stateful_data_unprotected(stack_runs, stack) -> None:
    run = stack_runs[stack]
    for typ in STATEFUL:
        record = _one(run, typ)
        assert (record.protect, record.retain_on_delete) == (False, False), typ


def test_stack_prod_is_private_with_purge_protection_and_zone_redundant_ha(stack_runs) -> None:
    run = stack_runs["prod"]
    assert _one(run, STORAGE).inputs["publicNetworkAccess"] == "Disabled"
    props = _one(run, VAULT).inputs["properties"]
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["enablePurgeProtection"] is True
    assert {"blob", "dfs", "vault"} <= _endpoint_groups(run)
    server = _one(run, SERVER).inputs
    assert server["network"]["publicNetworkAccess"] == "Disabled"
    assert "delegatedSubnetResourceId" in server["network"]
    assert server["highAvailability"]["mode"] == "ZoneRedundant"
    assert server["backup"]["geoRedundantBackup"] == "Enabled"


def test_stack_dev_is_public_without_purge_protection(stack_runs) -> None:
    run = stack_runs["dev"]
    assert _one(run, STORAGE).inputs["publicNetworkAccess"] == "Enabled"
    props = _one(run, VAULT).inputs["properties"]
    assert props["publicNetworkAccess"] == "Enabled"
    assert "enablePurgeProtection" not in props
    assert not {"blob", "dfs", "vault"} & _endpoint_groups(run)
    assert _one(run, SERVER).inputs["sku"]["tier"] == "Burstable"


@pytest.mark.parametrize("stack", STACKS)
def test_stack_deployer_gets_no_key_vault_data_plane_role(stack_runs, stack) -> None:
    # Secrets are written through ARM (a control-plane action), not the data plane.
    grants = [
        r for r in stack_runs[stack].of_type(ROLE) if r.inputs["principalId"] == CLIENT_OBJECT_ID
    ]
    assert grants == []
