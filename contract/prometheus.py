"""``prometheus_client`` metric objects built from the contract (install the ``metrics`` extra).

A workload writes::

    from contract import metrics
    from contract.prometheus import build

    documents = build(metrics.INGEST_DOCUMENTS)
    documents.labels(prefix="documents").inc()

so its exported names, types, labels and buckets are the contract's.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

from contract.metrics import METRICS, MetricSpec, MetricType

Metric = Counter | Gauge | Histogram


def build(spec: MetricSpec, registry: CollectorRegistry = REGISTRY) -> Metric:
    """The collector for ``spec``, registered in ``registry``."""
    labels = list(spec.labels)
    if spec.type is MetricType.COUNTER:
        # prometheus_client appends `_total` itself; pass the stem so the name is not doubled.
        return Counter(spec.name.removesuffix("_total"), spec.help, labels, registry=registry)
    if spec.type is MetricType.GAUGE:
        return Gauge(spec.name, spec.help, labels, registry=registry)
    return Histogram(spec.name, spec.help, labels, buckets=spec.buckets, registry=registry)


def build_all(registry: CollectorRegistry = REGISTRY) -> dict[str, Metric]:
    """Every contract series, by name, registered in ``registry``."""
    return {spec.name: build(spec, registry) for spec in METRICS}
