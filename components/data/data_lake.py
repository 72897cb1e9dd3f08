"""DataLake: an ADLS Gen2 storage account with the platform's containers.

Creates:
- the account (hierarchical namespace, Entra-only: shared keys off, no anonymous blob access,
  TLS 1.2, HTTPS only, OAuth by default in the portal);
- its blob service properties: soft delete for blobs and for containers. Blob versioning is
  explicitly off: it is not supported on accounts with a hierarchical namespace (Learn, "Blob
  Storage feature support in Azure Storage accounts"), so soft delete is the recovery path;
- one container per stable key (``raw``, ``curated``, ``documents``, ``mlflow-artifacts``);
- when private endpoints are given (``blob`` and ``dfs``), the endpoints, with public network
  access disabled and the firewall denying by default.

Everything here is written through Azure Resource Manager (the control plane), so a deployer
outside the VNet can apply it even when the account's data plane is private.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import storage

from components.kit.shared import (
    PrivateEndpointSpec,
    RoleAssignmentSpec,
    create_private_endpoint,
    create_role_assignments,
    stateful_options,
)

DEFAULT_CONTAINERS: dict[str, str] = {
    "raw": "raw",
    "curated": "curated",
    "documents": "documents",
    "mlflow-artifacts": "mlflow-artifacts",
}
"""Container names by stable key."""
PRIVATE_LINK_GROUPS = ("blob", "dfs")
"""ADLS clients use the dfs endpoint, Blob SDKs (MLflow, azcopy) the blob endpoint."""


@dataclass(frozen=True, kw_only=True)
class DataLakeArgs:
    """Inputs of :class:`DataLake`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the account."""
    location: str
    """Azure region."""
    account_name: str
    """Globally unique account name (3-24 lowercase letters and digits)."""
    sku: str = "Standard_LRS"
    """Replication: ``Standard_LRS``, ``Standard_ZRS``, ``Standard_GZRS``, ..."""
    containers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CONTAINERS))
    """Container names by stable key (reordering never replaces a container)."""
    blob_soft_delete_days: int = 7
    """Days a deleted blob or directory can be restored (1-365)."""
    container_soft_delete_days: int = 7
    """Days a deleted container can be restored (1-365)."""
    private_endpoints: Mapping[str, PrivateEndpointSpec] = field(default_factory=dict)
    """Private endpoints by their Azure name; each group id is ``blob`` or ``dfs``. Any entry
    disables public network access, so give both."""
    role_assignments: Mapping[str, RoleAssignmentSpec] = field(default_factory=dict)
    """Roles granted on the account, by stable key."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` on the account and its containers (they hold data)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class DataLake(pulumi.ComponentResource):
    """ADLS Gen2 account, blob data protection, containers, optional private endpoints."""

    name: pulumi.Output[str]
    """Name of the storage account."""
    resource_id: pulumi.Output[str]
    """Resource id of the storage account."""
    container_resource_ids: dict[str, pulumi.Output[str]]
    """Resource ids of the containers by stable key (role assignment scopes)."""
    container_names: dict[str, str]
    """Container names by stable key."""
    blob_endpoint: pulumi.Output[str]
    """``https://<account>.blob.core.windows.net/``."""
    dfs_endpoint: pulumi.Output[str]
    """``https://<account>.dfs.core.windows.net/``."""

    def __init__(
        self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:data:DataLake", name, None, opts)
        _check_private_endpoints(args.private_endpoints)
        private = bool(args.private_endpoints)
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="StorageV2",
            sku=storage.SkuArgs(name=args.sku),
            access_tier=storage.AccessTier.HOT,
            is_hns_enabled=True,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            allow_cross_tenant_replication=False,
            default_to_o_auth_authentication=True,
            minimum_tls_version="TLS1_2",
            enable_https_traffic_only=True,
            public_network_access="Disabled" if private else "Enabled",
            # Without private endpoints the cluster reaches the lake over its public
            # endpoint, so the firewall must admit it; access stays Entra-only (no shared
            # keys, no anonymous reads).
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY
                if private
                else storage.DefaultAction.ALLOW,
                bypass="AzureServices",
            ),
            tags=dict(args.tags),
            opts=stateful_options(self, args.protect),
        )
        blob_service = self._create_blob_service(name, args, account)
        self.container_names = dict(args.containers)
        self.container_resource_ids = {
            key: storage.BlobContainer(
                f"{name}-{key}",
                account_name=account.name,
                resource_group_name=args.resource_group_name,
                container_name=container,
                public_access=storage.PublicAccess.NONE,
                opts=pulumi.ResourceOptions.merge(
                    stateful_options(self, args.protect),
                    pulumi.ResourceOptions(depends_on=[blob_service]),
                ),
            ).id
            for key, container in sorted(args.containers.items())
        }
        create_role_assignments(
            name=name, scope=account.id, assignments=args.role_assignments, parent=self
        )
        for endpoint_name, spec in sorted(args.private_endpoints.items()):
            create_private_endpoint(
                name=f"{name}-{spec.group_id}",
                endpoint_name=endpoint_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                target_resource_id=account.id,
                spec=spec,
                tags=args.tags,
                parent=self,
            )
        self.name = account.name
        self.resource_id = account.id
        self.blob_endpoint = account.primary_endpoints.blob
        self.dfs_endpoint = account.primary_endpoints.dfs
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "container_resource_ids": self.container_resource_ids,
                "blob_endpoint": self.blob_endpoint,
                "dfs_endpoint": self.dfs_endpoint,
            }
        )

    def _create_blob_service(
        self, name: str, args: DataLakeArgs, account: storage.StorageAccount
    ) -> storage.BlobServiceProperties:
        return storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=account.name,
            resource_group_name=args.resource_group_name,
            blob_services_name="default",
            # Not supported with a hierarchical namespace; stated so drift is visible.
            is_versioning_enabled=False,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.blob_soft_delete_days
            ),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.container_soft_delete_days
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _check_private_endpoints(endpoints: Mapping[str, PrivateEndpointSpec]) -> None:
    groups = sorted(spec.group_id for spec in endpoints.values())
    if groups and groups != sorted(PRIVATE_LINK_GROUPS):
        raise ValueError(
            f"private_endpoints group ids ({groups}) must be exactly {list(PRIVATE_LINK_GROUPS)}: "
            "public network access is disabled, so both endpoints are needed"
        )
