"""CI identities: who may run `pulumi preview` and `pulumi up`, from where, with which roles.

Creates, per identity: a user-assigned managed identity; federated credentials for GitHub
Actions OIDC (and an Azure DevOps service connection where configured), created one after the
other because Entra rejects concurrent credential writes on one identity
(https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations);
role assignments: state container (Storage Blob Data Contributor) and secrets key (Key Vault
Crypto User) for every identity, then read-only roles (preview) or deploy roles with a
condition on the roles it may assign (deploy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from bootstrap.roles import (
    CI_ROLES,
    DEPLOY_SUBSCRIPTION_ROLES,
    PREVIEW_SUBSCRIPTION_ROLES,
    delegation_condition,
)

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# The audience Entra expects in every federated token exchange:
# https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True, kw_only=True)
class Federation:
    """One trusted (issuer, subject) pair."""

    key: str
    """Stable logical name of the credential (also its Azure name)."""
    issuer: str
    """Token issuer URL."""
    subject: str
    """Exact ``sub`` claim the token must carry."""


@dataclass(frozen=True, kw_only=True)
class CiIdentityArgs:
    """A CI identity and what it may do."""

    identity_name: str
    """Azure name of the user-assigned identity."""
    resource_group_name: pulumi.Input[str]
    """Where the identity lives (the bootstrap resource group)."""
    location: str
    """Azure region."""
    federations: Sequence[Federation]
    """Trusted token subjects (GitHub environment / pull_request, Azure DevOps connection)."""
    deploy: bool
    """True: Contributor + conditioned role delegation + AKS RBAC Cluster Admin; else read-only."""
    subscription_resource_id: pulumi.Input[str]
    """``/subscriptions/<id>``: scope of the subscription-wide roles."""
    state_container_resource_id: pulumi.Input[str]
    """Scope of the state data role."""
    secrets_key_resource_id: pulumi.Input[str]
    """Scope of the crypto role."""
    assignable_role_ids: Sequence[str] = ()
    """Role definition GUIDs a deploy identity may assign (the platform program's roles)."""
    tags: dict[str, str] | None = None
    """Tags on the identity."""


def _role_id(subscription_resource_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        subscription_resource_id,
        "/providers/Microsoft.Authorization/roleDefinitions/",
        CI_ROLES[role],
    )


class CiIdentity(pulumi.ComponentResource):
    """A CI identity federated to GitHub Actions / Azure DevOps with least-privilege roles."""

    client_id: pulumi.Output[str]
    """Client id to give `azure/login` / the service connection."""
    principal_id: pulumi.Output[str]
    """Object id of the identity's service principal."""
    resource_id: pulumi.Output[str]
    """Azure id of the identity."""

    def __init__(
        self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:bootstrap:CiIdentity", name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        previous: list[pulumi.Resource] = []
        for federation in args.federations:
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-{federation.key}",
                resource_name_=identity.name,
                resource_group_name=args.resource_group_name,
                federated_identity_credential_resource_name=federation.key,
                issuer=federation.issuer,
                subject=federation.subject,
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            previous = [credential]
        self._assign_roles(name, args, identity.principal_id)
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.resource_id = identity.id
        self.register_outputs({"clientId": self.client_id, "principalId": self.principal_id})

    def _assign(
        self,
        *,
        name: str,
        role: str,
        scope: pulumi.Input[str],
        args: CiIdentityArgs,
        principal_id: pulumi.Input[str],
        condition: str | None = None,
    ) -> None:
        authorization.RoleAssignment(
            name,
            scope=scope,
            principal_id=principal_id,
            # Set explicitly: a just-created identity may not have replicated yet.
            principal_type="ServicePrincipal",
            role_definition_id=_role_id(args.subscription_resource_id, role),
            condition=condition,
            condition_version="2.0" if condition else None,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _assign_roles(
        self, name: str, args: CiIdentityArgs, principal_id: pulumi.Input[str]
    ) -> None:
        scoped = {
            "state": ("Storage Blob Data Contributor", args.state_container_resource_id),
            "secrets-key": ("Key Vault Crypto User", args.secrets_key_resource_id),
        }
        roles = DEPLOY_SUBSCRIPTION_ROLES if args.deploy else PREVIEW_SUBSCRIPTION_ROLES
        for key, role in roles.items():
            scoped[key] = (role, args.subscription_resource_id)
        for key, (role, scope) in scoped.items():
            condition = None
            if role == "Role Based Access Control Administrator":
                # Assign (and remove) only the roles the platform program grants: never
                # Owner, User Access Administrator or this role itself.
                condition = delegation_condition(args.assignable_role_ids)
            self._assign(
                name=f"{name}-{key}",
                role=role,
                scope=scope,
                args=args,
                principal_id=principal_id,
                condition=condition,
            )
