"""The ``/metrics`` endpoint of a workload, with the contract's series.

Long-running workloads (monitor, serve) serve it for the whole process lifetime; jobs (ingest,
retrain) serve it while they run, which is what a PodMonitor scrape can see of a job. Series
are built from :mod:`contract.metrics` (names, labels, buckets typed once), in a registry of
the workload's own so tests can run several workloads in one process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from contract import workloads as env
from contract.metrics import MetricSpec
from contract.prometheus import Metric, build


@dataclass
class Exporter:
    """A registry holding some of the contract's series."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    series: dict[str, Metric] = field(default_factory=dict)

    def metric(self, spec: MetricSpec) -> Metric:
        """The collector of ``spec`` (built on first use)."""
        if spec.name not in self.series:
            self.series[spec.name] = build(spec, self.registry)
        return self.series[spec.name]

    def gauge(self, spec: MetricSpec) -> Gauge:
        """The collector of a gauge of the contract (typed for callers)."""
        metric = self.metric(spec)
        if not isinstance(metric, Gauge):
            raise TypeError(f"{spec.name} is a {spec.type}, not a gauge")
        return metric

    def counter(self, spec: MetricSpec) -> Counter:
        """The collector of a counter of the contract (typed for callers)."""
        metric = self.metric(spec)
        if not isinstance(metric, Counter):
            raise TypeError(f"{spec.name} is a {spec.type}, not a counter")
        return metric

    def serve(self, environ: Mapping[str, str] | None = None, *, addr: str = "0.0.0.0") -> int:
        """Start the HTTP endpoint on :data:`contract.workloads.METRICS_PORT`; the port."""
        environ = os.environ if environ is None else environ
        port = int(environ.get(env.METRICS_PORT, env.DEFAULT_METRICS_PORT))
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return int(server.server_port)
