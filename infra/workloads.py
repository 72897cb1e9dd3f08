"""The Kubernetes half of the platform: a provider for the cluster, MLflow, the vector store.

:func:`build_workloads` turns the validated config and the Azure outputs the workloads need
(:class:`WorkloadInputs`) into components. It does not know where those outputs come from,
so tests call it with literal values under the mock runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.device_plugin import NvidiaDevicePlugin, NvidiaDevicePluginArgs
from components.kit.kubernetes import Placement, cluster_provider
from components.kit.naming import Kind, Namer
from components.mlflow.tracking import Mlflow, MlflowArgs
from components.vectordb.store import VectorStore, VectorStoreArgs
from infra.config import PlatformConfig

# Where the pgvector schema job runs (Qdrant has its own configurable namespace).
PGVECTOR_NAMESPACE = "vector-store"
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
    """Password-auth login of the flexible server."""
    postgres_password_secret_name: pulumi.Input[str]
    """Key Vault secret with that login's password. Pass the secret resource's output, not
    a literal, so the role assignments wait for the secret to exist."""
    tags: Mapping[str, str]
    """Tags on the Azure resources."""
    namer: Namer
    """The stack's namer."""


@dataclass(frozen=True)
class Workloads:
    """What :func:`build_workloads` created."""

    provider: k8s.Provider
    mlflow: Mlflow
    vector_store: VectorStore
    device_plugin: NvidiaDevicePlugin | None


def vector_namespace(cfg: PlatformConfig) -> str:
    """Namespace of the vector store for the configured engine."""
    if cfg.vector_db.engine == "qdrant":
        return cfg.vector_db.qdrant.namespace
    return PGVECTOR_NAMESPACE


def platform_namespaces(cfg: PlatformConfig) -> list[str]:
    """Namespaces whose pods may reach MLflow and the vector store."""
    return [cfg.mlflow.namespace, vector_namespace(cfg)]


def build_workloads(cfg: PlatformConfig, inputs: WorkloadInputs) -> Workloads:
    """The Kubernetes provider, MLflow and the vector store."""
    provider = cluster_provider(
        "aks-kubernetes",
        resource_group_name=inputs.resource_group_name,
        cluster_name=inputs.cluster_name,
        login_mode=KUBELOGIN_MODE,
    )
    on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})
    placement = Placement(pool=cfg.cpu_pool.name, spot=cfg.cpu_pool.spot)
    clients = platform_namespaces(cfg)
    tags = dict(inputs.tags)
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
            postgres_login=inputs.postgres_admin_login,
            postgres_password_secret_name=inputs.postgres_password_secret_name,
            node_placement=placement,
            client_namespaces=clients,
            namespace=cfg.mlflow.namespace,
            image=cfg.mlflow.image,
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
    vector_store = VectorStore("vector-store", _vector_store_args(cfg, inputs), opts=on_cluster)
    return Workloads(
        provider=provider,
        mlflow=mlflow,
        vector_store=vector_store,
        device_plugin=build_device_plugin(cfg, on_cluster),
    )


def build_device_plugin(
    cfg: PlatformConfig, opts: pulumi.ResourceOptions
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
        ),
        opts=opts,
    )


def _vector_store_args(cfg: PlatformConfig, inputs: WorkloadInputs) -> VectorStoreArgs:
    vdb = cfg.vector_db
    pgvector = vdb.engine == "pgvector"
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
        postgres_login=inputs.postgres_admin_login if pgvector else None,
        postgres_password_secret_name=inputs.postgres_password_secret_name if pgvector else None,
        qdrant_image=vdb.qdrant.image,
        # The config model requires a storage class whenever the engine is qdrant.
        storage_class=vdb.qdrant.storage_class or "",
        storage_size_gi=vdb.qdrant.storage_size_gi,
        protect=cfg.protect,
        tags=dict(inputs.tags),
    )
