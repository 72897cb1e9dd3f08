"""Shared interfaces, implemented once: role assignments, private endpoints, options, tags.

- ``role_assignments``: a map of stable logical names to :class:`RoleAssignmentSpec`
  (built-in role by name -> well-known role definition id, principal) granted on a
  component's main resource.
- ``private_endpoints``: :class:`PrivateEndpointSpec` (subnet, private DNS zone, group id).
- ``stateful_options``: `protect` + `retain_on_delete` for resources that hold data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_azure_native import authorization, network

# Built-in role definition ids (the same in every tenant):
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
BUILT_IN_ROLES: dict[str, str] = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "Monitoring Data Reader": "b0d8363b-8ddd-447d-831f-62ca05bff136",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Grafana Admin": "22926164-76b3-42b3-bc55-97df8dab3e41",
}

PrincipalType = Literal["ServicePrincipal", "Group", "User"]


@dataclass(frozen=True, kw_only=True)
class RoleAssignmentSpec:
    """Grant a built-in role to a principal on a component's resource."""

    role: str
    """A key of :data:`BUILT_IN_ROLES`, e.g. ``AcrPull``."""
    principal_id: pulumi.Input[str]
    """Object id of the identity, group or user."""
    principal_type: PrincipalType = "ServicePrincipal"
    """Set explicitly so a just-created identity is not rejected by Entra replication lag."""


@dataclass(frozen=True, kw_only=True)
class ScopedRoleAssignmentSpec:
    """Grant a built-in role on an explicit scope (used by identities, not resources)."""

    role: str
    """A key of :data:`BUILT_IN_ROLES`."""
    scope: pulumi.Input[str]
    """Azure resource id the role applies to (narrowest that works)."""


@dataclass(frozen=True, kw_only=True)
class PrivateEndpointSpec:
    """Reach a resource through a private endpoint registered in a private DNS zone."""

    subnet_resource_id: pulumi.Input[str]
    private_dns_zone_resource_id: pulumi.Input[str]
    group_id: str
    """Private-link sub-resource: ``registry``, ``blob``, ``dfs``, ``vault``, ..."""


def role_definition_id(scope: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """The subscription-qualified role definition id of a built-in ``role`` for ``scope``."""
    if role not in BUILT_IN_ROLES:
        raise ValueError(f"role ({role!r}) must be one of {sorted(BUILT_IN_ROLES)}")
    guid = BUILT_IN_ROLES[role]

    def _qualify(resource_id: str) -> str:
        subscription = resource_id.split("/")[2]
        return (
            f"/subscriptions/{subscription}/providers/Microsoft.Authorization/"
            f"roleDefinitions/{guid}"
        )

    return pulumi.Output.from_input(scope).apply(_qualify)


def assign_role(
    name: str,
    *,
    scope: pulumi.Input[str],
    role: str,
    principal_id: pulumi.Input[str],
    parent: pulumi.Resource,
    principal_type: PrincipalType = "ServicePrincipal",
) -> authorization.RoleAssignment:
    """Grant built-in ``role`` on ``scope`` to ``principal_id`` (logical name ``name``)."""
    return authorization.RoleAssignment(
        name,
        scope=scope,
        principal_id=principal_id,
        principal_type=principal_type,
        role_definition_id=role_definition_id(scope, role),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_role_assignments(
    *,
    name: str,
    scope: pulumi.Input[str],
    assignments: Mapping[str, RoleAssignmentSpec],
    parent: pulumi.Resource,
) -> dict[str, authorization.RoleAssignment]:
    """One RoleAssignment per entry on ``scope``, logical name ``<name>-<key>``."""
    return {
        key: assign_role(
            f"{name}-{key}",
            scope=scope,
            role=spec.role,
            principal_id=spec.principal_id,
            principal_type=spec.principal_type,
            parent=parent,
        )
        for key, spec in sorted(assignments.items())
    }


def create_private_endpoint(
    *,
    name: str,
    endpoint_name: str,
    resource_group_name: pulumi.Input[str],
    location: str,
    target_resource_id: pulumi.Input[str],
    spec: PrivateEndpointSpec,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.PrivateEndpoint:
    """A private endpoint for ``target_resource_id`` and its DNS zone group."""
    endpoint = network.PrivateEndpoint(
        f"{name}-pep",
        private_endpoint_name=endpoint_name,
        resource_group_name=resource_group_name,
        location=location,
        subnet=network.SubnetArgs(id=spec.subnet_resource_id),
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=f"{endpoint_name}-{spec.group_id}",
                private_link_service_id=target_resource_id,
                group_ids=[spec.group_id],
            )
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    network.PrivateDnsZoneGroup(
        f"{name}-pep-dns",
        private_endpoint_name=endpoint.name,
        resource_group_name=resource_group_name,
        private_dns_zone_group_name="default",
        private_dns_zone_configs=[
            network.PrivateDnsZoneConfigArgs(
                name=spec.group_id, private_dns_zone_id=spec.private_dns_zone_resource_id
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return endpoint


def stateful_options(parent: pulumi.Resource, protect: bool) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected and retained when ``protect``."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)
