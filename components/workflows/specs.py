"""Inputs of :class:`~components.workflows.loop.Workflows` and the workloads' environments.

The environments are pure functions of the args, so tests compare them with
:mod:`contract.workloads` (the only names the workloads read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.kit import kubernetes as kube
from components.workflows.pods import ContainerResources, common_env
from contract import workloads as env

PASSWORD_ALIAS = "vector-store-credential"
PASSWORD_FILE = f"{kube.SECRETS_MOUNT_PATH}/{PASSWORD_ALIAS}"
POSTGRES_PORT = 5432
VECTORS_DATABASE = "vectors"
WORKLOADS = ("ingest", "retrain", "monitor")


@dataclass(frozen=True, kw_only=True)
class RetrainSpec:
    """The retrain workload and its triggers."""

    schedule: str | None
    """Cron schedule of the CronJob (UTC); None for no scheduled run."""
    new_data_threshold: int | None
    """Waiting blobs under ``raw/incoming/`` that start a retrain; None for no such trigger."""
    drift_share: float | None
    """Drift share (0..1) above which a retrain starts; None with ``quality_floor`` for no
    degradation trigger."""
    quality_floor: float | None
    """Champion quality (0..1) below which a retrain starts."""
    placement: kube.Placement
    """Pool the retrain runs on (a GPU pool: GPU and spot tolerations, pool selector)."""
    resources: ContainerResources
    """Requests and limits (``gpus`` on a GPU pool)."""
    deadline_seconds: int = 7200
    """Active deadline of one run."""
    backoff_limit: int = 1
    """Retries of a failed run (a rejected batch exits non-zero: retrying it is pointless)."""


@dataclass(frozen=True, kw_only=True)
class IngestSpec:
    """The ingestion workload (None of it when ingestion is off)."""

    threshold: int
    """Waiting documents under ``documents/incoming/`` that start a Job."""
    chunk_size: int
    """Characters per chunk."""
    chunk_overlap: int
    """Characters shared by consecutive chunks."""
    embedder: str
    """``hashing`` or ``sentence-transformers:<model>``."""
    max_parallel_jobs: int
    """At most this many ingestion Jobs at once."""
    placement: kube.Placement
    """Pool (the CPU pool)."""
    resources: ContainerResources
    """Requests and limits."""
    deadline_seconds: int = 3600
    """Active deadline of one Job."""


@dataclass(frozen=True, kw_only=True)
class MonitorSpec:
    """The monitor service."""

    placement: kube.Placement
    """Pool (the CPU pool)."""
    resources: ContainerResources
    """Requests and limits."""
    scrape_interval_seconds: int = 60
    """How often managed Prometheus scrapes ``/metrics``."""


@dataclass(frozen=True, kw_only=True)
class VectorStoreAccess:
    """How ingestion reaches the vector store."""

    engine: str
    """``pgvector`` or ``qdrant``."""
    collection: str
    """Table or collection."""
    dimensions: int
    """Embedding dimensions."""
    distance: str
    """``cosine``, ``l2`` or ``inner_product``: the distance the store's index serves."""
    credential_secret_name: pulumi.Input[str]
    """Key Vault secret ingest reads: the ``vectors_app`` password (pgvector) or the Qdrant
    API key. Pass the secret resource's output so the role assignment waits for it."""
    postgres_fqdn: pulumi.Input[str] | None = None
    """PostgreSQL server (pgvector)."""
    postgres_login: pulumi.Input[str] | None = None
    """The ``vectors`` application's login (pgvector)."""
    qdrant_url: pulumi.Input[str] | None = None
    """In-cluster Qdrant endpoint (qdrant)."""


@dataclass(frozen=True, kw_only=True)
class WorkflowsArgs:
    """Inputs of :class:`~components.workflows.loop.Workflows`."""

    namespace: str
    """Namespace of every workflow object."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the identities."""
    location: str
    """Azure region of the identities."""
    identity_names: Mapping[str, str]
    """User-assigned identity names by key: ``ingest``, ``retrain``, ``monitor``, ``keda``."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    tenant_id: pulumi.Input[str]
    """Entra tenant (Key Vault access of the CSI driver)."""
    cluster_resource_id: pulumi.Input[str]
    """The AKS cluster: its KEDA add-on must exist before any KEDA object."""
    image: pulumi.Input[str]
    """The workloads image (``<registry>/<repository>@sha256:<digest>``)."""
    image_digest: str | None
    """The image's digest (tagged on model versions), when pinned by digest."""
    storage_account_name: pulumi.Input[str]
    """The data lake account."""
    container_names: Mapping[str, str]
    """Container names by key: ``raw``, ``curated``, ``documents``."""
    container_resource_ids: Mapping[str, pulumi.Input[str]]
    """Container resource ids by the same keys (role assignment scopes)."""
    key_vault_name: pulumi.Input[str]
    """Key Vault holding the vector store's credential."""
    key_vault_resource_id: pulumi.Input[str]
    """Resource id of the Key Vault (roles are scoped to one secret in it)."""
    monitor_workspace_resource_id: pulumi.Input[str]
    """Azure Monitor workspace (KEDA reads it with Monitoring Data Reader)."""
    prometheus_query_endpoint: pulumi.Input[str]
    """The workspace's Prometheus query endpoint (the degradation triggers' server)."""
    mlflow_tracking_uri: pulumi.Input[str]
    """In-cluster MLflow (retrain and monitor)."""
    model_name: str
    """Registered model name."""
    champion_margin: float
    """How much better a challenger must score to become champion."""
    retrain: RetrainSpec
    """The retrain workload and triggers."""
    ingest: IngestSpec | None
    """Ingestion; None for none."""
    monitor: MonitorSpec | None
    """The monitor; None for none."""
    vector_store: VectorStoreAccess
    """How ingestion reaches the vector store."""
    polling_interval_seconds: int = 60
    """How often KEDA checks each trigger."""
    job_ttl_seconds: int = 86400
    """Finished Jobs are deleted this long after they finish."""
    history_limit: int = 3
    """Finished Jobs kept per CronJob / ScaledJob (successful and failed each)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the identities."""


def _blob_env(args: WorkflowsArgs) -> dict[str, pulumi.Input[str]]:
    return common_env(account=args.storage_account_name, image_digest=args.image_digest)


def retrain_env(args: WorkflowsArgs) -> dict[str, pulumi.Input[str]]:
    """The retrain's environment (also the RayJob's)."""
    return {
        **_blob_env(args),
        env.RAW_CONTAINER: args.container_names["raw"],
        env.MLFLOW_TRACKING_URI: args.mlflow_tracking_uri,
        env.MODEL_NAME: args.model_name,
        env.CHAMPION_MARGIN: f"{args.champion_margin:g}",
    }


def monitor_env(args: WorkflowsArgs) -> dict[str, pulumi.Input[str]]:
    """The monitor's environment."""
    return {
        **_blob_env(args),
        env.RAW_CONTAINER: args.container_names["raw"],
        env.CURATED_CONTAINER: args.container_names["curated"],
        env.MLFLOW_TRACKING_URI: args.mlflow_tracking_uri,
        env.MODEL_NAME: args.model_name,
    }


def ingest_env(args: WorkflowsArgs, ingest: IngestSpec) -> dict[str, pulumi.Input[str]]:
    """Ingestion's environment: chunking, embedder, and the vector store's endpoint."""
    store = args.vector_store
    out: dict[str, pulumi.Input[str]] = {
        **_blob_env(args),
        env.DOCUMENTS_CONTAINER: args.container_names["documents"],
        env.CHUNK_SIZE: str(ingest.chunk_size),
        env.CHUNK_OVERLAP: str(ingest.chunk_overlap),
        env.EMBEDDER: ingest.embedder,
        env.VECTOR_ENGINE: store.engine,
        env.VECTOR_COLLECTION: store.collection,
        env.VECTOR_DIMENSIONS: str(store.dimensions),
        env.VECTOR_DISTANCE: store.distance,
    }
    if store.engine == "pgvector":
        if store.postgres_fqdn is None or store.postgres_login is None:
            raise ValueError("pgvector needs postgres_fqdn and postgres_login")
        out |= {
            env.PG_HOST: store.postgres_fqdn,
            env.PG_PORT: str(POSTGRES_PORT),
            env.PG_DATABASE: VECTORS_DATABASE,
            env.PG_USER: store.postgres_login,
            env.PG_SSLMODE: "require",
            env.DB_PASSWORD_FILE: PASSWORD_FILE,
        }
    else:
        if store.qdrant_url is None:
            raise ValueError("qdrant needs qdrant_url")
        out |= {env.QDRANT_URL: store.qdrant_url, env.QDRANT_API_KEY_FILE: PASSWORD_FILE}
    return out
