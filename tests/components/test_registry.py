"""ContainerRegistry: no admin user, AcrPull by role id, private endpoint when asked."""

from __future__ import annotations

from components.kit.shared import PrivateEndpointSpec, RoleAssignmentSpec
from components.registry.acr import ContainerRegistry, ContainerRegistryArgs
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
