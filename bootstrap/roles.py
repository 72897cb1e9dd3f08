"""Built-in roles the CI identities hold, and the condition that limits what deploy can grant.

Role definition ids are the same in every tenant:
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
"""

from __future__ import annotations

from collections.abc import Iterable

from components.kit.shared import BUILT_IN_ROLES

CI_ROLES: dict[str, str] = {
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    # Only roleAssignments/write + delete (+ */read): unlike User Access Administrator it cannot
    # change role definitions, and it accepts a condition on what it assigns.
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    # encrypt/decrypt with the key; cannot create, delete or export keys.
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    # listClusterUserCredential: what the program's Kubernetes provider calls during preview.
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    # Read Kubernetes objects (not Secrets) so a preview can diff the Kubernetes half.
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
    # Apply the Kubernetes half (MLflow, vector store, device plugin) on Entra-only clusters.
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
}

# Subscription-wide roles by stable logical key (the key names the role assignment).
PREVIEW_SUBSCRIPTION_ROLES: dict[str, str] = {
    "reader": "Reader",
    "aks-user": "Azure Kubernetes Service Cluster User Role",
    "aks-reader": "Azure Kubernetes Service RBAC Reader",
}
DEPLOY_SUBSCRIPTION_ROLES: dict[str, str] = {
    "contributor": "Contributor",
    "rbac-admin": "Role Based Access Control Administrator",
    "aks-admin": "Azure Kubernetes Service RBAC Cluster Admin",
}


def assignable_role_ids() -> list[str]:
    """The roles the platform program assigns (the only ones deploy identities may grant)."""
    return sorted(set(BUILT_IN_ROLES.values()))


def delegation_condition(role_ids: Iterable[str]) -> str:
    """ABAC condition: role assignments written or deleted only for ``role_ids``.

    Two expressions because the attribute source differs per action (``@Request`` on write,
    ``@Resource`` on delete):
    https://learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples
    """
    guids = ", ".join(sorted(set(role_ids)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}})) AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        "(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] "
        f"ForAnyOfAnyValues:GuidEquals {{{guids}}}))"
    )
