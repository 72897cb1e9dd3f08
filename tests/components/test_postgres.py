"""PostgresServer: Entra auth, masked password, HA/backup, private access, pgvector, databases."""

from __future__ import annotations

import itertools
import json
import re

import pulumi
import pulumi_random as random
import pytest

from components.data.postgres import (
    ADMIN_PASSWORD_LENGTH,
    PASSWORD_SECRET_NAME,
    EntraAdminSpec,
    PostgresServer,
    PostgresServerArgs,
    generate_admin_password,
)
from offline.runner import MASK, SECRET_PLACEHOLDER
from tests.components.helpers import ADMIN_GROUP, RG, SUB, TENANT, VNET_ID

SERVER = "psql-unit-test"
PG_SUBNET_ID = f"{VNET_ID}/subnets/snet-psql"
PG_ZONE_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    f"privateDnsZones/{SERVER}.private.postgres.database.azure.com"
)
PLAINTEXT = "plain-password-that-must-never-be-recorded"
ADMIN = EntraAdminSpec(object_id=ADMIN_GROUP, principal_name="mlops-platform-admins")


def _server(run_components, **overrides: object):
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "server_name": SERVER,
        "tenant_id": TENANT,
        "entra_admin": ADMIN,
        "password_auth_enabled": True,
        "administrator_password": PLAINTEXT,
    }
    base.update(overrides)

    def body() -> None:
        server = PostgresServer("pg", PostgresServerArgs(**base))  # type: ignore[arg-type]
        pulumi.export("fqdn", server.fqdn)
        pulumi.export("login", server.administrator_login)
        pulumi.export("databases", server.database_names)
        pulumi.export("secretName", server.password_secret_name)

    return run_components(body)


def _private(run_components, **overrides: object):
    return _server(
        run_components,
        delegated_subnet_resource_id=PG_SUBNET_ID,
        private_dns_zone_resource_id=PG_ZONE_ID,
        **overrides,
    )


def test_postgres_server_pins_version_and_turns_entra_auth_on(run_components) -> None:
    server = _server(run_components, version="17").named("pg-server").inputs
    assert server["version"] == "17"
    assert server["authConfig"] == {
        "activeDirectoryAuth": "Enabled",
        "passwordAuth": "Enabled",
        "tenantId": TENANT,
    }
    assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert server["storage"] == {"storageSizeGB": 32, "autoGrow": "Enabled"}


def test_postgres_password_is_masked_and_never_recorded(run_components) -> None:
    run = _server(run_components)
    server = run.named("pg-server").inputs
    assert server["administratorLoginPassword"] == MASK
    assert server["administratorLogin"] == "mlopsadmin"
    assert PLAINTEXT not in json.dumps([r.inputs for r in run.resources] + [run.outputs])
    assert run.outputs["secretName"] == PASSWORD_SECRET_NAME


def test_postgres_without_password_auth_sends_no_login_or_password(run_components) -> None:
    run = _server(run_components, password_auth_enabled=False, administrator_password=None)
    server = run.named("pg-server").inputs
    assert server["authConfig"]["passwordAuth"] == "Disabled"
    assert server["authConfig"]["activeDirectoryAuth"] == "Enabled"
    assert "administratorLogin" not in server
    assert "administratorLoginPassword" not in server
    assert run.outputs.get("login") is None
    assert run.outputs.get("secretName") is None


def test_postgres_ha_and_geo_backup_follow_args(run_components) -> None:
    server = (
        _server(
            run_components,
            tier="GeneralPurpose",
            sku_name="Standard_D4ds_v5",
            high_availability="ZoneRedundant",
            backup_retention_days=35,
            geo_redundant_backup_enabled=True,
        )
        .named("pg-server")
        .inputs
    )
    assert server["highAvailability"]["mode"] == "ZoneRedundant"
    assert server["backup"] == {"backupRetentionDays": 35, "geoRedundantBackup": "Enabled"}


def test_postgres_defaults_to_no_ha_and_local_backup(run_components) -> None:
    server = _server(run_components).named("pg-server").inputs
    assert server["highAvailability"]["mode"] == "Disabled"
    assert server["backup"] == {"backupRetentionDays": 7, "geoRedundantBackup": "Disabled"}


def test_postgres_private_access_uses_delegated_subnet_and_zone(run_components) -> None:
    network = _private(run_components).named("pg-server").inputs["network"]
    assert network == {
        "delegatedSubnetResourceId": PG_SUBNET_ID,
        "privateDnsZoneArmResourceId": PG_ZONE_ID,
        "publicNetworkAccess": "Disabled",
    }


def test_postgres_public_access_creates_no_firewall_rule(run_components) -> None:
    run = _server(run_components)
    assert run.named("pg-server").inputs["network"] == {"publicNetworkAccess": "Enabled"}
    # No rule at all: a 0.0.0.0 rule would admit every Azure tenant.
    assert run.of_type("azure-native:dbforpostgresql:FirewallRule") == []


def test_postgres_allow_lists_the_vector_extension(run_components) -> None:
    config = _server(run_components).named("pg-extensions").inputs
    assert config["configurationName"] == "azure.extensions"
    assert config["value"] == "VECTOR"
    assert config["source"] == "user-override"
    assert config["serverName"] == SERVER


def test_postgres_entra_admin_uses_api_principal_type(run_components) -> None:
    admin = _server(run_components).named("pg-entra-admin").inputs
    assert admin["objectId"] == ADMIN_GROUP
    assert admin["principalName"] == "mlops-platform-admins"
    assert admin["principalType"] == "group"
    assert admin["tenantId"] == TENANT


def test_postgres_creates_mlflow_and_vectors_databases(run_components) -> None:
    run = _server(run_components)
    databases = {r.name: r.inputs for r in run.of_type("azure-native:dbforpostgresql:Database")}
    assert {n: d["databaseName"] for n, d in databases.items()} == {
        "pg-db-mlflow": "mlflow",
        "pg-db-vectors": "vectors",
    }
    assert all((d["charset"], d["collation"]) == ("UTF8", "en_US.utf8") for d in databases.values())
    assert run.outputs["databases"] == {"mlflow": "mlflow", "vectors": "vectors"}
    assert run.outputs["fqdn"] == f"{SERVER}.postgres.database.azure.com"


def test_postgres_child_writes_run_one_at_a_time(run_components) -> None:
    run = _server(run_components)
    chain = ["pg-entra-admin", "pg-extensions", "pg-db-mlflow", "pg-db-vectors"]
    for before, after in itertools.pairwise(chain):
        assert run.named(before).urn in run.named(after).dependencies, (before, after)


def test_postgres_protects_server_and_databases_when_asked(run_components) -> None:
    run = _server(run_components, protect=True)
    stateful = [run.named("pg-server"), run.named("pg-db-mlflow"), run.named("pg-db-vectors")]
    assert all((r.protect, r.retain_on_delete) == (True, True) for r in stateful)
    assert run.named("pg-extensions").protect is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"administrator_password": None}, "administrator_password is required"),
        ({"high_availability": "ZoneRedundant"}, "needs tier GeneralPurpose"),
        ({"delegated_subnet_resource_id": PG_SUBNET_ID}, "must be given together"),
        (
            {
                "entra_admin": EntraAdminSpec(
                    object_id=ADMIN_GROUP, principal_name="x", principal_type="Role"
                )
            },  # type: ignore[arg-type]
            "entra_admin.principal_type ('Role') must be one of",
        ),
    ],
)
def test_postgres_rejects_inconsistent_args(run_components, overrides, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        _server(run_components, **overrides)


def test_postgres_generated_password_is_long_uri_safe_and_secret(run_components) -> None:
    def body() -> None:
        # A probe resource records how the password would travel as an input.
        random.RandomString("probe", length=8, keepers={"pw": generate_admin_password("pw")})

    run = run_components(body)
    inputs = run.named("pw").inputs
    assert inputs["length"] == ADMIN_PASSWORD_LENGTH >= 32
    assert inputs["overrideSpecial"] == "-_.~"
    # Specials on: Azure wants three of upper, lower, digits, non-alphanumerics
    # (https://learn.microsoft.com/azure/postgresql/flexible-server/quickstart-create-server).
    assert inputs["special"] is True
    assert min(inputs[k] for k in ("minLower", "minUpper", "minNumeric", "minSpecial")) >= 1
    keepers = run.named("probe").inputs["keepers"]
    assert MASK in (keepers, keepers.get("pw") if isinstance(keepers, dict) else None)
    assert SECRET_PLACEHOLDER not in json.dumps([r.inputs for r in run.resources])
