"""The metrics contract follows Prometheus naming conventions and matches docs/metrics.md.

Conventions: https://prometheus.io/docs/practices/naming/ and
https://prometheus.io/docs/concepts/data_model/ (name and label grammar, reserved ``__``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from contract import metrics
from contract.metrics import METRICS, MetricSpec, MetricType
from contract.prometheus import build, build_all

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Base units (Prometheus's table) and the counted things the contract allows.
BASE_UNITS = {"seconds", "bytes", "ratio", "celsius", "volts", "amperes", "joules", "grams"}
COUNTED = {"documents", "blobs", "requests", "failures"}
# Non-base units a name must never use.
NON_BASE = {
    "milliseconds",
    "microseconds",
    "nanoseconds",
    "minutes",
    "hours",
    "days",
    "percent",
    "kilobytes",
    "megabytes",
    "gigabytes",
    "bits",
}
TYPE_WORDS = {"counter", "gauge", "histogram", "summary", "metric"}
# Added by the scrape (job, instance) or by the histogram/summary itself (le, quantile).
RESERVED_LABELS = {"job", "instance", "le", "quantile"}


def naming_problems(spec: MetricSpec) -> list[str]:
    """Every convention ``spec`` breaks (empty when it is well named)."""
    problems: list[str] = []
    words = spec.name.split("_")
    if not SNAKE.match(spec.name):
        problems.append("not snake_case")
    if spec.type is MetricType.COUNTER and not spec.name.endswith("_total"):
        problems.append("counter without _total")
    if spec.type is not MetricType.COUNTER and spec.name.endswith("_total"):
        problems.append("_total on a non-counter")
    stem = spec.name.removesuffix("_total")
    if not stem.endswith("_" + spec.unit):
        problems.append(f"unit {spec.unit!r} is not the name's suffix")
    if spec.unit not in BASE_UNITS | COUNTED:
        problems.append(f"unit {spec.unit!r} is neither a base unit nor a counted thing")
    if NON_BASE & set(words):
        problems.append(f"non-base unit in the name: {sorted(NON_BASE & set(words))}")
    if TYPE_WORDS & set(words):
        problems.append(f"type in the name: {sorted(TYPE_WORDS & set(words))}")
    if spec.type is MetricType.HISTOGRAM:
        if spec.name.endswith(("_bucket", "_sum", "_count")):
            problems.append("histogram name ends in a series suffix")
        if not spec.buckets or list(spec.buckets) != sorted(set(spec.buckets)):
            problems.append("histogram buckets missing or not strictly increasing")
    elif spec.buckets:
        problems.append("buckets on a non-histogram")
    if "timestamp" in words and spec.name.endswith("_timestamp_seconds") is False:
        problems.append("timestamps are *_timestamp_seconds")
    for label in spec.labels:
        if not LABEL.match(label) or label.startswith("__"):
            problems.append(f"label {label!r} is not a valid, unreserved label name")
        if label in RESERVED_LABELS:
            problems.append(f"label {label!r} is added by the scrape or the histogram")
    if len(set(spec.labels)) != len(spec.labels):
        problems.append("repeated label")
    if not spec.help or "\n" in spec.help:
        problems.append("help must be one line")
    return problems


@pytest.mark.parametrize("spec", METRICS, ids=lambda s: s.name)
def test_contract_series_follow_prometheus_naming(spec: MetricSpec) -> None:
    assert naming_problems(spec) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (MetricSpec(name="ingest_documents", type=MetricType.COUNTER, unit="documents",
                    labels=(), help="h", area="a"), "counter without _total"),
        (MetricSpec(name="ingest_blobs_total", type=MetricType.GAUGE, unit="blobs",
                    labels=(), help="h", area="a"), "_total on a non-counter"),
        (MetricSpec(name="serving_latency_milliseconds", type=MetricType.HISTOGRAM,
                    unit="milliseconds", labels=(), help="h", area="a", buckets=(1.0,)),
         "non-base unit"),
        (MetricSpec(name="model_quality_score", type=MetricType.GAUGE, unit="ratio",
                    labels=(), help="h", area="a"), "is not the name's suffix"),
        (MetricSpec(name="ingestDocuments_total", type=MetricType.COUNTER, unit="documents",
                    labels=(), help="h", area="a"), "not snake_case"),
        (MetricSpec(name="retrain_gauge_seconds", type=MetricType.GAUGE, unit="seconds",
                    labels=(), help="h", area="a"), "type in the name"),
        (MetricSpec(name="serving_requests_total", type=MetricType.COUNTER, unit="requests",
                    labels=("instance",), help="h", area="a"), "added by the scrape"),
        (MetricSpec(name="serving_requests_total", type=MetricType.COUNTER, unit="requests",
                    labels=("__model",), help="h", area="a"), "not a valid, unreserved"),
    ],
    ids=["counter-no-total", "gauge-total", "milliseconds", "no-unit", "camel", "type-word",
         "instance-label", "reserved-label"],
)  # fmt: skip
def test_naming_check_rejects_series_when_convention_broken(
    spec: MetricSpec, expected: str
) -> None:
    assert any(expected in p for p in naming_problems(spec))


def test_contract_names_are_unique_and_cover_every_area() -> None:
    names = [s.name for s in METRICS]
    assert len(names) == len(set(names))
    assert {s.area for s in METRICS} == {"ingestion", "model", "serving"}
    # The series, by meaning (names decided in contract/metrics.py).
    assert metrics.MODEL_QUALITY.labels == ("model", "alias")
    assert metrics.INGEST_WAITING_BLOBS.labels == ("prefix",)
    assert metrics.SERVING_LATENCY.type is MetricType.HISTOGRAM
    assert {"model", "version"} <= set(metrics.SERVING_REQUESTS.labels)


def test_metrics_doc_lists_exactly_the_contract() -> None:
    text = DOC.read_text()
    begin, end = "<!-- contract:begin -->\n", "\n<!-- contract:end -->"
    assert begin in text
    assert end in text
    table = text.split(begin, 1)[1].split(end, 1)[0]
    assert table == metrics.markdown_table(), (
        "docs/metrics.md is out of date: paste the output of "
        "`python -c 'from contract.metrics import markdown_table; print(markdown_table())'`"
    )
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == {s.name for s in METRICS}


def test_prometheus_helpers_export_the_contract_names() -> None:
    registry = CollectorRegistry()
    built = build_all(registry)
    built[metrics.INGEST_DOCUMENTS.name].labels(prefix="documents").inc(3)  # type: ignore[union-attr]
    latency = built[metrics.SERVING_LATENCY.name]
    assert isinstance(latency, Histogram)
    latency.labels(model="churn", version="4").observe(0.2)
    assert isinstance(built[metrics.MODEL_QUALITY.name], Gauge)
    assert isinstance(built[metrics.RETRAIN_FAILURES.name], Counter)
    text = generate_latest(registry).decode()

    assert 'ingest_documents_total{prefix="documents"} 3.0' in text
    assert (
        'serving_request_duration_seconds_bucket{le="0.25",model="churn",version="4"} 1.0' in text
    )
    # The text format types a counter under its `_total` name; `_created` are client extras.
    exported = {
        line.split()[2]
        for line in text.splitlines()
        if line.startswith("# TYPE ") and not line.split()[2].endswith("_created")
    }
    assert exported == {s.name for s in METRICS}
    for spec in METRICS:
        assert f"# TYPE {spec.name} {spec.type}" in text


def test_prometheus_helpers_refuse_a_second_registration() -> None:
    registry = CollectorRegistry()
    build(metrics.MODEL_QUALITY, registry)

    with pytest.raises(ValueError, match="Duplicated"):
        build(metrics.MODEL_QUALITY, registry)
