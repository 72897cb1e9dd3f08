"""Workflows config (``aks-mlops:workflows``): the MLOps loop's triggers and workloads.

What runs: retraining on a schedule (CronJob), on new-data volume and on degradation (KEDA
ScaledJobs), document ingestion on new documents (ScaledJob), the model monitor (Deployment),
and optionally the KubeRay operator with a RayJob for retrains that outgrow one node.

Rules here: a 5-field cron schedule that parses; blob thresholds >= 1; degradation thresholds
strictly between 0 and 1 (a drift share and a quality score are both 0..1, and 0 or 1 would fire
always or never); chunk overlap smaller than the chunk size. Rules that need the rest of the
stack (the retrain's GPU pool and Ray's worker pool exist; the workload image is set) are in
:func:`check_workflows`, called by the platform model.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.data import check_k8s_name
from infra.config.errors import rule_error

# Field ranges of a standard 5-field cron expression (Kubernetes CronJob schedule syntax:
# https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#schedule-syntax).
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i
            for i, m in enumerate(
                (
                    "jan",
                    "feb",
                    "mar",
                    "apr",
                    "may",
                    "jun",
                    "jul",
                    "aug",
                    "sep",
                    "oct",
                    "nov",
                    "dec",
                ),
                start=1,
            )
        },
    ),
    (
        "day of week",
        0,
        7,
        {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
    ),
)
_CRON_ITEM = re.compile(r"^(\*|[a-z0-9]+(-[a-z0-9]+)?)(/([0-9]+))?$")
_EMBEDDER = re.compile(r"^(hashing|sentence-transformers:[A-Za-z0-9._/-]{1,200})$")
CRON_RULE = (
    "must be a 5-field cron expression (minute hour day-of-month month day-of-week, "
    "e.g. '0 3 * * 0')"
)


def _cron_value(token: str, low: int, high: int, names: dict[str, int]) -> int | None:
    value = names.get(token, int(token) if token.isdigit() else None)
    return value if value is not None and low <= value <= high else None


def _cron_field_ok(text: str, low: int, high: int, names: dict[str, int]) -> bool:
    for item in text.split(","):
        match = _CRON_ITEM.match(item)
        if not match:
            return False
        if match.group(4) is not None and int(match.group(4)) < 1:
            return False
        if match.group(1) == "*":
            continue
        bounds = [_cron_value(t, low, high, names) for t in match.group(1).split("-")]
        if None in bounds or bounds != sorted(bounds):  # type: ignore[type-var]
            return False
    return True


def check_cron(value: str) -> str:
    """A standard 5-field cron expression with values inside each field's range."""
    fields = value.lower().split()
    if len(fields) != len(_CRON_FIELDS) or not all(
        _cron_field_ok(text, low, high, names)
        for text, (_, low, high, names) in zip(fields, _CRON_FIELDS, strict=True)
    ):
        raise rule_error("", value, CRON_RULE)
    return value


def _blob_threshold(value: int) -> int:
    if value < 1:
        raise rule_error("", value, "must be >= 1 (waiting blobs that start one job)")
    return value


def _share(value: float) -> float:
    if not 0.0 < value < 1.0:
        raise rule_error("", value, "must be between 0 and 1 (exclusive): the metric is a share")
    return value


class ResourcesConfig(ConfigModel):
    """Requests and limits of one workload's container."""

    cpu_request: str = "250m"
    cpu_limit: str = "1"
    memory_request: str = "512Mi"
    memory_limit: str = "2Gi"


class NewDataTriggerConfig(ConfigModel):
    """Retrain when enough new batches wait under ``raw/incoming/`` (KEDA ``azure-blob``)."""

    enabled: bool = True
    blob_threshold: int = 1
    """Waiting blobs that start a retrain; nothing runs below it."""

    @field_validator("blob_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        return _blob_threshold(value)


class DegradationTriggerConfig(ConfigModel):
    """Retrain when the monitor reports drift or a quality breach (KEDA ``prometheus``)."""

    enabled: bool = True
    drift_share: float = 0.3
    """Share of drifted features (0..1) above which a retrain starts."""
    quality_floor: float = 0.7
    """Champion quality score (0..1) below which a retrain starts."""

    @field_validator("drift_share", "quality_floor")
    @classmethod
    def _shares(cls, value: float) -> float:
        return _share(value)


class RetrainConfig(ConfigModel):
    """The retrain workload and its three triggers."""

    schedule: str | None = "0 3 * * 0"
    """Cron schedule of the CronJob (UTC); null for no scheduled retrain."""
    new_data: NewDataTriggerConfig = Field(default_factory=NewDataTriggerConfig)
    degradation: DegradationTriggerConfig = Field(default_factory=DegradationTriggerConfig)
    gpu_pool: str | None = None
    """Name of a GPU pool to run on (requests ``nvidia.com/gpu``); null for the CPU pool."""
    gpu_count: int = Field(default=1, ge=1, le=8)
    deadline_minutes: int = Field(default=120, ge=5, le=1440)
    """Active deadline of one retrain Job."""
    backoff_limit: int = Field(default=1, ge=0, le=6)
    resources: ResourcesConfig = Field(
        default_factory=lambda: ResourcesConfig(cpu_request="1", cpu_limit="2", memory_limit="4Gi")
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)


class IngestConfig(ConfigModel):
    """Document ingestion into the vector store (KEDA ``azure-blob`` on ``documents/incoming/``)."""

    enabled: bool = True
    blob_threshold: int = 1
    """Waiting documents that start an ingestion Job; nothing runs below it."""
    chunk_size: int = Field(default=800, ge=50, le=20000)
    """Characters per chunk."""
    chunk_overlap: int = Field(default=100, ge=0)
    """Characters shared by consecutive chunks (< chunkSize)."""
    embedder: str = "hashing"
    """``hashing`` (deterministic, local, no model download) or
    ``sentence-transformers:<model>`` for production."""
    max_parallel_jobs: int = Field(default=2, ge=1, le=20)
    deadline_minutes: int = Field(default=60, ge=5, le=1440)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)

    @field_validator("blob_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        return _blob_threshold(value)

    @field_validator("embedder")
    @classmethod
    def _embedder(cls, value: str) -> str:
        if not _EMBEDDER.match(value):
            raise rule_error("", value, "must be hashing or sentence-transformers:<model>")
        return value

    @model_validator(mode="after")
    def _overlap(self) -> Self:
        if self.chunk_overlap >= self.chunk_size:
            raise rule_error(
                "chunkOverlap",
                self.chunk_overlap,
                f"must be smaller than chunkSize ({self.chunk_size})",
            )
        return self


class MonitorConfig(ConfigModel):
    """The model monitor service (Deployment + Service + PodMonitor)."""

    enabled: bool = True
    scrape_interval_seconds: int = Field(default=60, ge=10, le=600)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)


class RayConfig(ConfigModel):
    """KubeRay operator + a RayJob running the retrain's Ray Tune search."""

    enabled: bool = False
    worker_pool: str | None = None
    """Pool the Ray workers run on: a GPU pool's name or the CPU pool's. Required when enabled."""
    workers: int = Field(default=2, ge=1, le=64)
    gpus_per_worker: int = Field(default=1, ge=0, le=8)
    """GPUs each worker requests (on a GPU pool)."""
    namespace: str = "ray-system"
    """Namespace of the KubeRay operator."""

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)


class WorkflowsConfig(ConfigModel):
    """The MLOps loop on the cluster."""

    enabled: bool = False
    namespace: str = "workflows"
    model_name: str = "model"
    """Registered model name in MLflow (retrain registers it, the monitor evaluates it)."""
    champion_margin: float = Field(default=0.01, ge=0.0, le=1.0)
    """How much better a challenger must score to take the champion alias."""
    polling_interval_seconds: int = Field(default=60, ge=10, le=3600)
    """How often KEDA checks each trigger."""
    job_ttl_hours: int = Field(default=24, ge=1, le=720)
    """Finished trigger Jobs are deleted after this long (their logs are in Container Insights)."""
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    ray: RayConfig = Field(default_factory=RayConfig)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        return check_k8s_name(value)

    @field_validator("model_name")
    @classmethod
    def _model(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$", value):
            raise rule_error(
                "", value, "must be 1-63 letters, digits, '.', '-' or '_' (a PromQL label value)"
            )
        return value


def check_workflows(
    wf: WorkflowsConfig,
    *,
    gpu_pools: list[str],
    cpu_pool: str,
    workloads_image: str | None,
) -> None:
    """Cross-section rules: named pools exist, the workload image is set."""
    if not wf.enabled:
        return
    if workloads_image is None:
        raise rule_error(
            "release.images.workloads",
            None,
            "is required when workflows.enabled is true (the image the workflows run)",
        )
    gpu = wf.retrain.gpu_pool
    if gpu is not None and gpu not in gpu_pools:
        raise rule_error(
            "workflows.retrain.gpuPool",
            gpu,
            f"is not a GPU pool of this stack (gpuPools: {', '.join(gpu_pools) or 'none'})",
        )
    ray = wf.ray
    if ray.enabled and ray.worker_pool is None:
        raise rule_error(
            "workflows.ray.workerPool",
            None,
            "is required when workflows.ray.enabled is true (a GPU pool or the CPU pool "
            "for the Ray workers)",
        )
    if ray.enabled and ray.worker_pool not in [*gpu_pools, cpu_pool]:
        raise rule_error(
            "workflows.ray.workerPool",
            ray.worker_pool,
            f"is not a pool of this stack (cpuPool {cpu_pool}; gpuPools: "
            f"{', '.join(gpu_pools) or 'none'})",
        )
