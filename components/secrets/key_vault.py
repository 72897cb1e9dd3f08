"""KeyVault: a Key Vault in RBAC mode that stores the platform's generated secrets.

Creates:
- the vault: Azure RBAC for the data plane (never access policies), soft delete with the
  given retention, purge protection when asked (irreversible once on), public network
  access disabled and the firewall denying by default when a private endpoint is given;
- its role assignments (``role_assignments``, e.g. Key Vault Secrets User for a workload);
- one secret per entry of ``secrets`` (values always marked secret, never exported);
- the private endpoint (group ``vault``) when given.

Secrets are written as ``Microsoft.KeyVault/vaults/secrets`` resources through Azure Resource
Manager. That is a control-plane write (the ``Microsoft.KeyVault/vaults/secrets/write``
*action*, held by Contributor and Key Vault Contributor), not a data-plane one: data-plane
roles such as Key Vault Secrets Officer are *data actions* and play no part in it. So the
deployer needs no data-plane role, and none is granted here. The service never returns a
secret's value through this API, so Pulumi cannot detect drift of the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import keyvault

from components.kit.shared import (
    PrivateEndpointSpec,
    RoleAssignmentSpec,
    create_private_endpoint,
    create_role_assignments,
    stateful_options,
)

SECRET_CONTENT_TYPE = "text/plain"


@dataclass(frozen=True, kw_only=True)
class KeyVaultArgs:
    """Inputs of :class:`KeyVault`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the vault."""
    location: str
    """Azure region."""
    vault_name: str
    """Globally unique vault name (3-24 alphanumerics and hyphens)."""
    tenant_id: pulumi.Input[str]
    """Entra tenant that authenticates requests to the vault."""
    sku: str = "standard"
    """``standard`` or ``premium`` (HSM-backed keys)."""
    soft_delete_retention_days: int = 90
    """Days a deleted vault or secret can be recovered (7-90); fixed once the vault exists."""
    purge_protection_enabled: bool = False
    """Forbid purging deleted vaults and secrets before retention ends. Irreversible."""
    private_endpoint: PrivateEndpointSpec | None = None
    """Reach the vault privately (group ``vault``) and disable public network access."""
    private_endpoint_name: str | None = None
    """Name of the private endpoint (with ``private_endpoint``)."""
    role_assignments: Mapping[str, RoleAssignmentSpec] = field(default_factory=dict)
    """Roles granted on the vault, by stable key."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret values by secret name (1-127 alphanumerics and hyphens). Always stored as
    Pulumi secrets; never exported."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` on the vault."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class KeyVault(pulumi.ComponentResource):
    """Key Vault (RBAC mode), role assignments, secrets, optional private endpoint."""

    name: pulumi.Output[str]
    """Name of the vault."""
    resource_id: pulumi.Output[str]
    """Resource id of the vault."""
    vault_uri: pulumi.Output[str]
    """``https://<name>.vault.azure.net/``."""
    secret_resource_ids: dict[str, pulumi.Output[str]]
    """Resource ids of the stored secrets by secret name (narrow role assignment scopes)."""
    secret_names: dict[str, pulumi.Output[str]]
    """Secret names as outputs of the secrets, for consumers that must wait until a secret
    exists (e.g. a workload reading it at start-up)."""

    def __init__(
        self, name: str, args: KeyVaultArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:secrets:KeyVault", name, None, opts)
        private = args.private_endpoint is not None
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.vault_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(args.sku)),
                # Set explicitly: the SDK otherwise sends false (access policies).
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.soft_delete_retention_days,
                # The API accepts only true or absent: purge protection cannot be turned off.
                enable_purge_protection=True if args.purge_protection_enabled else None,
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
                public_network_access="Disabled" if private else "Enabled",
                # Without a private endpoint the cluster's CSI driver reaches the vault over
                # its public endpoint, so the firewall must admit it; RBAC still decides.
                network_acls=keyvault.NetworkRuleSetArgs(
                    bypass="AzureServices", default_action="Deny" if private else "Allow"
                ),
            ),
            tags=dict(args.tags),
            opts=stateful_options(self, args.protect),
        )
        create_role_assignments(
            name=name, scope=vault.id, assignments=args.role_assignments, parent=self
        )
        secrets = {
            secret_name: keyvault.Secret(
                f"{name}-secret-{secret_name}",
                resource_group_name=args.resource_group_name,
                vault_name=vault.name,
                secret_name=secret_name,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(value), content_type=SECRET_CONTENT_TYPE
                ),
                tags=dict(args.tags),
                # A secret deleted with the vault's soft delete is recoverable, but a replaced
                # one is a new version every workload must pick up: hold it like the vault.
                opts=stateful_options(self, args.protect),
            )
            for secret_name, value in sorted(args.secrets.items())
        }
        self.secret_resource_ids = {key: secret.id for key, secret in secrets.items()}
        self.secret_names = {key: secret.name for key, secret in secrets.items()}
        if args.private_endpoint is not None:
            create_private_endpoint(
                name=name,
                endpoint_name=args.private_endpoint_name or f"pep-{args.vault_name}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                target_resource_id=vault.id,
                spec=args.private_endpoint,
                tags=args.tags,
                parent=self,
            )
        self.name = vault.name
        self.resource_id = vault.id
        self.vault_uri = vault.properties.vault_uri
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "vault_uri": self.vault_uri,
                "secret_resource_ids": self.secret_resource_ids,
                "secret_names": self.secret_names,
            }
        )
