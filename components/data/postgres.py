"""PostgresServer: Azure Database for PostgreSQL Flexible Server for MLflow and pgvector.

Creates:
- the server: pinned major version, Microsoft Entra authentication always on, password
  authentication only when asked (the password comes from :func:`generate_admin_password`
  and is kept in Key Vault by the caller, never in outputs), high availability and backups
  as given, and either private access (VNet integration: delegated subnet + private DNS
  zone) or public access with **no firewall rule** (so nothing can connect until a rule is
  added; a 0.0.0.0 "Allow Azure services" rule would admit every Azure tenant, so none is
  made here);
- its Microsoft Entra administrator;
- the ``azure.extensions`` allow-list with ``VECTOR`` (pgvector);
- the databases (``mlflow``, ``vectors`` by default).

The server accepts one change at a time (parallel child writes fail with ``ServerIsBusy``),
so the administrator, the allow-list and each database wait for the one before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_random as random
from pulumi_azure_native import dbforpostgresql as pg

from components.kit.shared import stateful_options

ADMIN_PASSWORD_LENGTH = 40
# URI-unreserved punctuation only, so the password can sit in a connection URL unescaped.
ADMIN_PASSWORD_SPECIALS = "-_.~"
DEFAULT_ADMINISTRATOR_LOGIN = "mlopsadmin"
DEFAULT_DATABASES: dict[str, str] = {"mlflow": "mlflow", "vectors": "vectors"}
"""Database names by stable key."""
EXTENSIONS = ("VECTOR",)
"""Extensions allowed by ``azure.extensions`` (pgvector's name in the allow-list)."""
PASSWORD_SECRET_NAME = "postgres-admin-password"
"""Key Vault secret name of the administrator password."""

EntraPrincipalType = Literal["Group", "User", "ServicePrincipal"]
# The administrators API spells principal types in lower camel case.
_PRINCIPAL_TYPES: dict[str, str] = {
    "Group": "group",
    "User": "user",
    "ServicePrincipal": "servicePrincipal",
}


def generate_admin_password(name: str) -> pulumi.Output[str]:
    """A random administrator password (kept in state encrypted, marked secret).

    At least one of each character class: Azure requires three of four.
    """
    password = random.RandomPassword(
        name,
        length=ADMIN_PASSWORD_LENGTH,
        special=True,
        override_special=ADMIN_PASSWORD_SPECIALS,
        min_lower=2,
        min_upper=2,
        min_numeric=2,
        min_special=2,
    )
    return pulumi.Output.secret(password.result)


@dataclass(frozen=True, kw_only=True)
class EntraAdminSpec:
    """The server's Microsoft Entra administrator."""

    object_id: str
    """Object id of the group, user or service principal."""
    principal_name: str
    """Its display name; PostgreSQL knows the administrator by this role name."""
    principal_type: EntraPrincipalType = "Group"
    """``Group`` (preferred), ``User`` or ``ServicePrincipal``."""


@dataclass(frozen=True, kw_only=True)
class PostgresServerArgs:
    """Inputs of :class:`PostgresServer`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the server."""
    location: str
    """Azure region."""
    server_name: str
    """Globally unique server name (3-63 lowercase letters, digits, hyphens)."""
    tenant_id: pulumi.Input[str]
    """Entra tenant for Microsoft Entra authentication."""
    entra_admin: EntraAdminSpec
    """The Microsoft Entra administrator."""
    version: str = "16"
    """Pinned PostgreSQL major version."""
    sku_name: str = "Standard_B1ms"
    """Compute size, e.g. ``Standard_B1ms`` or ``Standard_D4ds_v5``."""
    tier: str = "Burstable"
    """``Burstable``, ``GeneralPurpose`` or ``MemoryOptimized``."""
    storage_size_gb: int = 32
    """Provisioned storage (grows automatically when nearly full)."""
    high_availability: str = "Disabled"
    """``Disabled``, ``SameZone`` or ``ZoneRedundant`` (not on Burstable)."""
    backup_retention_days: int = 7
    """Days of point-in-time restore (7-35)."""
    geo_redundant_backup_enabled: bool = False
    """Copy backups to the paired region; fixed once the server exists."""
    password_auth_enabled: bool = False
    """Allow password sign-in for ``administrator_login`` (Entra sign-in is always on)."""
    administrator_login: str = DEFAULT_ADMINISTRATOR_LOGIN
    """Password administrator's login (with ``password_auth_enabled``)."""
    administrator_password: pulumi.Input[str] | None = None
    """Required with ``password_auth_enabled``; from :func:`generate_admin_password`."""
    delegated_subnet_resource_id: pulumi.Input[str] | None = None
    """Private access: subnet delegated to ``Microsoft.DBforPostgreSQL/flexibleServers``."""
    private_dns_zone_resource_id: pulumi.Input[str] | None = None
    """Private access: a zone named ``*.postgres.database.azure.com`` linked to the VNet."""
    databases: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DATABASES))
    """Database names by stable key."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` on the server and its databases."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class PostgresServer(pulumi.ComponentResource):
    """Flexible Server, Entra administrator, pgvector allow-list, databases."""

    name: pulumi.Output[str]
    """Name of the server."""
    resource_id: pulumi.Output[str]
    """Resource id of the server."""
    fqdn: pulumi.Output[str]
    """``<name>.postgres.database.azure.com`` (resolves privately with private access)."""
    administrator_login: str | None
    """Password administrator's login; None when password sign-in is off."""
    database_names: dict[str, str]
    """Database names by stable key."""
    database_resource_ids: dict[str, pulumi.Output[str]]
    """Resource ids of the databases by stable key (consumers wait for them)."""
    extensions_resource_id: pulumi.Output[str]
    """Resource id of the ``azure.extensions`` allow-list (consumers of pgvector wait for it)."""
    password_secret_name: str | None
    """Key Vault secret name the caller stores the password under; None without one."""

    def __init__(
        self, name: str, args: PostgresServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:data:PostgresServer", name, None, opts)
        _check(args)
        server = pg.Server(
            f"{name}-server",
            server_name=args.server_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            version=args.version,
            sku=pg.SkuArgs(name=args.sku_name, tier=args.tier),
            storage=pg.StorageArgs(storage_size_gb=args.storage_size_gb, auto_grow="Enabled"),
            high_availability=pg.HighAvailabilityArgs(mode=args.high_availability),
            backup=pg.BackupArgs(
                backup_retention_days=args.backup_retention_days,
                geo_redundant_backup="Enabled" if args.geo_redundant_backup_enabled else "Disabled",
            ),
            auth_config=pg.AuthConfigArgs(
                active_directory_auth="Enabled",
                password_auth="Enabled" if args.password_auth_enabled else "Disabled",
                tenant_id=args.tenant_id,
            ),
            administrator_login=args.administrator_login if args.password_auth_enabled else None,
            administrator_login_password=pulumi.Output.secret(args.administrator_password)
            if args.password_auth_enabled and args.administrator_password is not None
            else None,
            network=self._network(args),
            tags=dict(args.tags),
            opts=stateful_options(self, args.protect),
        )
        extensions = self._create_children(name, args, server)
        self.extensions_resource_id = extensions.id
        self.database_names = dict(args.databases)
        self.database_resource_ids = {}
        last: pulumi.Resource = extensions
        for key, database in sorted(args.databases.items()):
            database_resource = pg.Database(
                f"{name}-db-{key}",
                resource_group_name=args.resource_group_name,
                server_name=server.name,
                database_name=database,
                charset="UTF8",
                collation="en_US.utf8",
                opts=pulumi.ResourceOptions.merge(
                    stateful_options(self, args.protect), pulumi.ResourceOptions(depends_on=[last])
                ),
            )
            self.database_resource_ids[key] = database_resource.id
            last = database_resource
        self.name = server.name
        self.resource_id = server.id
        self.fqdn = server.fully_qualified_domain_name
        self.administrator_login = args.administrator_login if args.password_auth_enabled else None
        self.password_secret_name = PASSWORD_SECRET_NAME if args.password_auth_enabled else None
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "fqdn": self.fqdn,
                "administrator_login": self.administrator_login,
                "database_names": self.database_names,
                "database_resource_ids": self.database_resource_ids,
                "extensions_resource_id": self.extensions_resource_id,
                "password_secret_name": self.password_secret_name,
            }
        )

    @staticmethod
    def _network(args: PostgresServerArgs) -> pg.NetworkArgs:
        if args.delegated_subnet_resource_id is not None:
            return pg.NetworkArgs(
                delegated_subnet_resource_id=args.delegated_subnet_resource_id,
                private_dns_zone_arm_resource_id=args.private_dns_zone_resource_id,
                public_network_access="Disabled",
            )
        return pg.NetworkArgs(public_network_access="Enabled")

    def _create_children(
        self, name: str, args: PostgresServerArgs, server: pg.Server
    ) -> pg.Configuration:
        """The Entra administrator, then the extension allow-list (returned)."""
        admin = pg.AdministratorsMicrosoftEntra(
            f"{name}-entra-admin",
            resource_group_name=args.resource_group_name,
            server_name=server.name,
            object_id=args.entra_admin.object_id,
            principal_name=args.entra_admin.principal_name,
            principal_type=_PRINCIPAL_TYPES[args.entra_admin.principal_type],
            tenant_id=args.tenant_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return pg.Configuration(
            f"{name}-extensions",
            resource_group_name=args.resource_group_name,
            server_name=server.name,
            configuration_name="azure.extensions",
            value=",".join(EXTENSIONS),
            source="user-override",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[admin]),
        )


def _check(args: PostgresServerArgs) -> None:
    """Reject combinations Azure would reject only after minutes of provisioning."""
    private = args.delegated_subnet_resource_id is not None
    if private != (args.private_dns_zone_resource_id is not None):
        raise ValueError(
            "delegated_subnet_resource_id and private_dns_zone_resource_id must be given "
            "together (private access needs both)"
        )
    if args.password_auth_enabled and args.administrator_password is None:
        raise ValueError("administrator_password is required when password_auth_enabled")
    if args.high_availability != "Disabled" and args.tier == "Burstable":
        raise ValueError(
            f"high_availability ({args.high_availability!r}) needs tier GeneralPurpose or "
            "MemoryOptimized, not Burstable"
        )
    if args.entra_admin.principal_type not in _PRINCIPAL_TYPES:
        raise ValueError(
            f"entra_admin.principal_type ({args.entra_admin.principal_type!r}) must be one of "
            f"{sorted(_PRINCIPAL_TYPES)}"
        )
