"""The whole stack config as one typed model (one top-level key per field).

Cross-field rules that span sections live here, including what a ``prod`` environment
requires. Rules key on the configured environment (``tags.environment``), never on the
stack name: a new stack is a new stack file.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from components.cluster.gpu_sizes import node_gpu_memory_gib
from components.registry import cache
from components.serving.presets import KAITO_PRESETS
from infra.config.alerts import AlertsConfig
from infra.config.base import ConfigModel
from infra.config.cluster import (
    ClusterConfig,
    CpuPoolConfig,
    GpuPoolConfig,
    PoolConfig,
    SystemPoolConfig,
)
from infra.config.cost import CostConfig
from infra.config.data import (
    DataLakeConfig,
    KeyVaultConfig,
    MlflowConfig,
    PostgresConfig,
    VectorDbConfig,
)
from infra.config.errors import rule_error
from infra.config.monitoring import MonitoringConfig
from infra.config.network import NetworkConfig
from infra.config.policy import PolicyConfig
from infra.config.release import ReleaseConfig
from infra.config.security import SecurityConfig
from infra.config.serving import ServingSettings
from infra.config.workflows import WorkflowsConfig, check_workflows

_WORKLOAD = re.compile(r"^[a-z][a-z0-9]{1,9}$")
_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,39}$")
_SUFFIX = re.compile(r"^[a-z0-9]{4,8}$")
# Azure tag names: max 512 chars, none of <>%&\?/ ; values max 256 chars.
_TAG_NAME = re.compile(r"^[^<>%&\\?/]{1,512}$")
MIN_PROD_ZONES = 2
# Learn, "AKS pricing tiers": the Free tier supports up to 1,000 nodes, Standard (and Premium)
# up to 5,000. Every pool can scale to its maxCount at once.
MAX_NODES_BY_TIER = {"Free": 1000, "Standard": 5000, "Premium": 5000}
MIN_PROD_REPLICAS = 2
DEFENDER_REQUIRED = frozenset({"test", "prod"})
# AKS's built-in Azure Disk classes. AKS, not the stack, decides whether their disks are LRS
# (zonal: a pod cannot follow its volume to another zone) or ZRS — by the cluster's zones, from
# Kubernetes 1.29: https://learn.microsoft.com/azure/aks/availability-zones-overview#volumes
AKS_BUILT_IN_DISK_CLASSES = frozenset(
    {"default", "managed-csi", "managed-csi-premium", "managed", "managed-premium"}
)

Environment = Literal["dev", "test", "prod"]


class TagsConfig(ConfigModel):
    """Tags on every Azure resource. ``managed-by: pulumi`` is added by the program."""

    model_config = ConfigDict(extra="allow")

    environment: Environment
    owner: str = Field(min_length=1, max_length=256)
    workload: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _extra_tags(self) -> Self:
        for key, value in (self.model_extra or {}).items():
            if not _TAG_NAME.match(key):
                raise rule_error(key, key, "is not a valid tag name (max 512, none of <>%&\\?/)")
            if not isinstance(value, str) or len(value) > 256:
                raise rule_error(key, value, "must be a string of at most 256 characters")
        return self

    def as_dict(self) -> dict[str, str]:
        """All tags, required and extra, with ``managed-by`` added."""
        extra = {k: str(v) for k, v in (self.model_extra or {}).items()}
        return {
            "environment": self.environment,
            "owner": self.owner,
            "workload": self.workload,
            **extra,
            "managed-by": "pulumi",
        }


# Key Vault object names: 1-127 letters, digits and hyphens
# (https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates#object-identifiers).
_SECRET_NAME = re.compile(r"^[0-9A-Za-z-]{1,127}$")


class CacheCredentialConfig(ConfigModel):
    """Key Vault secrets ACR signs in to one upstream registry with (a credential set)."""

    username_secret: str
    """Name of the secret (in the stack's Key Vault) holding the upstream user name."""
    password_secret: str
    """Name of the secret holding the upstream password or access token."""

    @model_validator(mode="after")
    def _names(self) -> Self:
        for key, value in (
            ("usernameSecret", self.username_secret),
            ("passwordSecret", self.password_secret),
        ):
            if not _SECRET_NAME.match(value):
                raise rule_error(
                    key, value, "is not a Key Vault secret name (1-127 letters, digits, -)"
                )
        if self.username_secret == self.password_secret:
            raise rule_error(
                "passwordSecret", self.password_secret, "must differ from usernameSecret"
            )
        return self


class RegistryConfig(ConfigModel):
    """Azure Container Registry."""

    sku: Literal["Basic", "Standard", "Premium"] = "Basic"
    private_endpoint_enabled: bool = False
    """Disable public network access and reach the registry through a private endpoint."""
    retention_days: int | None = Field(default=None, ge=0, le=365)
    """Days to keep untagged manifests; None keeps them forever."""
    zone_redundancy_enabled: bool = False
    cache_rules_enabled: bool = True
    """Declare an ACR artifact cache rule per host in ``cacheUpstreams`` (all SKUs support
    them) and pull every third-party image through it. False: the kubelet pulls third-party
    images straight from upstream (``security.allowedImageUpstreams`` must admit those
    hosts; not allowed in prod)."""
    cache_upstreams: list[str] = Field(default_factory=lambda: ["docker.io", "ghcr.io", "nvcr.io"])
    """The upstream registry hosts the stack's third-party images come from."""
    cache_credentials: dict[str, CacheCredentialConfig] = Field(default_factory=dict)
    """Upstream host -> Key Vault secrets for an ACR credential set (upstreams that
    rate-limit anonymous pulls, e.g. docker.io). An operator puts the values in the vault;
    the program never writes them."""

    @model_validator(mode="after")
    def _cache_rules(self) -> Self:
        value = self.cache_upstreams
        for index, host in enumerate(value):
            key = f"cacheUpstreams[{index}]"
            if not cache.REGISTRY_HOST.match(host):
                raise rule_error(key, host, "is not a registry host name (e.g. ghcr.io)")
            if host not in cache.TARGET_PREFIXES:
                raise rule_error(
                    key,
                    host,
                    "has no cache target prefix (known: "
                    f"{', '.join(sorted(cache.TARGET_PREFIXES))})",
                )
            if host in value[:index]:
                raise rule_error(key, host, "is listed twice")
        if self.cache_rules_enabled and not self.cache_upstreams:
            raise rule_error(
                "cacheUpstreams", [], "must name at least one host when cacheRulesEnabled"
            )
        for host in self.cache_credentials:
            if not self.cache_rules_enabled:
                raise rule_error(
                    f"cacheCredentials.{host}",
                    host,
                    "needs cacheRulesEnabled (a credential set is used by a cache rule only)",
                )
            if host not in self.cache_upstreams:
                raise rule_error(
                    f"cacheCredentials.{host}",
                    host,
                    "has no cache rule: list the host in cacheUpstreams",
                )
        return self

    @model_validator(mode="after")
    def _premium_features(self) -> Self:
        premium_only = {
            "privateEndpointEnabled": self.private_endpoint_enabled,
            "retentionDays": self.retention_days is not None,
            "zoneRedundancyEnabled": self.zone_redundancy_enabled,
        }
        for key, used in premium_only.items():
            if used and self.sku != "Premium":
                raise rule_error(
                    key, getattr(self, _snake(key)), f"needs sku Premium, not {self.sku}"
                )
        return self


def _snake(camel: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel)


class PlatformConfig(ConfigModel):
    """Everything a stack file says. Each field is a top-level ``aks-mlops:<key>``."""

    workload: str
    """Short workload name used in every resource name (2-10 lowercase alphanumerics)."""
    location: str
    """Azure region, e.g. ``westeurope``."""
    tags: TagsConfig
    name_suffix: str | None = None
    """Overrides the deterministic suffix of globally unique names (ACR, storage, ...)."""
    protect_stateful_resources: bool | None = None
    """`protect` + `retain_on_delete` on stateful resources; defaults to true in prod."""
    network: NetworkConfig
    cluster: ClusterConfig
    system_pool: SystemPoolConfig
    cpu_pool: CpuPoolConfig
    gpu_pools: list[GpuPoolConfig] = Field(default_factory=list)
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    data_lake: DataLakeConfig = Field(default_factory=DataLakeConfig)
    key_vault: KeyVaultConfig = Field(default_factory=KeyVaultConfig)
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    vector_db: VectorDbConfig = Field(default_factory=VectorDbConfig)
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    """Alert thresholds, ``for`` durations and severities (rule content: observability)."""
    cost: CostConfig = Field(default_factory=CostConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    release: ReleaseConfig = Field(default_factory=ReleaseConfig)
    """What the stack runs: workload image digests and model versions (``make promote``)."""
    workflows: WorkflowsConfig = Field(default_factory=WorkflowsConfig)
    """The MLOps loop: retrain triggers, ingestion, the monitor, KubeRay."""
    serving: ServingSettings = Field(default_factory=ServingSettings)
    """Serving namespace and the optional KAITO LLM preset."""

    @field_validator("workload")
    @classmethod
    def _workload(cls, value: str) -> str:
        if not _WORKLOAD.match(value):
            raise rule_error(
                "", value, "must be 2-10 lowercase letters or digits, starting with a letter"
            )
        return value

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        if not _LOCATION.match(value):
            raise rule_error("", value, "must be an Azure region name such as westeurope")
        return value

    @field_validator("name_suffix")
    @classmethod
    def _suffix(cls, value: str | None) -> str | None:
        if value is not None and not _SUFFIX.match(value):
            raise rule_error("", value, "must be 4-8 lowercase letters or digits")
        return value

    @property
    def environment(self) -> Environment:
        """The kind of environment this stack is (from ``tags.environment``)."""
        return self.tags.environment

    @property
    def protect(self) -> bool:
        """Whether stateful resources get ``protect`` and ``retain_on_delete``."""
        if self.protect_stateful_resources is None:
            return self.environment == "prod"
        return self.protect_stateful_resources

    def _pools(self) -> list[tuple[str, PoolConfig]]:
        """(config key, pool) for every pool, system pool first."""
        return [
            ("systemPool", self.system_pool),
            ("cpuPool", self.cpu_pool),
            *((f"gpuPools[{i}]", p) for i, p in enumerate(self.gpu_pools)),
        ]

    @model_validator(mode="after")
    def _cross_section(self) -> Self:
        seen: dict[str, str] = {"systemPool": self.system_pool.name}
        for key, pool in self._pools()[1:]:
            other = next((k for k, n in seen.items() if n == pool.name), None)
            if other:
                raise rule_error(f"{key}.name", pool.name, f"is already used by {other}")
            seen[key] = pool.name
        if self.cluster.node_os_upgrade_channel == "SecurityPatch":
            # "Azure Linux doesn't support this channel on GPU-enabled VMs"
            # (https://learn.microsoft.com/azure/aks/auto-upgrade-node-os-image).
            for i, gpu in enumerate(self.gpu_pools):
                if gpu.os_sku == "AzureLinux":
                    raise rule_error(
                        f"gpuPools[{i}].osSku",
                        gpu.os_sku,
                        "cannot take cluster.nodeOsUpgradeChannel SecurityPatch (AKS does not "
                        "offer it for Azure Linux GPU nodes): use Ubuntu or NodeImage",
                    )
        counts = {key: pool.max_count for key, pool in self._pools()}
        limit = MAX_NODES_BY_TIER[self.cluster.sku_tier]
        if sum(counts.values()) > limit:
            raise rule_error(
                "cluster.skuTier",
                self.cluster.sku_tier,
                f"supports at most {limit} nodes, but the pools' maxCount add up to "
                f"{sum(counts.values())} ({', '.join(f'{k} {n}' for k, n in counts.items())})",
            )
        api = self.cluster.api_server
        if api.vnet_integration_enabled and self.network.subnets.api_server is None:
            raise rule_error(
                "cluster.apiServer.vnetIntegrationEnabled",
                True,
                "needs network.subnets.apiServer",
            )
        if self.postgres.entra_admin is None:
            raise rule_error(
                "postgres.entraAdmin",
                None,
                "is required: the PostgreSQL server always has a Microsoft Entra administrator "
                "(objectId, principalName, principalType)",
            )
        if not self.postgres.password_auth_enabled:
            raise rule_error(
                "postgres.passwordAuthEnabled",
                False,
                "must be true: MLflow signs in with the generated password (its database "
                "engine cannot refresh Entra tokens)",
            )
        if self.postgres.private_access_enabled and self.network.subnets.postgres is None:
            raise rule_error(
                "postgres.privateAccessEnabled", True, "needs network.subnets.postgres"
            )
        self._qdrant_storage()
        check_workflows(
            self.workflows,
            gpu_pools=[p.name for p in self.gpu_pools],
            cpu_pool=self.cpu_pool.name,
            workloads_image=self.release.images.workloads,
        )
        self._serving_pools()
        self._image_upstreams()
        return self

    def _gpu_pool(self, key: str, name: str) -> GpuPoolConfig:
        pool = next((p for p in self.gpu_pools if p.name == name), None)
        if pool is None:
            known = ", ".join(p.name for p in self.gpu_pools) or "none"
            raise rule_error(key, name, f"names no pool in gpuPools (known: {known})")
        return pool

    def _serving_pools(self) -> None:
        for index, model in enumerate(self.release.models):
            if model.serving.gpu_pool is not None:
                self._gpu_pool(f"release.models[{index}].serving.gpuPool", model.serving.gpu_pool)
        llm = self.serving.llm
        if llm is None:
            return
        pool = self._gpu_pool("serving.llm.gpuPool", llm.gpu_pool)
        if pool.mig_profile is not None:
            raise rule_error(
                "serving.llm.gpuPool",
                llm.gpu_pool,
                f"has migProfile {pool.mig_profile}: KAITO presets are sized for whole GPUs",
            )
        need = KAITO_PRESETS[llm.preset].total_gpu_memory_gib
        have = node_gpu_memory_gib(pool.vm_size)
        if have is None or have < need:
            shown = "unknown" if have is None else f"{have} GiB"
            raise rule_error(
                "serving.llm.preset",
                llm.preset,
                f"needs {need} GiB of GPU memory; pool {pool.name} ({pool.vm_size}) has {shown}",
            )

    def _image_upstreams(self) -> None:
        """Every upstream image has a way in: a cache rule, or (cache off) the policy's list."""
        images = {"mlflow.image": self.mlflow.image}
        if self.vector_db.engine == "qdrant":
            images["vectorDb.qdrant.image"] = self.vector_db.qdrant.image
        if self.registry.cache_rules_enabled:
            for key, image in images.items():
                host = cache.split_image(image).host
                if host not in self.registry.cache_upstreams:
                    raise rule_error(
                        key,
                        image,
                        f"comes from {host}, which has no cache rule: list it in "
                        "registry.cacheUpstreams",
                    )
            return
        if self.security.allowed_images_effect == "Disabled":
            return
        hosts = {h: "registry.cacheUpstreams" for h in self.registry.cache_upstreams}
        hosts.update({cache.split_image(image).host: key for key, image in images.items()})
        for host, source in hosts.items():
            if host not in self.security.allowed_image_upstreams:
                raise rule_error(
                    "security.allowedImageUpstreams",
                    self.security.allowed_image_upstreams,
                    f"must list {host} ({source}): with registry.cacheRulesEnabled false the "
                    "cluster pulls from it directly",
                )

    @property
    def vector_pool_zones(self) -> list[str]:
        """Zones of the pool the vector store runs on (the CPU user pool)."""
        return list(self.cpu_pool.zones if self.cpu_pool.zones is not None else self.cluster.zones)

    def _qdrant_storage(self) -> None:
        storage_class = self.vector_db.qdrant.storage_class
        zones = self.vector_pool_zones
        if (
            self.vector_db.engine == "qdrant"
            and len(zones) > 1
            and storage_class in AKS_BUILT_IN_DISK_CLASSES
        ):
            raise rule_error(
                "vectorDb.qdrant.storageClass",
                storage_class,
                f"is an AKS built-in class whose disk SKU (LRS or ZRS) AKS picks, but Qdrant's "
                f"pool (cpuPool) spans zones {','.join(zones)}: leave storageClass unset for "
                "the platform's Premium_ZRS class, or name a class with skuName Premium_ZRS "
                "or StandardSSD_ZRS",
            )

    @model_validator(mode="after")
    def _defender(self) -> Self:
        if self.environment in DEFENDER_REQUIRED and not self.security.defender_enabled:
            raise rule_error(
                "security.defenderEnabled",
                False,
                f"must be true when tags.environment is {self.environment} (only dev may "
                "run without Defender for Containers)",
            )
        return self

    @model_validator(mode="after")
    def _prod_rules(self) -> Self:
        if self.environment != "prod":
            return self
        if not self.cluster.api_server.private_cluster_enabled:
            raise rule_error(
                "cluster.apiServer.privateClusterEnabled",
                False,
                "must be true when tags.environment is prod",
            )
        if len(self.cluster.zones) < MIN_PROD_ZONES:
            raise rule_error(
                "cluster.zones",
                self.cluster.zones,
                f"must list at least {MIN_PROD_ZONES} zones when tags.environment is prod",
            )
        for key, pool in self._pools():
            # A pool that overrides the cluster's zones must not undo the rule above. GPU pools
            # are exempt on purpose: a GPU size is often offered in only some zones of a region,
            # and a pool scaling from zero holds no state (README, "GPU pools and zones").
            if key.startswith("gpuPools"):
                continue
            if pool.zones is not None and len(pool.zones) < MIN_PROD_ZONES:
                raise rule_error(
                    f"{key}.zones",
                    pool.zones,
                    f"must list at least {MIN_PROD_ZONES} zones when tags.environment is prod "
                    "(or be left out to use cluster.zones)",
                )
        if self.cluster.sku_tier == "Free":
            raise rule_error(
                "cluster.skuTier",
                "Free",
                "must be Standard (uptime SLA) when tags.environment is prod",
            )
        if not self.registry.private_endpoint_enabled:
            raise rule_error(
                "registry.privateEndpointEnabled",
                False,
                "must be true when tags.environment is prod",
            )
        prod_required: dict[str, bool] = {
            "dataLake.privateEndpointEnabled": self.data_lake.private_endpoint_enabled,
            "keyVault.purgeProtectionEnabled": self.key_vault.purge_protection_enabled,
            "keyVault.privateEndpointEnabled": self.key_vault.private_endpoint_enabled,
            "postgres.privateAccessEnabled": self.postgres.private_access_enabled,
            "postgres.geoRedundantBackupEnabled": self.postgres.geo_redundant_backup_enabled,
        }
        for key, value in prod_required.items():
            if not value:
                raise rule_error(key, value, "must be true when tags.environment is prod")
        if self.postgres.high_availability != "ZoneRedundant":
            raise rule_error(
                "postgres.highAvailability",
                self.postgres.high_availability,
                "must be ZoneRedundant when tags.environment is prod",
            )
        if self.mlflow.replicas < MIN_PROD_REPLICAS:
            raise rule_error(
                "mlflow.replicas",
                self.mlflow.replicas,
                f"must be >= {MIN_PROD_REPLICAS} when tags.environment is prod",
            )
        for index, model in enumerate(self.release.models):
            if model.serving.min_replicas < MIN_PROD_REPLICAS:
                raise rule_error(
                    f"release.models[{index}].serving.minReplicas",
                    model.serving.min_replicas,
                    f"must be >= {MIN_PROD_REPLICAS} when tags.environment is prod",
                )
        if self.protect_stateful_resources is False:
            raise rule_error(
                "protectStatefulResources", False, "must not be false in prod (nothing is lost)"
            )
        if self.security.allowed_images_effect != "Deny":
            raise rule_error(
                "security.allowedImagesEffect",
                self.security.allowed_images_effect,
                "must be Deny when tags.environment is prod",
            )
        if not self.registry.cache_rules_enabled:
            raise rule_error(
                "registry.cacheRulesEnabled",
                False,
                "must be true when tags.environment is prod (images only from the stack's "
                "registry)",
            )
        if self.security.allowed_image_upstreams:
            raise rule_error(
                "security.allowedImageUpstreams",
                self.security.allowed_image_upstreams,
                "must be empty when tags.environment is prod (every image comes through the "
                "stack's registry)",
            )
        if self.policy.enforcement != "mandatory":
            raise rule_error(
                "policy.enforcement",
                self.policy.enforcement,
                "must be mandatory when tags.environment is prod",
            )
        return self
