"""Alert thresholds, ``for`` durations and severities (top-level key ``alerts``).

Each alert has ``enabled``, ``severity`` (Azure: 0 critical .. 4 verbose) and ``forMinutes``
(how long the condition must hold), plus the thresholds of its condition. Ranges are the
meaningful ones for the quantity: a quality score or a drift share is a ratio in 0..1, a
percentage is 0..100, a latency is > 0 s, counts and durations are >= 0. Every rejection names
the key, e.g. ``alerts.model.quality.minScore (1.5) Input should be less than or equal to 1``.
The rule content itself is :func:`components.observability.alerts.alert_rule_groups`.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

MAX_FOR_MINUTES = 1440
"""A day: an alert that needs a condition to hold longer is a report, not an alert."""
MAX_STALE_HOURS = 24 * 31


class AlertConfig(ConfigModel):
    """What every alert has."""

    enabled: bool = True
    severity: Literal[0, 1, 2, 3, 4] = 3
    """Azure alert severity: 0 critical, 1 error, 2 warning, 3 informational, 4 verbose."""
    for_minutes: int = Field(default=5, ge=0, le=MAX_FOR_MINUTES)


# --- cluster and nodes -------------------------------------------------------------------------
class NodeNotReadyConfig(AlertConfig):
    severity: Literal[0, 1, 2, 3, 4] = 1
    for_minutes: int = Field(default=10, ge=0, le=MAX_FOR_MINUTES)


class CrashLoopConfig(AlertConfig):
    restarts: int = Field(default=3, ge=0)
    """Container restarts within ``windowMinutes`` that count as crash-looping."""
    window_minutes: int = Field(default=15, ge=1, le=MAX_FOR_MINUTES)


class VolumeFullConfig(AlertConfig):
    used_percent: float = Field(default=85, ge=0, le=100)
    """Used share of a persistent volume's capacity, in percent."""


class GpuPendingConfig(AlertConfig):
    for_minutes: int = Field(default=30, ge=0, le=MAX_FOR_MINUTES)
    """Minutes a pod requesting GPUs may stay Pending (node scale-up, quota) before alerting."""


class ClusterAlertsConfig(ConfigModel):
    node_not_ready: NodeNotReadyConfig = Field(default_factory=NodeNotReadyConfig)
    pod_crash_looping: CrashLoopConfig = Field(default_factory=CrashLoopConfig)
    volume_nearly_full: VolumeFullConfig = Field(default_factory=VolumeFullConfig)
    gpu_pods_pending: GpuPendingConfig = Field(default_factory=GpuPendingConfig)


# --- GPU ---------------------------------------------------------------------------------------
class GpuIdleConfig(AlertConfig):
    utilisation_percent: float = Field(default=10, ge=0, le=100)
    """Average GPU utilisation of a scaled-up pool below which its GPUs count as idle."""
    for_minutes: int = Field(default=60, ge=0, le=MAX_FOR_MINUTES)


class GpuMemoryConfig(AlertConfig):
    used_percent: float = Field(default=95, ge=0, le=100)
    """Framebuffer memory used, in percent of the GPU's memory."""


class GpuXidConfig(AlertConfig):
    severity: Literal[0, 1, 2, 3, 4] = 1
    for_minutes: int = Field(default=0, ge=0, le=MAX_FOR_MINUTES)


class GpuPoolAtMaxConfig(AlertConfig):
    for_minutes: int = Field(default=30, ge=0, le=MAX_FOR_MINUTES)


class GpuAlertsConfig(ConfigModel):
    low_utilisation: GpuIdleConfig = Field(default_factory=GpuIdleConfig)
    memory_nearly_full: GpuMemoryConfig = Field(default_factory=GpuMemoryConfig)
    xid_errors: GpuXidConfig = Field(default_factory=GpuXidConfig)
    pool_at_max: GpuPoolAtMaxConfig = Field(default_factory=GpuPoolAtMaxConfig)


# --- ingestion ---------------------------------------------------------------------------------
class IngestionStalledConfig(AlertConfig):
    hours: float = Field(default=6, gt=0, le=MAX_STALE_HOURS)
    """Hours without a successful ingestion, while blobs are waiting, before alerting."""
    for_minutes: int = Field(default=0, ge=0, le=MAX_FOR_MINUTES)


class IngestionVolumeConfig(AlertConfig):
    min_per_hour: float = Field(default=0, ge=0)
    """Fewest documents per hour considered normal (0 turns the low bound off)."""
    max_per_hour: float = Field(default=100_000, gt=0)
    """Most documents per hour considered normal (a runaway producer, a replayed backlog)."""
    for_minutes: int = Field(default=60, ge=0, le=MAX_FOR_MINUTES)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_per_hour >= self.max_per_hour:
            raise rule_error(
                "minPerHour", self.min_per_hour, f"must be < maxPerHour ({self.max_per_hour})"
            )
        return self


class IngestionFailuresConfig(AlertConfig):
    failures: int = Field(default=0, ge=0)
    """Failures within ``windowMinutes`` that are tolerated; one more fires."""
    window_minutes: int = Field(default=60, ge=1, le=MAX_FOR_MINUTES)
    for_minutes: int = Field(default=0, ge=0, le=MAX_FOR_MINUTES)


class IngestionAlertsConfig(ConfigModel):
    stalled: IngestionStalledConfig = Field(default_factory=IngestionStalledConfig)
    volume: IngestionVolumeConfig = Field(default_factory=IngestionVolumeConfig)
    failures: IngestionFailuresConfig = Field(default_factory=IngestionFailuresConfig)


# --- model -------------------------------------------------------------------------------------
class QualityConfig(AlertConfig):
    min_score: float = Field(default=0.8, ge=0, le=1)
    """Lowest acceptable ``model_quality_score_ratio`` (0..1)."""
    for_minutes: int = Field(default=30, ge=0, le=MAX_FOR_MINUTES)


class DriftConfig(AlertConfig):
    max_share: float = Field(default=0.3, ge=0, le=1)
    """Highest acceptable share of drifted features (0..1)."""
    for_minutes: int = Field(default=60, ge=0, le=MAX_FOR_MINUTES)


class RetrainStaleConfig(AlertConfig):
    hours: float = Field(default=192, gt=0, le=MAX_STALE_HOURS)
    """Hours since the last successful retrain before the model counts as stale."""
    for_minutes: int = Field(default=0, ge=0, le=MAX_FOR_MINUTES)


class LatencyConfig(AlertConfig):
    p95_seconds: float = Field(default=0.5, gt=0, le=60)
    """95th-percentile serving latency above which the alert fires."""
    for_minutes: int = Field(default=10, ge=0, le=MAX_FOR_MINUTES)


class MlflowDownConfig(AlertConfig):
    severity: Literal[0, 1, 2, 3, 4] = 1


class ModelAlertsConfig(ConfigModel):
    quality: QualityConfig = Field(default_factory=QualityConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    retrain_stale: RetrainStaleConfig = Field(default_factory=RetrainStaleConfig)
    serving_latency: LatencyConfig = Field(default_factory=LatencyConfig)
    mlflow_down: MlflowDownConfig = Field(default_factory=MlflowDownConfig)


DEFAULT_RUNBOOK_BASE_URL = "https://github.com/example-org/aks-mlops/blob/main/docs/runbooks"


class AlertsConfig(ConfigModel):
    """Every alert of the stack, grouped as the rule groups are."""

    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    """Where ``docs/runbooks/`` of this repository is browsable (https); each alert links
    ``<runbookBaseUrl>/<AlertName>.md``."""
    cluster: ClusterAlertsConfig = Field(default_factory=ClusterAlertsConfig)
    gpu: GpuAlertsConfig = Field(default_factory=GpuAlertsConfig)
    ingestion: IngestionAlertsConfig = Field(default_factory=IngestionAlertsConfig)
    model: ModelAlertsConfig = Field(default_factory=ModelAlertsConfig)

    @field_validator("runbook_base_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://") or " " in value or value.endswith("/"):
            raise rule_error("", value, "must be an https URL without a trailing slash")
        return value
