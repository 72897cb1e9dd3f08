"""ContainerRegistry: no admin user, AcrPull by role id, private endpoint when asked."""

from __future__ import annotations

import pulumi
import pytest

from components.kit.shared import PrivateEndpointSpec, RoleAssignmentSpec
from components.registry.acr import (
    CacheCredentialSpec,
    ContainerRegistry,
    ContainerRegistryArgs,
    _principal_id,
)
from tests.components.helpers import PEP_SUBNET_ID, RG, SUB, ZONE_ID
from tests.unit.test_well_known_values import ROLE_IDS

KUBELET = "33333333-3333-4333-8333-333333333333"


def _registry(run_components, **overrides: object):
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "registry_name": "crunittest",
        "role_assignments": {
            "kubelet-acrpull": RoleAssignmentSpec(role="AcrPull", principal_id=KUBELET)
        },
    }
    base.update(overrides)
    return run_components(
        lambda: ContainerRegistry("acr", ContainerRegistryArgs(**base))  # type: ignore[arg-type]
    )


def test_registry_admin_user_and_anonymous_pull_are_off(run_components) -> None:
    reg = _registry(run_components).named("acr-registry").inputs
    assert reg["adminUserEnabled"] is False
    assert reg["anonymousPullEnabled"] is False
    assert reg["publicNetworkAccess"] == "Enabled"
    assert reg["sku"] == {"name": "Basic"}
    # Disabled would break kubelet image pulls (ARM-token exchange).
    assert reg["policies"]["azureADAuthenticationAsArmPolicy"] == {"status": "enabled"}


def test_registry_grants_acrpull_to_kubelet_by_role_id(run_components) -> None:
    grant = _registry(run_components).named("acr-kubelet-acrpull").inputs
    assert grant["principalId"] == KUBELET
    assert grant["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{ROLE_IDS['AcrPull']}"
    )
    assert grant["scope"].endswith("/registries/crunittest")


def test_registry_private_endpoint_disables_public_access(run_components) -> None:
    run = _registry(
        run_components,
        sku="Premium",
        retention_days=30,
        private_endpoint=PrivateEndpointSpec(
            subnet_resource_id=PEP_SUBNET_ID,
            private_dns_zone_resource_id=ZONE_ID,
            group_id="registry",
        ),
        private_endpoint_name="pep-unit-acr",
        protect=True,
    )
    reg = run.named("acr-registry")
    assert reg.inputs["publicNetworkAccess"] == "Disabled"
    assert reg.inputs["policies"]["retentionPolicy"] == {"days": 30, "status": "enabled"}
    assert reg.inputs["policies"]["exportPolicy"] == {"status": "disabled"}
    assert (reg.protect, reg.retain_on_delete) == (True, True)
    pep = run.named("acr-pep").inputs
    assert pep["subnet"]["id"] == PEP_SUBNET_ID
    assert pep["privateLinkServiceConnections"][0]["groupIds"] == ["registry"]
    dns = run.named("acr-pep-dns").inputs
    assert dns["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == ZONE_ID


def test_registry_without_private_endpoint_creates_none(run_components) -> None:
    run = _registry(run_components)
    assert run.of_type("azure-native:network:PrivateEndpoint") == []
    assert run.named("acr-registry").protect is False


def test_no_cache_rule_unless_asked(run_components) -> None:
    run = _registry(run_components)
    assert [r for r in run.resources if r.type == "azure-native:containerregistry:CacheRule"] == []


def test_cache_rules_one_wildcard_rule_per_upstream_host(run_components) -> None:
    # https://learn.microsoft.com/azure/container-registry/wildcards-artifact-cache :
    # repository-level wildcards map <prefix>/* in the registry to <upstream>/*.
    run = _registry(run_components, cache_upstreams=("docker.io", "ghcr.io", "nvcr.io"))
    rules = {
        r.inputs["cacheRuleName"]: r
        for r in run.resources
        if r.type == "azure-native:containerregistry:CacheRule"
    }
    assert {
        n: (r.inputs["sourceRepository"], r.inputs["targetRepository"]) for n, r in rules.items()
    } == {
        "cache-dockerhub": ("docker.io/*", "dockerhub/*"),
        "cache-ghcr": ("ghcr.io/*", "ghcr/*"),
        "cache-nvcr": ("nvcr.io/*", "nvcr/*"),
    }
    registry = run.named("acr-registry")
    for rule in rules.values():
        assert rule.inputs["registryName"] == "crunittest"
        assert rule.inputs["resourceGroupName"] == RG
        # No credential set: anonymous upstream pulls.
        assert "credentialSetResourceId" not in rule.inputs
        # The registry must exist before a rule can be added to it.
        assert registry.urn in rule.dependencies
        # Cache rule names: 5-50 letters, digits and hyphens.
        assert 5 <= len(rule.inputs["cacheRuleName"]) <= 50


def test_registry_basic_defaults_as_azure_documents_them(run_components) -> None:
    # https://learn.microsoft.com/rest/api/containerregistry/registries/create :
    # networkRuleBypassOptions "AzureServices" lets trusted Azure services (e.g. Defender
    # image scanning) reach a network-restricted registry; zoneRedundancy "Disabled" outside
    # Premium (zone redundancy is a Premium feature).
    reg = _registry(run_components, tags={"env": "unit", "owner": "mlops"}).named("acr-registry")
    assert reg.inputs["registryName"] == "crunittest"
    assert reg.inputs["resourceGroupName"] == RG
    assert reg.inputs["location"] == "westeurope"
    assert reg.inputs["networkRuleBypassOptions"] == "AzureServices"
    assert reg.inputs["zoneRedundancy"] == "Disabled"
    assert reg.inputs["tags"] == {"env": "unit", "owner": "mlops"}
    # Retention and export policies exist only on Premium; none is sent on Basic.
    assert set(reg.inputs["policies"]) == {"azureADAuthenticationAsArmPolicy"}
    assert (reg.protect, reg.retain_on_delete) == (False, False)


def test_registry_premium_zone_redundant_without_private_endpoint(run_components) -> None:
    reg = _registry(
        run_components, sku="Premium", zone_redundancy_enabled=True, retention_days=7
    ).named("acr-registry")
    assert reg.inputs["sku"] == {"name": "Premium"}
    assert reg.inputs["zoneRedundancy"] == "Enabled"
    assert reg.inputs["publicNetworkAccess"] == "Enabled"
    assert reg.inputs["policies"]["retentionPolicy"] == {"days": 7, "status": "enabled"}
    # Export stays allowed while the registry is public (it is only closed with private link).
    assert "exportPolicy" not in reg.inputs["policies"]


def test_registry_retention_days_ignored_below_premium(run_components) -> None:
    reg = _registry(run_components, sku="Standard", retention_days=30).named("acr-registry")
    assert reg.inputs["sku"] == {"name": "Standard"}
    assert "retentionPolicy" not in reg.inputs["policies"]


def test_registry_premium_without_retention_keeps_untagged_manifests(run_components) -> None:
    reg = _registry(run_components, sku="Premium").named("acr-registry")
    assert "retentionPolicy" not in reg.inputs["policies"]


def test_registry_private_endpoint_named_after_registry_by_default(run_components) -> None:
    run = _registry(
        run_components,
        sku="Premium",
        private_endpoint=PrivateEndpointSpec(
            subnet_resource_id=PEP_SUBNET_ID,
            private_dns_zone_resource_id=ZONE_ID,
            group_id="registry",
        ),
        tags={"env": "unit"},
    )
    pep = run.named("acr-pep")
    assert pep.inputs["privateEndpointName"] == "pep-crunittest"
    assert pep.inputs["location"] == "westeurope"
    assert pep.inputs["resourceGroupName"] == RG
    assert pep.inputs["tags"] == {"env": "unit"}
    connection = pep.inputs["privateLinkServiceConnections"][0]
    assert connection["privateLinkServiceId"].endswith(
        "/providers/Microsoft.ContainerRegistry/registries/crunittest"
    )
    # The endpoint must be created after the registry it points at.
    assert run.named("acr-registry").urn in pep.dependencies


VAULT_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv-unit"


def test_cache_credential_set_for_docker_hub_only(run_components) -> None:
    run = _registry(
        run_components,
        cache_upstreams=("docker.io", "ghcr.io"),
        cache_credentials={
            "docker.io": CacheCredentialSpec(
                key_vault_resource_id=VAULT_ID,
                key_vault_uri="https://kv-unit.vault.azure.net/",
                username_secret_name="hub-user",
                password_secret_name="hub-token",
            )
        },
    )
    (creds,) = run.of_type("azure-native:containerregistry:CredentialSet")
    # https://learn.microsoft.com/azure/container-registry/tutorial-enable-artifact-cache-auth-cli
    assert creds.inputs == {
        "credentialSetName": "creds-dockerhub",
        "registryName": "crunittest",
        "resourceGroupName": RG,
        "loginServer": "docker.io",
        "identity": {"type": "SystemAssigned"},
        "authCredentials": [
            {
                "name": "Credential1",
                "usernameSecretIdentifier": "https://kv-unit.vault.azure.net/secrets/hub-user",
                "passwordSecretIdentifier": "https://kv-unit.vault.azure.net/secrets/hub-token",
            }
        ],
    }
    grants = {
        r.name: r.inputs
        for r in run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["principalId"] == creds.outputs["identity"]["principalId"]
    }
    # Logical names are the deployed grants' identities: a rename would replace them.
    assert set(grants) == {"acr-creds-dockerhub-username", "acr-creds-dockerhub-password"}
    assert {g["scope"] for g in grants.values()} == {
        f"{VAULT_ID}/secrets/hub-user",
        f"{VAULT_ID}/secrets/hub-token",
    }
    assert {g["roleDefinitionId"] for g in grants.values()} == {
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{ROLE_IDS['Key Vault Secrets User']}"
    }
    rules = {
        r.inputs["cacheRuleName"]: r
        for r in run.of_type("azure-native:containerregistry:CacheRule")
    }
    assert rules["cache-dockerhub"].inputs["credentialSetResourceId"] == creds.id
    assert "credentialSetResourceId" not in rules["cache-ghcr"].inputs
    for name in grants:
        assert run.named(name).urn in rules["cache-dockerhub"].dependencies
    assert not any(run.named(n).urn in rules["cache-ghcr"].dependencies for n in grants)


def test_pull_ready_ids_name_the_grants_and_the_rules(run_components) -> None:
    seen: list[list[str]] = []

    def body() -> None:
        registry = ContainerRegistry(
            "acr",
            ContainerRegistryArgs(
                resource_group_name=RG,
                location="westeurope",
                registry_name="crunittest",
                role_assignments={
                    "kubelet-acrpull": RoleAssignmentSpec(role="AcrPull", principal_id=KUBELET)
                },
                cache_upstreams=("ghcr.io",),
            ),
        )
        pulumi.Output.all(*registry.pull_ready_ids).apply(seen.append)

    run = run_components(body)
    assert seen == [[run.named("acr-kubelet-acrpull").id, run.named("acr-cache-ghcr").id]]


def test_registry_outputs_name_the_registry(run_components) -> None:
    seen: list[list[str]] = []

    def body() -> None:
        registry = ContainerRegistry(
            "acr",
            ContainerRegistryArgs(
                resource_group_name=RG, location="westeurope", registry_name="crunittest"
            ),
        )
        pulumi.Output.all(registry.resource_id, registry.name, registry.login_server).apply(
            seen.append
        )

    run = run_components(body)
    (registry,) = run.of_type("azure-native:containerregistry:Registry")
    assert registry.id.endswith("/providers/Microsoft.ContainerRegistry/registries/crunittest")
    assert seen == [[registry.id, "crunittest", "crunittest.azurecr.io"]]


def test_credential_set_without_identity_is_an_error_naming_it() -> None:
    # ARM creates the credential set's system-assigned identity with it; without one there is
    # no principal to grant the Key Vault secrets to, and nothing may be granted to "".
    with pytest.raises(ValueError, match=r"^the credential set has no system-assigned identity$"):
        _principal_id(None)
