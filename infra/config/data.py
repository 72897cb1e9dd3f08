"""Data-layer config: data lake, Key Vault, PostgreSQL, vector DB, MLflow.

Rules: retention inside Azure's ranges; no blob versioning on the data lake (ADLS Gen2 does
not support it); the PostgreSQL SKU belongs to its tier's series and the storage size is one
Premium SSD offers; HA never on Burstable; the PostgreSQL server names a Microsoft Entra
administrator; pgvector HNSW indexes at most 2000 dimensions; images pinned (a version tag or a
digest, never ``latest``). Qdrant's storage class against the pool's zones is a cross-section
rule (:mod:`infra.config.model`).
"""

from __future__ import annotations

import re
from typing import Literal, Self
from uuid import UUID

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

# Flexible Server Premium SSD sizes (GiB): 32 GiB .. 32 TiB, the last given as 32,767 GiB
# (Learn, "Storage options" in Azure Database for PostgreSQL: max disk size 32,767 GiB).
POSTGRES_STORAGE_SIZES_GB = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)


def _sizes(series: str, vcores: tuple[int, ...]) -> set[str]:
    """``Standard_D4ds_v5`` style names: ``series`` is ``D{}ds_v5``."""
    # Runs at import only (the size tables below), before mutmut selects a mutant, so its
    # mutants can never be observed; the tables are checked by the config bad-input rows.
    return {"Standard_" + series.format(n) for n in vcores}  # pragma: no mutate


# Compute sizes per tier (Learn, "Compute options in Azure Database for PostgreSQL", 2026-01):
# Burstable = B-series; General Purpose = Dsv3, Ddsv4, Ddsv5, Dadsv5, Ddsv6, Dadsv6;
# Memory Optimized = Esv3, Edsv4, Edsv5, Eadsv5, Edsv6, Eadsv6. Which exist in a region is
# Azure's to say (`az postgres flexible-server list-skus --location <region>`).
_CORES = (2, 4, 8, 16, 32, 48, 64)
_V5 = (*_CORES, 96)
_V6 = (*_V5, 128, 192)
_E_CORES = (*_CORES, 20)
POSTGRES_SKUS: dict[str, frozenset[str]] = {
    "Burstable": frozenset(
        {"Standard_B1ms", "Standard_B2s", *_sizes("B{}ms", (2, 4, 8, 12, 16, 20))}
    ),
    "GeneralPurpose": frozenset(
        _sizes("D{}s_v3", _CORES)
        | _sizes("D{}ds_v4", _CORES)
        | _sizes("D{}ds_v5", _V5)
        | _sizes("D{}ads_v5", _V5)
        | _sizes("D{}ads_v6", _V5)
        | _sizes("D{}ds_v6", _V6)
    ),
    "MemoryOptimized": frozenset(
        _sizes("E{}s_v3", _CORES)
        | _sizes("E{}ds_v4", _E_CORES)
        | _sizes("E{}ds_v5", (*_E_CORES, 96))
        | _sizes("E{}ads_v5", (*_E_CORES, 96))
        | _sizes("E{}ads_v6", (*_E_CORES, 96))
        | _sizes("E{}ds_v6", (*_E_CORES, 96, 128, 192))
    ),
}
POSTGRES_SERIES = {
    "Burstable": "B-series sizes (Standard_B1ms .. Standard_B20ms)",
    "GeneralPurpose": "D-series sizes (Dsv3, Ddsv4, Ddsv5, Dadsv5, Ddsv6, Dadsv6; e.g. D4ds_v5)",
    "MemoryOptimized": "E-series sizes (Esv3, Edsv4, Edsv5, Eadsv5, Edsv6, Eadsv6; e.g. E4ds_v5)",
}
# pgvector: HNSW and IVFFlat index `vector` columns of up to 2000 dimensions.
PGVECTOR_MAX_INDEXED_DIMENSIONS = 2000
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# registry/repository:version or @sha256:digest. A version tag starts with a number of at least
# major.minor (optionally `v`-prefixed, with a suffix such as `-full`): a moving tag such as
# `latest`, `stable` or `main` would let the same config deploy different code.
_PINNED_IMAGE = re.compile(
    r"^[a-z0-9.\-]+(:[0-9]+)?/[a-z0-9._/\-]+"
    r"(:v?[0-9]+(\.[0-9]+)+([-+._][A-Za-z0-9._\-]+)?|@sha256:[a-f0-9]{64})$"
)


def check_image(value: str) -> str:
    """An image reference pinned by version tag or digest."""
    if not _PINNED_IMAGE.match(value):
        raise rule_error(
            "",
            value,
            "must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or "
            "@sha256:<digest>; moving tags such as latest or stable are not pinned",
        )
    return value


def check_k8s_name(value: str) -> str:
    """A DNS-1123 label (namespaces, service accounts)."""
    if not _K8S_NAME.match(value):
        raise rule_error("", value, "must be a DNS-1123 label (lowercase, digits, '-', <= 63)")
    return value


class DataLakeConfig(ConfigModel):
    """ADLS Gen2 account with the raw / curated / documents / mlflow-artifacts containers."""

    sku: Literal[
        "Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS", "Standard_RAGZRS"
    ] = "Standard_LRS"
    blob_soft_delete_days: int = Field(default=7, ge=1, le=365)
    """Days a deleted (or overwritten) blob or directory can be restored."""
    container_soft_delete_days: int = Field(default=7, ge=1, le=365)
    """Days a deleted container can be restored."""
    versioning_enabled: bool = False
    """Must stay false. Blob versioning is not supported on accounts with a hierarchical
    namespace (ADLS Gen2), and the data lake always has one, so true is rejected here rather
    than failing mid-``pulumi up``. Recovery comes from blob and container soft delete (both
    supported with a hierarchical namespace). See Learn, "Blob Storage feature support in
    Azure Storage accounts"."""
    private_endpoint_enabled: bool = False
    """Disable public network access; reach blob and dfs through private endpoints."""

    @field_validator("versioning_enabled")
    @classmethod
    def _versioning(cls, value: bool) -> bool:
        if value:
            raise rule_error(
                "",
                value,
                "is not supported on an ADLS Gen2 (hierarchical namespace) account; "
                "blob and container soft delete protect the data instead",
            )
        return value


class KeyVaultConfig(ConfigModel):
    """Key Vault in RBAC mode."""

    sku: Literal["standard", "premium"] = "standard"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    purge_protection_enabled: bool = False
    """Irreversible once on; required in prod."""
    private_endpoint_enabled: bool = False


class EntraAdminConfig(ConfigModel):
    """The PostgreSQL server's Microsoft Entra administrator (a group, preferably)."""

    object_id: UUID
    """Object id of the group, user or service principal."""
    principal_name: str = Field(min_length=1, max_length=256)
    """Its display name (group name, UPN or app name); it becomes the PostgreSQL role name."""
    principal_type: Literal["Group", "User", "ServicePrincipal"] = "Group"
    """A group lets membership, not config, decide who administers the server."""


class PostgresConfig(ConfigModel):
    """PostgreSQL Flexible Server shared by MLflow (``mlflow``) and pgvector (``vectors``)."""

    version: Literal["16", "17"] = "16"
    sku_name: str = "Standard_B1ms"
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = "Burstable"
    storage_size_gb: int = 32
    high_availability: Literal["Disabled", "ZoneRedundant", "SameZone"] = "Disabled"
    backup_retention_days: int = Field(default=7, ge=7, le=35)
    geo_redundant_backup_enabled: bool = False
    """Chosen when the server is created; Azure cannot change it afterwards."""
    private_access_enabled: bool = False
    """VNet integration through the delegated ``network.subnets.postgres`` subnet and a
    private DNS zone. Chosen when the server is created; Azure cannot change it afterwards.
    When false the server has public access and **no firewall rule**, so no client (not even
    the cluster) can connect until one is added: no rule here opens it to every Azure tenant
    ("Allow Azure services"), which is what the 0.0.0.0 rule would do."""
    password_auth_enabled: bool = True
    """MLflow's SQLAlchemy engine cannot refresh Entra tokens, so it signs in with a
    generated password kept in Key Vault. Entra authentication is always on."""
    entra_admin: EntraAdminConfig | None = None
    """The server's Microsoft Entra administrator. Required (the server is always built)."""

    @field_validator("storage_size_gb")
    @classmethod
    def _storage(cls, value: int) -> int:
        if value not in POSTGRES_STORAGE_SIZES_GB:
            raise rule_error("", value, f"must be one of {list(POSTGRES_STORAGE_SIZES_GB)}")
        return value

    @model_validator(mode="after")
    def _ha(self) -> Self:
        if self.high_availability != "Disabled" and self.tier == "Burstable":
            raise rule_error(
                "highAvailability",
                self.high_availability,
                "needs tier GeneralPurpose or MemoryOptimized (not Burstable)",
            )
        sku_tier = next((t for t, skus in POSTGRES_SKUS.items() if self.sku_name in skus), None)
        if sku_tier != self.tier:
            what = (
                f"is a {sku_tier} size"
                if sku_tier
                else "is not an Azure Database for PostgreSQL flexible server size"
            )
            raise rule_error(
                "skuName",
                self.sku_name,
                f"{what}; tier {self.tier} takes {POSTGRES_SERIES[self.tier]}",
            )
        return self


class QdrantConfig(ConfigModel):
    """In-cluster Qdrant (``vectorDb.engine: qdrant``)."""

    image: str = "docker.io/qdrant/qdrant:v1.19.0"
    storage_class: str | None = None
    """An existing storage class for the data volume. Unset (recommended): the platform
    creates a Premium SSD class, zone-redundant (``Premium_ZRS``) when the Qdrant pool spans
    more than one zone, so the volume can follow the pod to another zone."""
    storage_size_gi: int = Field(default=32, ge=1, le=32767)
    namespace: str = "qdrant"

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_image(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)


class VectorDbConfig(ConfigModel):
    """The vector database: managed pgvector (default) or in-cluster Qdrant."""

    engine: Literal["pgvector", "qdrant"] = "pgvector"
    dimensions: int = Field(default=384, ge=1, le=65535)
    distance: Literal["cosine", "l2", "inner_product"] = "cosine"
    collection: str = "documents"
    qdrant: QdrantConfig = Field(default_factory=QdrantConfig)

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str) -> str:
        if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", value):
            raise rule_error("", value, "must be a lowercase SQL identifier (max 63)")
        return value

    @model_validator(mode="after")
    def _engine(self) -> Self:
        if self.engine == "pgvector" and self.dimensions > PGVECTOR_MAX_INDEXED_DIMENSIONS:
            raise rule_error(
                "dimensions",
                self.dimensions,
                f"must be <= {PGVECTOR_MAX_INDEXED_DIMENSIONS} for a pgvector HNSW index",
            )
        return self


class MlflowConfig(ConfigModel):
    """MLflow tracking server + model registry on AKS."""

    image: str = "ghcr.io/mlflow/mlflow:v3.17.2-full"
    """Pinned image with the ``db`` and ``azure`` extras (psycopg2, azure-identity)."""
    replicas: int = Field(default=1, ge=1, le=10)
    namespace: str = "mlflow"
    workers: int = Field(default=2, ge=1, le=16)
    cpu_request: str = "250m"
    cpu_limit: str = "1"
    memory_request: str = "512Mi"
    memory_limit: str = "1Gi"
    scratch_size_gi: int = Field(default=32, ge=1, le=1024)
    """Size limit of MLflow's ``/tmp``: proxied artifact uploads/downloads are buffered there
    whole, so it must hold the largest model (times concurrent transfers)."""
    ingress_enabled: bool = False
    """Not supported yet: reach MLflow in the cluster or through `kubectl port-forward`."""

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_image(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)

    @field_validator("ingress_enabled")
    @classmethod
    def _no_ingress(cls, value: bool) -> bool:
        if value:
            raise rule_error(
                "",
                value,
                "is not supported yet: reach MLflow in the cluster or with "
                "`kubectl port-forward svc/mlflow 5000`",
            )
        return value
