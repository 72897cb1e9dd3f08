"""Where every stack keeps its state and the key that encrypts its secrets.

Creates: a resource group; a StorageV2 account (no hierarchical namespace, so blob versioning
is allowed) with shared keys off, public blobs off, TLS 1.2, Entra authorization by default;
blob versioning, blob and container soft delete; the state container; a Key Vault in RBAC mode
with purge protection; an RSA key for ``pulumi stack init --secrets-provider azurekeyvault://``.
All of it is protected and retained: losing it loses every stack's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, keyvault, resources, storage

from bootstrap.roles import CI_ROLES

# RSA-OAEP-256 encrypt/decrypt is what the azurekeyvault secrets provider does with the key.
_KEY_OPERATIONS = ["encrypt", "decrypt"]
_KEY_SIZE = 3072


@dataclass(frozen=True, kw_only=True)
class StateBackendArgs:
    """Names and retention of the state backend (all from the bootstrap config)."""

    location: str
    """Azure region."""
    resource_group_name: str
    """Resource group holding the state account and the vault."""
    storage_account_name: str
    """Globally unique, 3-24 lowercase alphanumerics."""
    storage_sku: str = "Standard_ZRS"
    """Redundancy of the state account."""
    container_name: str = "pulumi-state"
    """Blob container that `pulumi login azblob://<container>` points at."""
    blob_soft_delete_days: int = 30
    """Days a deleted or overwritten checkpoint blob stays recoverable."""
    container_soft_delete_days: int = 30
    """Days a deleted container stays recoverable."""
    key_vault_name: str
    """Globally unique vault name."""
    soft_delete_retention_days: int = 90
    """Vault soft-delete window (7-90)."""
    key_name: str = "pulumi-secrets"
    """Name of the RSA key used as the secrets provider."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the vault."""
    subscription_resource_id: pulumi.Input[str]
    """``/subscriptions/<id>``: qualifies role definition ids."""
    operator_group_object_ids: list[str] = field(default_factory=list)
    """Entra groups of laptop operators: state data and key use (Owner has neither)."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class StateBackend(pulumi.ComponentResource):
    """The azblob state backend and the azurekeyvault secrets key."""

    resource_group_name: pulumi.Output[str]
    """Name of the bootstrap resource group."""
    storage_account_name: pulumi.Output[str]
    """Name of the state storage account."""
    container_resource_id: pulumi.Output[str]
    """Azure id of the state container (scope of the CI identities' data role)."""
    key_resource_id: pulumi.Output[str]
    """Azure id of the secrets key (scope of the CI identities' crypto role)."""
    backend_url: pulumi.Output[str]
    """``azblob://<container>?storage_account=<account>`` for ``pulumi login``."""
    secrets_provider: pulumi.Output[str]
    """``azurekeyvault://<vault>.vault.azure.net/keys/<key>`` for ``pulumi stack init``."""

    def __init__(
        self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:bootstrap:StateBackend", name, None, opts)
        keep = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=keep,
        )
        account, container = self._create_storage(name, args, group, keep)
        vault, key = self._create_vault(name, args, group, keep)
        # Owner and Contributor hold no data actions: people who run `pulumi` need these too.
        for i, object_id in enumerate(args.operator_group_object_ids):
            for role, scope, suffix in (
                ("Storage Blob Data Contributor", container.id, "state"),
                ("Key Vault Crypto User", key.id, "secrets-key"),
            ):
                authorization.RoleAssignment(
                    f"{name}-operators{i}-{suffix}",
                    scope=scope,
                    principal_id=object_id,
                    principal_type="Group",
                    role_definition_id=pulumi.Output.concat(
                        args.subscription_resource_id,
                        "/providers/Microsoft.Authorization/roleDefinitions/",
                        CI_ROLES[role],
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )

        self.resource_group_name = group.name
        self.storage_account_name = account.name
        self.container_resource_id = container.id
        self.key_resource_id = key.id
        self.backend_url = pulumi.Output.concat(
            "azblob://", container.name, "?storage_account=", account.name
        )
        self.secrets_provider = pulumi.Output.concat(
            "azurekeyvault://", vault.name, ".vault.azure.net/keys/", key.name
        )
        self.register_outputs(
            {
                "backendUrl": self.backend_url,
                "secretsProvider": self.secrets_provider,
                "containerResourceId": self.container_resource_id,
                "keyResourceId": self.key_resource_id,
            }
        )

    def _create_storage(
        self,
        name: str,
        args: StateBackendArgs,
        group: resources.ResourceGroup,
        keep: pulumi.ResourceOptions,
    ) -> tuple[storage.StorageAccount, storage.BlobContainer]:
        account = storage.StorageAccount(
            f"{name}-storage",
            account_name=args.storage_account_name,
            resource_group_name=group.name,
            location=args.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name=args.storage_sku),
            # Versioning is not supported on accounts with a hierarchical namespace:
            # https://learn.microsoft.com/azure/storage/blobs/versioning-overview
            is_hns_enabled=False,
            allow_shared_key_access=False,
            allow_blob_public_access=False,
            allow_cross_tenant_replication=False,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            # Portal and CLI default to Entra ID, matching `pulumi login azblob://` without keys.
            default_to_o_auth_authentication=True,
            # The public endpoint stays on (GitHub-hosted runners and laptops read the state);
            # with shared keys off every request needs an Entra token and a data role.
            tags=args.tags,
            opts=keep,
        )
        blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=account.name,
            resource_group_name=group.name,
            blob_services_name="default",
            # Every checkpoint write keeps the previous version: a bad update is recoverable.
            is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.blob_soft_delete_days
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.container_soft_delete_days
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        container = storage.BlobContainer(
            f"{name}-container",
            account_name=account.name,
            resource_group_name=group.name,
            container_name=args.container_name,
            public_access=storage.PublicAccess.NONE,
            opts=keep.merge(pulumi.ResourceOptions(depends_on=[blob_service])),
        )
        return account, container

    def _create_vault(
        self,
        name: str,
        args: StateBackendArgs,
        group: resources.ResourceGroup,
        keep: pulumi.ResourceOptions,
    ) -> tuple[keyvault.Vault, keyvault.Key]:
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.key_vault_name,
            resource_group_name=group.name,
            location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=args.soft_delete_retention_days,
                # Without the key every stack's secrets are unreadable: never purgeable early.
                enable_purge_protection=True,
            ),
            tags=args.tags,
            opts=keep,
        )
        key = keyvault.Key(
            f"{name}-key",
            vault_name=vault.name,
            resource_group_name=group.name,
            key_name=args.key_name,
            properties=keyvault.KeyPropertiesArgs(
                kty="RSA", key_size=_KEY_SIZE, key_ops=_KEY_OPERATIONS
            ),
            tags=args.tags,
            opts=keep,
        )
        return vault, key
