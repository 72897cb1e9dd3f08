"""WorkloadIdentity: an Azure identity for one Kubernetes service account.

Creates a user-assigned identity, a federated credential trusting the cluster's OIDC issuer
for ``system:serviceaccount:<namespace>:<service account>``, and role assignments on the
scopes the workload needs (narrowest first). The service account must carry the annotation
``azure.workload.identity/client-id: <client_id>`` and its pods the label
``azure.workload.identity/use: "true"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import managedidentity

from components.kit.shared import ScopedRoleAssignmentSpec, assign_role

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentityArgs:
    """Inputs of :class:`WorkloadIdentity`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the identity."""
    location: str
    """Azure region."""
    identity_name: str
    """Name of the user-assigned identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    namespace: str
    """Kubernetes namespace of the service account."""
    service_account: str
    """Kubernetes service account name."""
    role_assignments: Mapping[str, ScopedRoleAssignmentSpec] = field(default_factory=dict)
    """Roles granted to the identity, by stable key."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the identity."""


class WorkloadIdentity(pulumi.ComponentResource):
    """User-assigned identity + federated credential + role assignments."""

    name: pulumi.Output[str]
    """Name of the identity."""
    resource_id: pulumi.Output[str]
    """Resource id of the identity."""
    client_id: pulumi.Output[str]
    """Client id for the service-account annotation."""
    principal_id: pulumi.Output[str]
    """Object id, for role assignments."""

    def __init__(
        self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:identity:WorkloadIdentity", name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            resource_name_=identity.name,
            resource_group_name=args.resource_group_name,
            federated_identity_credential_resource_name=(
                f"{args.namespace}-{args.service_account}"
            ),
            issuer=args.oidc_issuer_url,
            subject=f"system:serviceaccount:{args.namespace}:{args.service_account}",
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        for key, spec in sorted(args.role_assignments.items()):
            assign_role(
                f"{name}-{key}",
                scope=spec.scope,
                role=spec.role,
                principal_id=identity.principal_id,
                parent=self,
            )
        self.name = identity.name
        self.resource_id = identity.id
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
            }
        )
