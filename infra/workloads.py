"""The Kubernetes half of the platform: a provider for the cluster, the applications' database
roles, MLflow, the vector store, and on GPU pools the NVIDIA device plugin and the DCGM exporter
(GPU telemetry).

:func:`build_workloads` turns the validated config and the Azure outputs the workloads need
(:class:`WorkloadInputs`) into components. It does not know where those outputs come from,
so tests call it with literal values under the mock runtime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.dcgm_exporter import (
    DCGM_EXPORTER_IMAGE,
    DcgmExporter,
    DcgmExporterArgs,
)
from components.cluster.device_plugin import (
    DEVICE_PLUGIN_IMAGE,
    NvidiaDevicePlugin,
    NvidiaDevicePluginArgs,
)
from components.data import db_roles
from components.data.db_roles_job import DatabaseRoles, DatabaseRolesArgs
from components.kit import jobs
from components.kit.kubernetes import Placement, cluster_provider
from components.kit.naming import Kind, Namer
from components.mlflow.tracking import Mlflow, MlflowArgs
from components.registry import cache
from components.vectordb.store import VectorStore, VectorStoreArgs
from infra.config import PlatformConfig
from infra.data_layer import app_roles

# Where the pgvector schema job runs (Qdrant has its own configurable namespace).
PGVECTOR_NAMESPACE = "vector-store"
# Where the Job that creates the applications' database roles runs.
DB_ROLES_NAMESPACE = "db-roles"
KUBELOGIN_MODE = "azurecli"


@dataclass(frozen=True, kw_only=True)
class WorkloadInputs:
    """The Azure outputs the workloads consume."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the workload identities (and of the Key Vault)."""
    location: str
    """Azure region."""
    cluster_name: pulumi.Input[str]
    """Name of the AKS cluster (for its user credentials)."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    tenant_id: pulumi.Input[str]
    """Entra tenant id."""
    storage_account_name: pulumi.Input[str]
    """Data lake account with the ``mlflow-artifacts`` container."""
    artifacts_container_resource_id: pulumi.Input[str]
    """Resource id of the ``mlflow-artifacts`` container."""
    key_vault_name: pulumi.Input[str]
    """Name of the Key Vault."""
    key_vault_resource_id: pulumi.Input[str]
    """Resource id of the Key Vault (role assignments are scoped to secrets in it)."""
    postgres_fqdn: pulumi.Input[str]
    """FQDN of the PostgreSQL flexible server."""
    postgres_admin_login: pulumi.Input[str]
    """Password-auth administrator of the flexible server (used by the role bootstrap only)."""
    postgres_admin_password_secret_name: pulumi.Input[str]
    """Key Vault secret with the administrator's password. Pass the secret resource's output,
    not a literal, so the role assignments wait for the secret to exist."""
    postgres_app_password_secret_names: Mapping[str, pulumi.Input[str]]
    """Key Vault secret with each application role's password, by app key (``mlflow``,
    ``vectors``); secret outputs, as above."""
    postgres_database_resource_ids: Mapping[str, pulumi.Input[str]]
    """Azure ids of the databases by key (``mlflow``, ``vectors``): the Jobs wait for them."""
    postgres_extensions_resource_id: pulumi.Input[str]
    """Azure id of the server's ``azure.extensions`` allow-list."""
    tags: Mapping[str, str]
    """Tags on the Azure resources."""
    api_server_path_ids: Sequence[pulumi.Input[str]]
    """Ids of the peerings and private DNS zone links the deployer reaches a private API
    server through; the Kubernetes provider waits for them (empty for a public API server)."""
    namer: Namer
    """The stack's namer."""
    image_registry: str | None = None
    """Login server every third-party image is pulled through (the registry's cache rules,
    :func:`components.registry.cache.through_registry`); None pulls them from upstream."""
    image_pull_ids: Sequence[pulumi.Input[str]] = ()
    """Ids of what pulling through the registry needs (the kubelet's AcrPull, the cache
    rules): the Kubernetes provider, and so every pod, waits for them."""

    def image(self, upstream: str) -> str:
        """The reference a container names for the ``upstream`` image."""
        return cache.through_registry(upstream, self.image_registry)


@dataclass(frozen=True)
class Workloads:
    """What :func:`build_workloads` created."""

    provider: k8s.Provider
    database_roles: DatabaseRoles
    mlflow: Mlflow
    vector_store: VectorStore
    device_plugin: NvidiaDevicePlugin | None
    dcgm_exporter: DcgmExporter | None


def vector_namespace(cfg: PlatformConfig) -> str:
    """Namespace of the vector store for the configured engine."""
    if cfg.vector_db.engine == "qdrant":
        return cfg.vector_db.qdrant.namespace
    return PGVECTOR_NAMESPACE


def platform_namespaces(cfg: PlatformConfig) -> list[str]:
    """Namespaces whose pods may reach MLflow and the vector store (the workflows' too)."""
    clients = [cfg.mlflow.namespace, vector_namespace(cfg)]
    if cfg.workflows.enabled:
        clients.append(cfg.workflows.namespace)
    return clients


def mlflow_clients(cfg: PlatformConfig) -> list[str]:
    """Namespaces whose pods may reach MLflow: the platform's, and the model servers' (they
    load their model version through MLflow's artifact proxy)."""
    serving = [cfg.serving.namespace] if cfg.release.models else []
    return [*platform_namespaces(cfg), *serving]


def build_workloads(cfg: PlatformConfig, inputs: WorkloadInputs) -> Workloads:
    """The Kubernetes provider, the database roles, MLflow and the vector store."""
    provider = cluster_provider(
        "aks-kubernetes",
        resource_group_name=inputs.resource_group_name,
        cluster_name=inputs.cluster_name,
        login_mode=KUBELOGIN_MODE,
        reachable_after=[*inputs.api_server_path_ids, *inputs.image_pull_ids],
    )
    on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})
    placement = Placement(pool=cfg.cpu_pool.name, spot=cfg.cpu_pool.spot)
    tags = dict(inputs.tags)
    roles = build_database_roles(cfg, inputs, placement, on_cluster)
    mlflow = Mlflow(
        "mlflow",
        MlflowArgs(
            resource_group_name=inputs.resource_group_name,
            location=inputs.location,
            identity_name=inputs.namer.name(Kind.MANAGED_IDENTITY, "mlflow"),
            oidc_issuer_url=inputs.oidc_issuer_url,
            tenant_id=inputs.tenant_id,
            storage_account_name=inputs.storage_account_name,
            artifacts_container_resource_id=inputs.artifacts_container_resource_id,
            key_vault_name=inputs.key_vault_name,
            key_vault_resource_id=inputs.key_vault_resource_id,
            postgres_fqdn=inputs.postgres_fqdn,
            postgres_login=roles.logins[db_roles.MLFLOW.key],
            postgres_password_secret_name=inputs.postgres_app_password_secret_names[
                db_roles.MLFLOW.key
            ],
            database_resource_id=inputs.postgres_database_resource_ids[db_roles.MLFLOW.key],
            roles_job_id=roles.job_id,
            node_placement=placement,
            client_namespaces=mlflow_clients(cfg),
            namespace=cfg.mlflow.namespace,
            image=inputs.image(cfg.mlflow.image),
            replicas=cfg.mlflow.replicas,
            workers=cfg.mlflow.workers,
            cpu_request=cfg.mlflow.cpu_request,
            cpu_limit=cfg.mlflow.cpu_limit,
            memory_request=cfg.mlflow.memory_request,
            memory_limit=cfg.mlflow.memory_limit,
            scratch_size_gi=cfg.mlflow.scratch_size_gi,
            tags=tags,
        ),
        opts=on_cluster,
    )
    vector_store = VectorStore(
        "vector-store", _vector_store_args(cfg, inputs, roles), opts=on_cluster
    )
    return Workloads(
        provider=provider,
        database_roles=roles,
        mlflow=mlflow,
        vector_store=vector_store,
        device_plugin=build_device_plugin(cfg, inputs, on_cluster),
        dcgm_exporter=build_dcgm_exporter(cfg, inputs, on_cluster),
    )


def build_database_roles(
    cfg: PlatformConfig,
    inputs: WorkloadInputs,
    placement: Placement,
    opts: pulumi.ResourceOptions,
) -> DatabaseRoles:
    """The Job that creates each application's own database role, as the administrator."""
    apps = app_roles(cfg)
    return DatabaseRoles(
        "db-roles",
        DatabaseRolesArgs(
            namespace=DB_ROLES_NAMESPACE,
            resource_group_name=inputs.resource_group_name,
            location=inputs.location,
            identity_name=inputs.namer.name(Kind.MANAGED_IDENTITY, "dbroles"),
            oidc_issuer_url=inputs.oidc_issuer_url,
            tenant_id=inputs.tenant_id,
            key_vault_name=inputs.key_vault_name,
            key_vault_resource_id=inputs.key_vault_resource_id,
            postgres_fqdn=inputs.postgres_fqdn,
            admin_login=inputs.postgres_admin_login,
            admin_password_secret_name=inputs.postgres_admin_password_secret_name,
            apps=apps,
            password_secret_names={
                app.key: inputs.postgres_app_password_secret_names[app.key] for app in apps
            },
            database_resource_ids={
                app.key: inputs.postgres_database_resource_ids[app.key] for app in apps
            },
            extensions_resource_id=inputs.postgres_extensions_resource_id,
            node_placement=placement,
            image=inputs.image(jobs.PSQL_IMAGE),
            tags=dict(inputs.tags),
        ),
        opts=opts,
    )


def build_device_plugin(
    cfg: PlatformConfig, inputs: WorkloadInputs, opts: pulumi.ResourceOptions
) -> NvidiaDevicePlugin | None:
    """The NVIDIA device plugin for GPU pools whose driver AKS installs (none otherwise)."""
    aks_driver = [p for p in cfg.gpu_pools if p.gpu_driver == "Install"]
    if not aks_driver:
        return None
    return NvidiaDevicePlugin(
        "gpu-device-plugin",
        NvidiaDevicePluginArgs(
            whole_gpu_pools=any(p.mig_profile is None for p in aks_driver),
            mig_pools=any(p.mig_profile is not None for p in aks_driver),
            image=inputs.image(DEVICE_PLUGIN_IMAGE),
        ),
        opts=opts,
    )


def build_dcgm_exporter(
    cfg: PlatformConfig, inputs: WorkloadInputs, opts: pulumi.ResourceOptions
) -> DcgmExporter | None:
    """GPU telemetry for the GPU pools whose driver AKS installs (the GPU Operator brings its
    own exporter to the others); none without such a pool."""
    if not any(p.gpu_driver == "Install" for p in cfg.gpu_pools):
        return None
    return DcgmExporter(
        "gpu-telemetry", DcgmExporterArgs(image=inputs.image(DCGM_EXPORTER_IMAGE)), opts=opts
    )


def _vector_store_args(
    cfg: PlatformConfig, inputs: WorkloadInputs, roles: DatabaseRoles
) -> VectorStoreArgs:
    vdb = cfg.vector_db
    pgvector = vdb.engine == "pgvector"
    key = db_roles.VECTORS.key
    return VectorStoreArgs(
        engine=vdb.engine,
        namespace=vector_namespace(cfg),
        resource_group_name=inputs.resource_group_name,
        location=inputs.location,
        identity_name=inputs.namer.name(Kind.MANAGED_IDENTITY, vdb.engine),
        oidc_issuer_url=inputs.oidc_issuer_url,
        tenant_id=inputs.tenant_id,
        key_vault_name=inputs.key_vault_name,
        key_vault_resource_id=inputs.key_vault_resource_id,
        node_placement=Placement(pool=cfg.cpu_pool.name, spot=cfg.cpu_pool.spot),
        client_namespaces=platform_namespaces(cfg),
        collection=vdb.collection,
        dimensions=vdb.dimensions,
        distance=vdb.distance,
        postgres_fqdn=inputs.postgres_fqdn if pgvector else None,
        postgres_login=roles.logins[key] if pgvector else None,
        postgres_password_secret_name=inputs.postgres_app_password_secret_names[key]
        if pgvector
        else None,
        database_resource_id=inputs.postgres_database_resource_ids[key] if pgvector else None,
        roles_job_id=roles.job_id if pgvector else None,
        qdrant_image=inputs.image(vdb.qdrant.image),
        schema_job_image=inputs.image(jobs.PSQL_IMAGE),
        storage_class=vdb.qdrant.storage_class,
        zone_redundant_storage_enabled=len(cfg.vector_pool_zones) > 1,
        storage_size_gi=vdb.qdrant.storage_size_gi,
        protect=cfg.protect,
        tags=dict(inputs.tags),
    )
