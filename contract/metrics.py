"""The metrics contract: every Prometheus series the platform's own jobs export.

The program (alert rules, dashboards) and the reference workloads (ingest, retrain, monitor,
serve) import the names from here, so a series name is typed exactly once. This module has no
dependencies; :mod:`contract.prometheus` builds ``prometheus_client`` objects from it (extra
``metrics``). ``docs/metrics.md`` lists the same series and a test keeps the two in step.

Naming follows https://prometheus.io/docs/practices/naming/: snake_case, base units (seconds,
ratio), the unit as the last word of the name (before ``_total`` on counters), ``_total`` on
counters only, no type in the name. Counts of things use the thing, plural, as their unit
(``ingest_documents_total``, ``ingest_waiting_blobs``).

Decision on ``model_quality_score`` (the name the observability issue uses): the value is a
score on held-out data scaled to 0..1, i.e. a ratio. Prometheus's base-unit table makes
``ratio`` the unit of such values and the naming guide asks for the unit as a suffix, so the
exported name is ``model_quality_score_ratio``; the issue's name stays its stem, so searching
for ``model_quality_score`` finds it. The same applies to ``data_drift_share_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MetricType(StrEnum):
    """Prometheus metric types used by the contract."""

    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """One exported series."""

    name: str
    """Exported name (counters include ``_total``)."""
    type: MetricType
    """Counter, gauge or histogram."""
    unit: str
    """Base unit (``seconds``, ``ratio``) or the counted thing, plural (``documents``)."""
    labels: tuple[str, ...]
    """Label names, in the order the exporter passes them."""
    help: str
    """One-line meaning, exported as ``# HELP``."""
    area: str
    """Which part of the loop exports it: ``ingestion``, ``model`` or ``serving``."""
    buckets: tuple[float, ...] = ()
    """Histogram bucket upper bounds (histograms only)."""


# Latency buckets of an online model server: 5 ms .. 10 s, dense where p95 targets sit.
LATENCY_BUCKETS_SECONDS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# --- ingestion ---------------------------------------------------------------------------------
INGEST_DOCUMENTS = MetricSpec(
    name="ingest_documents_total",
    type=MetricType.COUNTER,
    unit="documents",
    labels=("prefix",),
    help="Documents ingested successfully, by data-lake prefix (raw, documents).",
    area="ingestion",
)
INGEST_FAILURES = MetricSpec(
    name="ingest_failures_total",
    type=MetricType.COUNTER,
    unit="failures",
    labels=("prefix", "stage"),
    help="Documents that failed to ingest, by prefix and stage (read, validate, embed, write).",
    area="ingestion",
)
INGEST_LAST_SUCCESS = MetricSpec(
    name="ingest_last_success_timestamp_seconds",
    type=MetricType.GAUGE,
    unit="seconds",
    labels=("prefix",),
    help="Unix time of the last ingestion run that completed without failures.",
    area="ingestion",
)
INGEST_WAITING_BLOBS = MetricSpec(
    name="ingest_waiting_blobs",
    type=MetricType.GAUGE,
    unit="blobs",
    labels=("prefix",),
    help="Blobs waiting to be ingested under a data-lake prefix (raw/ or documents/).",
    area="ingestion",
)

# --- model -------------------------------------------------------------------------------------
MODEL_QUALITY = MetricSpec(
    name="model_quality_score_ratio",
    type=MetricType.GAUGE,
    unit="ratio",
    labels=("model", "alias"),
    help="Quality score (0..1) of the model version behind a registry alias on held-out data.",
    area="model",
)
DATA_DRIFT_SHARE = MetricSpec(
    name="data_drift_share_ratio",
    type=MetricType.GAUGE,
    unit="ratio",
    labels=("model",),
    help="Share (0..1) of the model's input features whose recent distribution drifted.",
    area="model",
)
RETRAIN_LAST_SUCCESS = MetricSpec(
    name="retrain_last_success_timestamp_seconds",
    type=MetricType.GAUGE,
    unit="seconds",
    labels=("model",),
    help="Unix time of the last retraining run that registered a model version.",
    area="model",
)
RETRAIN_FAILURES = MetricSpec(
    name="retrain_failures_total",
    type=MetricType.COUNTER,
    unit="failures",
    labels=("model", "stage"),
    help="Retraining runs that failed, by stage (validate, train, evaluate, register).",
    area="model",
)

# --- serving -----------------------------------------------------------------------------------
SERVING_REQUESTS = MetricSpec(
    name="serving_requests_total",
    type=MetricType.COUNTER,
    unit="requests",
    labels=("model", "version", "code"),
    help="Prediction requests answered, by model, model version and HTTP status code.",
    area="serving",
)
SERVING_LATENCY = MetricSpec(
    name="serving_request_duration_seconds",
    type=MetricType.HISTOGRAM,
    unit="seconds",
    labels=("model", "version"),
    help="Time from request received to response sent, by model and model version.",
    area="serving",
    buckets=LATENCY_BUCKETS_SECONDS,
)

METRICS: tuple[MetricSpec, ...] = (
    INGEST_DOCUMENTS,
    INGEST_FAILURES,
    INGEST_LAST_SUCCESS,
    INGEST_WAITING_BLOBS,
    MODEL_QUALITY,
    DATA_DRIFT_SHARE,
    RETRAIN_LAST_SUCCESS,
    RETRAIN_FAILURES,
    SERVING_REQUESTS,
    SERVING_LATENCY,
)
"""Every series of the contract."""

HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exported_series(spec: MetricSpec) -> tuple[str, ...]:
    """The names that appear in Prometheus for ``spec`` (a histogram exports three)."""
    if spec.type is MetricType.HISTOGRAM:
        return tuple(spec.name + suffix for suffix in HISTOGRAM_SUFFIXES)
    return (spec.name,)


def series_names() -> frozenset[str]:
    """Every series name a query may use."""
    return frozenset(name for spec in METRICS for name in exported_series(spec))


def markdown_table() -> str:
    """The contract as the Markdown table in ``docs/metrics.md``."""
    rows = [
        "| series | type | unit | labels | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in METRICS:
        labels = ", ".join(f"`{label}`" for label in spec.labels)
        rows.append(f"| `{spec.name}` | {spec.type} | {spec.unit} | {labels} | {spec.help} |")
    return "\n".join(rows)
