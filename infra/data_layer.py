"""Compose the data layer (data lake, Key Vault, PostgreSQL) from the validated config.

Called by :func:`infra.platform.build_platform`; kept apart so each module stays small.
Nothing here branches on the stack name.
"""

from __future__ import annotations

import pulumi

from components.data import db_roles
from components.data.data_lake import DataLake, DataLakeArgs
from components.data.postgres import (
    PASSWORD_SECRET_NAME,
    EntraAdminSpec,
    PostgresServer,
    PostgresServerArgs,
    generate_admin_password,
)
from components.kit.naming import Kind, Namer
from components.network.vnet import Network
from components.secrets.key_vault import KeyVault, KeyVaultArgs
from infra.config import PlatformConfig

BLOB_PRIVATE_DNS_ZONE = "privatelink.blob.core.windows.net"
DFS_PRIVATE_DNS_ZONE = "privatelink.dfs.core.windows.net"
VAULT_PRIVATE_DNS_ZONE = "privatelink.vaultcore.azure.net"
# VNet-integrated servers need a zone ending in this suffix. Not `privatelink.postgres...`:
# that zone belongs to Private Link endpoints of public-access servers.
POSTGRES_PRIVATE_DNS_SUFFIX = "private.postgres.database.azure.com"


def postgres_private_dns_zone(namer: Namer) -> str:
    """The private DNS zone of the VNet-integrated PostgreSQL server."""
    return f"{namer.name(Kind.POSTGRES_SERVER)}.{POSTGRES_PRIVATE_DNS_SUFFIX}"


def data_private_dns_zones(cfg: PlatformConfig, namer: Namer) -> list[str]:
    """The data layer's private DNS zones, only those the config needs."""
    zones: list[str] = []
    if cfg.data_lake.private_endpoint_enabled:
        zones += [BLOB_PRIVATE_DNS_ZONE, DFS_PRIVATE_DNS_ZONE]
    if cfg.key_vault.private_endpoint_enabled:
        zones.append(VAULT_PRIVATE_DNS_ZONE)
    if cfg.postgres.private_access_enabled:
        zones.append(postgres_private_dns_zone(namer))
    return zones


def build_data_lake(
    cfg: PlatformConfig, namer: Namer, tags: dict[str, str], network: Network
) -> DataLake:
    """The ADLS Gen2 account, private (blob + dfs endpoints) when configured."""
    lake = cfg.data_lake
    account_name = namer.name(Kind.STORAGE_ACCOUNT)
    endpoints = (
        {
            namer.name(Kind.PRIVATE_ENDPOINT, f"st{group}"): network.private_endpoint(zone, group)
            for group, zone in (("blob", BLOB_PRIVATE_DNS_ZONE), ("dfs", DFS_PRIVATE_DNS_ZONE))
        }
        if lake.private_endpoint_enabled
        else {}
    )
    return DataLake(
        "datalake",
        DataLakeArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            account_name=account_name,
            sku=lake.sku,
            blob_soft_delete_days=lake.blob_soft_delete_days,
            container_soft_delete_days=lake.container_soft_delete_days,
            private_endpoints=endpoints,
            protect=cfg.protect,
            tags=tags,
        ),
    )


def build_key_vault(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    network: Network,
    *,
    tenant_id: pulumi.Input[str],
    secrets: dict[str, pulumi.Input[str]],
) -> KeyVault:
    """The vault in RBAC mode holding the generated ``secrets``.

    The deployer gets no data-plane role: ``keyvault.Secret`` is written through Azure
    Resource Manager (``Microsoft.KeyVault/vaults/secrets/write``, an action that Contributor
    and Key Vault Contributor hold), not through the vault's data plane.
    """
    kv = cfg.key_vault
    endpoint = (
        network.private_endpoint(VAULT_PRIVATE_DNS_ZONE, "vault")
        if kv.private_endpoint_enabled
        else None
    )
    return KeyVault(
        "keyvault",
        KeyVaultArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            vault_name=namer.name(Kind.KEY_VAULT),
            tenant_id=tenant_id,
            sku=kv.sku,
            soft_delete_retention_days=kv.soft_delete_retention_days,
            purge_protection_enabled=kv.purge_protection_enabled,
            private_endpoint=endpoint,
            private_endpoint_name=namer.name(Kind.PRIVATE_ENDPOINT, "kv"),
            secrets=secrets,
            protect=cfg.protect,
            tags=tags,
        ),
    )


def app_roles(cfg: PlatformConfig) -> list[db_roles.AppRole]:
    """The applications that sign in to PostgreSQL with their own role."""
    apps = [db_roles.MLFLOW]
    if cfg.vector_db.engine == "pgvector":
        apps.append(db_roles.VECTORS)
    return apps


def build_postgres(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    network: Network,
    tenant_id: pulumi.Input[str],
) -> tuple[PostgresServer, dict[str, pulumi.Input[str]]]:
    """The server and the secrets Key Vault keeps for it (by secret name): the administrator
    password and one password per application role (:func:`app_roles`)."""
    pg = cfg.postgres
    admin = pg.entra_admin
    if admin is None:  # the config model rejects this; kept for the type checker
        raise ValueError("postgres.entraAdmin is required")
    password = (
        generate_admin_password("postgres-admin-password") if pg.password_auth_enabled else None
    )
    private = pg.private_access_enabled
    server = PostgresServer(
        "postgres",
        PostgresServerArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            server_name=namer.name(Kind.POSTGRES_SERVER),
            tenant_id=tenant_id,
            entra_admin=EntraAdminSpec(
                object_id=str(admin.object_id),
                principal_name=admin.principal_name,
                principal_type=admin.principal_type,
            ),
            version=pg.version,
            sku_name=pg.sku_name,
            tier=pg.tier,
            storage_size_gb=pg.storage_size_gb,
            high_availability=pg.high_availability,
            backup_retention_days=pg.backup_retention_days,
            geo_redundant_backup_enabled=pg.geo_redundant_backup_enabled,
            password_auth_enabled=pg.password_auth_enabled,
            administrator_password=password,
            delegated_subnet_resource_id=network.subnet_ids["postgres"] if private else None,
            private_dns_zone_resource_id=network.private_dns_zone_ids[
                postgres_private_dns_zone(namer)
            ]
            if private
            else None,
            protect=cfg.protect,
            tags=tags,
        ),
    )
    secrets: dict[str, pulumi.Input[str]] = (
        {PASSWORD_SECRET_NAME: password} if password is not None else {}
    )
    for app in app_roles(cfg):
        secret_name = db_roles.password_secret_name(app)
        secrets[secret_name] = db_roles.generate_password(secret_name)
    return server, secrets
