"""KeyVault: RBAC mode, soft delete, purge protection, secrets always masked, private endpoint."""

from __future__ import annotations

import json

import pulumi
from pulumi_azure_native import keyvault

from components.kit.shared import PrivateEndpointSpec, RoleAssignmentSpec
from components.secrets.key_vault import KeyVault, KeyVaultArgs
from offline.runner import MASK
from tests.components.helpers import PEP_SUBNET_ID, RG, SUB, TENANT
from tests.unit.test_well_known_values import ROLE_IDS

VAULT = "kv-unit-test"
VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/{VAULT}"
ZONE_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    "privateDnsZones/privatelink.vaultcore.azure.net"
)
PLAINTEXT = "plain-text-that-must-never-be-recorded"
WORKLOAD = "44444444-4444-4444-8444-444444444444"


def _vault(run_components, **overrides: object):
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "vault_name": VAULT,
        "tenant_id": TENANT,
        "soft_delete_retention_days": 30,
    }
    base.update(overrides)

    def body() -> None:
        vault = KeyVault("kv", KeyVaultArgs(**base))  # type: ignore[arg-type]
        pulumi.export("uri", vault.vault_uri)
        pulumi.export("secretIds", vault.secret_resource_ids)
        pulumi.export("secretNames", vault.secret_names)

    return run_components(body)


def test_key_vault_uses_rbac_and_soft_delete(run_components) -> None:
    vault = _vault(run_components).named("kv-vault").inputs
    assert vault["location"] == "westeurope"
    props = vault["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == 30
    assert props["tenantId"] == TENANT
    assert props["sku"] == {"family": "A", "name": "standard"}
    assert "accessPolicies" not in props


def test_key_vault_purge_protection_only_when_enabled(run_components) -> None:
    off = _vault(run_components).named("kv-vault").inputs["properties"]
    # The API accepts only true or absent for purge protection.
    assert "enablePurgeProtection" not in off
    on = _vault(run_components, purge_protection_enabled=True).named("kv-vault")
    assert on.inputs["properties"]["enablePurgeProtection"] is True


def test_key_vault_secret_value_is_masked_even_from_a_plain_string(run_components) -> None:
    run = _vault(run_components, secrets={"postgres-admin-password": PLAINTEXT})
    secret = run.named("kv-secret-postgres-admin-password").inputs
    assert secret["secretName"] == "postgres-admin-password"
    assert secret["vaultName"] == VAULT
    assert secret["properties"] == MASK
    recorded = json.dumps([r.inputs for r in run.resources] + [run.outputs])
    assert PLAINTEXT not in recorded
    assert run.outputs["secretIds"]["postgres-admin-password"] == (
        f"{VAULT_ID}/secrets/postgres-admin-password"
    )
    assert run.outputs["secretNames"] == {"postgres-admin-password": "postgres-admin-password"}


def test_key_vault_secret_typed_plain_text_and_wrapped(run_components, monkeypatch) -> None:
    # The recorded properties are masked as a whole (the value is secret), so what the
    # component hands the SDK is read where it is built.
    built: list[dict[str, object]] = []
    original = keyvault.SecretPropertiesArgs

    def spy(**kwargs: object) -> keyvault.SecretPropertiesArgs:
        built.append(kwargs)
        return original(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(keyvault, "SecretPropertiesArgs", spy)
    _vault(run_components, secrets={"postgres-admin-password": PLAINTEXT})

    (kwargs,) = built
    assert kwargs["content_type"] == "text/plain"
    # Wrapped, never the plain string (that it is marked secret: the masked test above).
    assert isinstance(kwargs["value"], pulumi.Output)


def test_key_vault_creates_no_secret_without_secrets(run_components) -> None:
    run = _vault(run_components)
    assert run.of_type("azure-native:keyvault:Secret") == []


def test_key_vault_private_endpoint_disables_public_access(run_components) -> None:
    spec = PrivateEndpointSpec(
        subnet_resource_id=PEP_SUBNET_ID, private_dns_zone_resource_id=ZONE_ID, group_id="vault"
    )
    run = _vault(run_components, private_endpoint=spec, private_endpoint_name="pep-unit-kv")
    props = run.named("kv-vault").inputs["properties"]
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"] == {"bypass": "AzureServices", "defaultAction": "Deny"}
    pep = run.named("kv-pep").inputs
    assert pep["privateEndpointName"] == "pep-unit-kv"
    assert pep["privateLinkServiceConnections"][0]["groupIds"] == ["vault"]
    assert pep["privateLinkServiceConnections"][0]["privateLinkServiceId"] == VAULT_ID
    dns = run.named("kv-pep-dns").inputs
    assert dns["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == ZONE_ID


def test_key_vault_without_private_endpoint_is_public_and_creates_none(run_components) -> None:
    run = _vault(run_components)
    props = run.named("kv-vault").inputs["properties"]
    assert props["publicNetworkAccess"] == "Enabled"
    assert props["networkAcls"]["defaultAction"] == "Allow"
    assert run.of_type("azure-native:network:PrivateEndpoint") == []


def test_key_vault_grants_roles_by_role_id(run_components) -> None:
    run = _vault(
        run_components,
        role_assignments={
            "mlflow-secrets": RoleAssignmentSpec(
                role="Key Vault Secrets User", principal_id=WORKLOAD
            )
        },
    )
    grant = run.named("kv-mlflow-secrets").inputs
    assert grant["principalId"] == WORKLOAD
    assert grant["scope"] == VAULT_ID
    assert grant["roleDefinitionId"].endswith(ROLE_IDS["Key Vault Secrets User"])


def test_key_vault_outputs_vault_uri(run_components) -> None:
    assert _vault(run_components).outputs["uri"] == f"https://{VAULT}.vault.azure.net/"


def test_key_vault_protects_vault_and_secrets(run_components) -> None:
    # `pulumi destroy` of a protected stack loses no secret either (README: nothing is lost).
    run = _vault(run_components, protect=True, secrets={"a": PLAINTEXT})
    for name in ("kv-vault", "kv-secret-a"):
        record = run.named(name)
        assert (record.protect, record.retain_on_delete) == (True, True), name
    unprotected = _vault(run_components, protect=False, secrets={"a": PLAINTEXT})
    assert unprotected.named("kv-secret-a").protect is False
    assert unprotected.named("kv-secret-a").retain_on_delete is False


def test_key_vault_secrets_carry_the_stack_tags(run_components) -> None:
    tags = {"project": "aks-mlops", "environment": "unit"}
    run = _vault(run_components, tags=tags, secrets={"a": PLAINTEXT})

    assert run.named("kv-vault").inputs["tags"] == tags
    assert run.named("kv-secret-a").inputs["tags"] == tags
