"""Every long-running container's probes, whole, in every shipped stack.

The numbers are the project's choices, written out: a startup budget long enough for the
slowest first start (MLflow's schema upgrade, a model download, Qdrant replaying its WAL:
5-10 minutes), readiness polled often enough that a rollout or a scale-out takes traffic
within seconds, liveness slow and tolerant enough that a busy process is not restarted.
"""

from __future__ import annotations

from typing import Any

import pytest

from offline.manifests import manifest
from offline.runner import OfflineRun
from tests.conftest import STACKS
from tests.k8s_semantics import pod_templates


def _http(path: str, port: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": 5,
    }


# (kind, object, container) -> {probe: spec}; a container not listed here has no probes.
PROBES: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {
    ("DaemonSet", "dcgm-exporter", "dcgm-exporter"): {
        "readinessProbe": _http("/health", "metrics", 15, 3),
        "livenessProbe": _http("/health", "metrics", 30, 5),
    },
    ("Deployment", "mlflow", "mlflow"): {
        "startupProbe": _http("/health", "http", 5, 60),
        "readinessProbe": _http("/health", "http", 10, 3),
        "livenessProbe": _http("/health", "http", 20, 3),
    },
    ("Deployment", "churn", "model-server"): {
        "startupProbe": _http("/live", "http", 10, 60),
        "readinessProbe": _http("/ready", "http", 5, 3),
        "livenessProbe": _http("/live", "http", 20, 3),
    },
    ("Deployment", "monitor", "monitor"): {
        "readinessProbe": _http("/metrics", "metrics", 30, 3),
        "livenessProbe": _http("/metrics", "metrics", 30, 3),
    },
    ("StatefulSet", "qdrant", "qdrant"): {
        "startupProbe": _http("/livez", "http", 10, 60),
        "readinessProbe": _http("/readyz", "http", 10, 3),
        "livenessProbe": _http("/livez", "http", 20, 3),
    },
}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}


@pytest.mark.parametrize("stack", STACKS)
def test_probes_of_every_long_running_container_whole(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    seen = set()
    for r in stack_runs[stack].resources:
        obj = manifest(r) if r.type.startswith("kubernetes:") and "kind" in r.inputs else None
        if obj is None or obj["kind"] not in LONG_RUNNING:
            continue
        for template in pod_templates(obj):
            for c in template["spec"]["containers"]:
                key = (obj["kind"], obj["metadata"]["name"], c["name"])
                probes = {
                    k: c[k] for k in ("startupProbe", "readinessProbe", "livenessProbe") if k in c
                }
                assert probes == PROBES.get(key, {}), f"{stack}: {key}"
                seen.add(key)
    # Every stack runs MLflow, the workflows' monitor and a served model.
    assert {k[1] for k in seen} >= {"mlflow", "monitor", "churn"}


def test_probes_table_entries_all_appear_in_some_stack(stack_runs: dict[str, OfflineRun]) -> None:
    seen = {
        (o["kind"], o["metadata"]["name"], c["name"])
        for run in stack_runs.values()
        for r in run.resources
        if r.type.startswith("kubernetes:") and "kind" in r.inputs
        for o in [manifest(r)]
        for t in pod_templates(o)
        for c in t["spec"]["containers"]
    }
    assert set(PROBES) <= seen, sorted(set(PROBES) - seen)
