"""Compose the workflows (the MLOps loop) and KubeRay from the validated config.

Called by :mod:`infra.platform` after the workloads (MLflow, the vector store, the Kubernetes
provider) and observability (the Azure Monitor workspace KEDA queries) exist. Nothing is
created when ``workflows.enabled`` is false.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.data import db_roles
from components.kit.kubernetes import Placement
from components.kit.naming import Kind, Namer
from components.workflows.loop import Workflows
from components.workflows.pods import ContainerResources
from components.workflows.ray import KubeRay, KubeRayArgs
from components.workflows.specs import (
    IngestSpec,
    MonitorSpec,
    RetrainSpec,
    VectorStoreAccess,
    WorkflowsArgs,
    retrain_env,
)
from infra.config import PlatformConfig
from infra.config.workflows import ResourcesConfig

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600
# Ray head: the driver and Tune's trial scheduler, no training.
RAY_HEAD = ContainerResources(
    cpu_request="1", cpu_limit="2", memory_request="2Gi", memory_limit="4Gi"
)


@dataclass(frozen=True, kw_only=True)
class WorkflowInputs:
    """What the workflows consume from the rest of the platform."""

    resource_group_name: pulumi.Input[str]
    oidc_issuer_url: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    cluster_resource_id: pulumi.Input[str]
    registry_login_server: pulumi.Input[str]
    storage_account_name: pulumi.Input[str]
    container_names: dict[str, str]
    container_resource_ids: dict[str, pulumi.Input[str]]
    key_vault_name: pulumi.Input[str]
    key_vault_resource_id: pulumi.Input[str]
    monitor_workspace_resource_id: pulumi.Input[str]
    prometheus_query_endpoint: pulumi.Input[str]
    mlflow_tracking_uri: pulumi.Input[str]
    vector_credential_secret_name: pulumi.Input[str]
    vector_endpoint: pulumi.Input[str]
    postgres_fqdn: pulumi.Input[str]
    vectors_login: str
    provider_opts: pulumi.ResourceOptions
    namer: Namer
    tags: dict[str, str]


@dataclass(frozen=True)
class BuiltWorkflows:
    """What :func:`build_workflows` created."""

    workflows: Workflows
    kuberay: KubeRay | None


def _resources(cfg: ResourcesConfig, gpus: int = 0) -> ContainerResources:
    return ContainerResources(
        cpu_request=cfg.cpu_request,
        cpu_limit=cfg.cpu_limit,
        memory_request=cfg.memory_request,
        memory_limit=cfg.memory_limit,
        gpus=gpus,
    )


def _placement(cfg: PlatformConfig, pool: str | None) -> Placement:
    """The CPU pool for None, else the named pool with its GPU and spot tolerations."""
    gpu = next((p for p in cfg.gpu_pools if p.name == pool), None)
    if gpu is not None:
        return Placement(pool=gpu.name, spot=gpu.spot, gpu=True)
    return Placement(pool=cfg.cpu_pool.name, spot=cfg.cpu_pool.spot)


def image_digest(reference: str) -> str | None:
    """``sha256:<digest>`` of a digest-pinned reference, else None."""
    return reference.split("@", 1)[1] if "@" in reference else None


def build_workflows(cfg: PlatformConfig, inputs: WorkflowInputs) -> BuiltWorkflows | None:
    """The workflows and, when configured, KubeRay (None when workflows are off)."""
    wf = cfg.workflows
    image_ref = cfg.release.images.workloads
    if not wf.enabled or image_ref is None:
        return None
    image = pulumi.Output.concat(inputs.registry_login_server, "/", image_ref)
    cpu = _placement(cfg, None)
    r = wf.retrain
    retrain_placement = _placement(cfg, r.gpu_pool)
    pgvector = cfg.vector_db.engine == "pgvector"
    args = WorkflowsArgs(
        namespace=wf.namespace,
        resource_group_name=inputs.resource_group_name,
        location=cfg.location,
        identity_names={
            key: inputs.namer.name(Kind.MANAGED_IDENTITY, key)
            for key in ("ingest", "retrain", "monitor", "keda")
        },
        oidc_issuer_url=inputs.oidc_issuer_url,
        tenant_id=inputs.tenant_id,
        cluster_resource_id=inputs.cluster_resource_id,
        image=image,
        image_digest=image_digest(image_ref),
        storage_account_name=inputs.storage_account_name,
        container_names=inputs.container_names,
        container_resource_ids=inputs.container_resource_ids,
        key_vault_name=inputs.key_vault_name,
        key_vault_resource_id=inputs.key_vault_resource_id,
        monitor_workspace_resource_id=inputs.monitor_workspace_resource_id,
        prometheus_query_endpoint=inputs.prometheus_query_endpoint,
        mlflow_tracking_uri=inputs.mlflow_tracking_uri,
        model_name=wf.model_name,
        champion_margin=wf.champion_margin,
        retrain=RetrainSpec(
            schedule=r.schedule,
            new_data_threshold=r.new_data.blob_threshold if r.new_data.enabled else None,
            drift_share=r.degradation.drift_share if r.degradation.enabled else None,
            quality_floor=r.degradation.quality_floor if r.degradation.enabled else None,
            placement=retrain_placement,
            resources=_resources(r.resources, r.gpu_count if retrain_placement.gpu else 0),
            deadline_seconds=r.deadline_minutes * SECONDS_PER_MINUTE,
            backoff_limit=r.backoff_limit,
        ),
        ingest=IngestSpec(
            threshold=wf.ingest.blob_threshold,
            chunk_size=wf.ingest.chunk_size,
            chunk_overlap=wf.ingest.chunk_overlap,
            embedder=wf.ingest.embedder,
            max_parallel_jobs=wf.ingest.max_parallel_jobs,
            placement=cpu,
            resources=_resources(wf.ingest.resources),
            deadline_seconds=wf.ingest.deadline_minutes * SECONDS_PER_MINUTE,
        )
        if wf.ingest.enabled
        else None,
        monitor=MonitorSpec(
            placement=cpu,
            resources=_resources(wf.monitor.resources),
            scrape_interval_seconds=wf.monitor.scrape_interval_seconds,
        )
        if wf.monitor.enabled
        else None,
        vector_store=VectorStoreAccess(
            engine=cfg.vector_db.engine,
            collection=cfg.vector_db.collection,
            dimensions=cfg.vector_db.dimensions,
            distance=cfg.vector_db.distance,
            credential_secret_name=inputs.vector_credential_secret_name,
            postgres_fqdn=inputs.postgres_fqdn if pgvector else None,
            postgres_login=inputs.vectors_login if pgvector else None,
            qdrant_url=None if pgvector else inputs.vector_endpoint,
        ),
        polling_interval_seconds=wf.polling_interval_seconds,
        job_ttl_seconds=wf.job_ttl_hours * SECONDS_PER_HOUR,
        tags=inputs.tags,
    )
    workflows = Workflows("workflows", args, opts=inputs.provider_opts)
    kuberay = None
    if wf.ray.enabled:
        ray = wf.ray
        worker_placement = _placement(cfg, ray.worker_pool)
        kuberay = KubeRay(
            "kuberay",
            KubeRayArgs(
                operator_namespace=ray.namespace,
                operator_placement=cpu,
                job_namespace=wf.namespace,
                service_account="retrain",
                image=image,
                env=retrain_env(args),
                head_placement=cpu,
                head_resources=RAY_HEAD,
                worker_placement=worker_placement,
                worker_resources=_resources(
                    r.resources, ray.gpus_per_worker if worker_placement.gpu else 0
                ),
                workers=ray.workers,
                deadline_seconds=r.deadline_minutes * SECONDS_PER_MINUTE,
                ttl_seconds=wf.job_ttl_hours * SECONDS_PER_HOUR,
                content=image_ref,
                wait_for=[workflows],
            ),
            opts=inputs.provider_opts,
        )
    return BuiltWorkflows(workflows=workflows, kuberay=kuberay)


def vectors_login(logins: dict[str, str]) -> str:
    """The ``vectors`` application's database login."""
    return logins.get(db_roles.VECTORS.key, "")
