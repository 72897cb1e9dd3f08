"""Data-layer config: data lake, Key Vault, PostgreSQL, vector DB, MLflow.

Rules: retention inside Azure's ranges; zone-redundant HA never on Burstable; pgvector HNSW
indexes at most 2000 dimensions; qdrant needs a storage class; images pinned (a version tag
or a digest, never ``latest``).
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

# Flexible Server storage sizes (GiB) accepted by the service.
POSTGRES_STORAGE_SIZES_GB = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
# pgvector: HNSW and IVFFlat index `vector` columns of up to 2000 dimensions.
PGVECTOR_MAX_INDEXED_DIMENSIONS = 2000
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# registry/repository:tag or @sha256:digest; the tag must not be `latest`.
_PINNED_IMAGE = re.compile(
    r"^[a-z0-9.\-]+(:[0-9]+)?/[a-z0-9._/\-]+(:(?!latest$)[A-Za-z0-9._\-]+|@sha256:[a-f0-9]{64})$"
)


def check_image(value: str) -> str:
    """An image reference pinned by version tag or digest."""
    if not _PINNED_IMAGE.match(value):
        raise rule_error(
            "", value, "must be registry/repository:version or @sha256:<digest> (not latest)"
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
    container_soft_delete_days: int = Field(default=7, ge=1, le=365)
    versioning_enabled: bool = True
    private_endpoint_enabled: bool = False
    """Disable public network access; reach blob and dfs through private endpoints."""


class KeyVaultConfig(ConfigModel):
    """Key Vault in RBAC mode."""

    sku: Literal["standard", "premium"] = "standard"
    soft_delete_retention_days: int = Field(default=90, ge=7, le=90)
    purge_protection_enabled: bool = False
    """Irreversible once on; required in prod."""
    private_endpoint_enabled: bool = False


class PostgresConfig(ConfigModel):
    """PostgreSQL Flexible Server shared by MLflow (``mlflow``) and pgvector (``vectors``)."""

    version: Literal["16", "17"] = "16"
    sku_name: str = "Standard_B1ms"
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"] = "Burstable"
    storage_size_gb: int = 32
    high_availability: Literal["Disabled", "ZoneRedundant", "SameZone"] = "Disabled"
    backup_retention_days: int = Field(default=7, ge=7, le=35)
    geo_redundant_backup_enabled: bool = False
    private_access_enabled: bool = False
    """VNet integration through the delegated ``network.subnets.postgres`` subnet."""
    password_auth_enabled: bool = True
    """MLflow's SQLAlchemy engine cannot refresh Entra tokens, so it signs in with a
    generated password kept in Key Vault. Entra authentication is always on."""

    @field_validator("sku_name")
    @classmethod
    def _sku(cls, value: str) -> str:
        if not re.match(r"^Standard_[A-Za-z0-9_]+$", value):
            raise rule_error("", value, "must be a Flexible Server SKU such as Standard_B1ms")
        return value

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
        if self.tier == "Burstable" and not self.sku_name.startswith("Standard_B"):
            raise rule_error("skuName", self.sku_name, "must be a B-series SKU for Burstable")
        return self


class QdrantConfig(ConfigModel):
    """In-cluster Qdrant (``vectorDb.engine: qdrant``)."""

    image: str = "docker.io/qdrant/qdrant:v1.19.0"
    storage_class: str | None = None
    """Storage class of the data volume, e.g. ``managed-csi-premium``. Required."""
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
        if self.engine == "qdrant" and not self.qdrant.storage_class:
            raise rule_error(
                "qdrant.storageClass", None, "is required when engine is qdrant"
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
    ingress_enabled: bool = False

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        return check_image(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)
