"""Synthetic series for ``promtool test rules``: per alert, input that must fire it and input
that must not, computed from one stack's thresholds (so each stack's own rules are tested).

A case is plain data turned into one entry of a promtool test file (``input_series``,
``alert_rule_test`` with ``exp_alerts``); an empty ``expected`` means the alert must stay quiet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.config import PlatformConfig

NODE = "aks-gpua-12345678-vmss000000"
LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")
# Latency buckets of the contract, written out (the test's own copy), plus +Inf.
LATENCY_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10")


@dataclass(frozen=True)
class Case:
    """One promtool test: series, when to look, which alerts must be firing then."""

    name: str
    alert: str
    series: list[tuple[str, str]]
    eval_minutes: int
    expected: list[dict[str, str]] = field(default_factory=list)
    interval_minutes: int = 1


def _sel(metric: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric}{{{inner}}}"


def _fmt(value: float) -> str:
    return repr(float(value))


def _steady(value: float, samples: int) -> str:
    return f"{_fmt(value)}x{samples}"


def _growing(step: float, samples: int) -> str:
    return f"0+{_fmt(step)}x{samples}"


def _horizon(cfg_for: int, setup: int = 0) -> tuple[int, int]:
    """(eval minute, number of samples) so the condition has held past ``for``."""
    at = setup + cfg_for + 3
    return at, at + 5


def cluster_cases(cfg: PlatformConfig) -> list[Case]:
    c = cfg.alerts.cluster
    out: list[Case] = []
    at, n = _horizon(c.node_not_ready.for_minutes)
    ready = {"node": NODE, "condition": "Ready", "status": "true"}
    out += [
        Case(
            "node not ready",
            "NodeNotReady",
            [(_sel("kube_node_status_condition", ready), _steady(0, n))],
            at,
            [ready],
        ),
        Case(
            "node ready",
            "NodeNotReady",
            [(_sel("kube_node_status_condition", ready), _steady(1, n))],
            at,
        ),
    ]
    crash = c.pod_crash_looping
    at, n = _horizon(crash.for_minutes, crash.window_minutes)
    pod = {"namespace": "training", "pod": "train-0", "container": "main"}
    step = max(1, math.ceil(2 * (crash.restarts + 1) / crash.window_minutes))
    restarts = _sel("kube_pod_container_status_restarts_total", pod)
    out += [
        Case("restarting", "PodCrashLooping", [(restarts, _growing(step, n))], at, [pod]),
        Case("not restarting", "PodCrashLooping", [(restarts, _steady(4, n))], at),
    ]
    vol = c.volume_nearly_full
    at, n = _horizon(vol.for_minutes)
    claim = {"namespace": "qdrant", "persistentvolumeclaim": "data-qdrant-0"}
    full = 1000 * (100 - (vol.used_percent + (100 - vol.used_percent) / 2)) / 100

    def volume(available: float) -> list[tuple[str, str]]:
        return [
            (_sel("kubelet_volume_stats_capacity_bytes", claim), _steady(1000, n)),
            (_sel("kubelet_volume_stats_available_bytes", claim), _steady(available, n)),
        ]

    out += [
        Case("volume nearly full", "PersistentVolumeNearlyFull", volume(full), at, [claim]),
        Case("volume with room", "PersistentVolumeNearlyFull", volume(900), at),
    ]
    at, n = _horizon(c.gpu_pods_pending.for_minutes)
    gpu_pod = {"namespace": "training", "pod": "train-gpu-0"}
    request = _sel(
        "kube_pod_container_resource_requests",
        {**gpu_pod, "container": "main", "resource": "nvidia_com_gpu", "unit": "integer"},
    )
    pending = _sel("kube_pod_status_phase", {**gpu_pod, "phase": "Pending"})
    out += [
        Case(
            "gpu pod pending",
            "GpuPodsPending",
            [(request, _steady(1, n)), (pending, _steady(1, n))],
            at,
            [gpu_pod],
        ),
        Case(
            "gpu pod running",
            "GpuPodsPending",
            [(request, _steady(1, n)), (pending, _steady(0, n))],
            at,
        ),
    ]
    return out


def gpu_cases(cfg: PlatformConfig) -> list[Case]:
    g = cfg.alerts.gpu
    out: list[Case] = []
    pool = cfg.gpu_pools[0]
    node = f"aks-{pool.name}-12345678-vmss000000"
    device = {
        "gpu": "0",
        "UUID": "GPU-0001",
        "modelName": "NVIDIA A100",
        "node": node,
        "pool": pool.name,
    }
    at, n = _horizon(g.low_utilisation.for_minutes, setup=2)
    low = g.low_utilisation.utilisation_percent

    def util(value: float) -> list[tuple[str, str]]:
        return [
            (_sel("DCGM_FI_DEV_GPU_UTIL", device), _steady(value, n)),
            (_sel("kube_node_info", {"node": node}), _steady(1, n)),
        ]

    out += [
        Case("idle pool", "GpuIdleWhileScaledUp", util(low / 2), at, [{"pool": pool.name}]),
        Case("busy pool", "GpuIdleWhileScaledUp", util(low + (100 - low) / 2), at),
    ]
    at, n = _horizon(g.memory_nearly_full.for_minutes, setup=1)
    used = g.memory_nearly_full.used_percent + (100 - g.memory_nearly_full.used_percent) / 2

    def memory(used_mib: float) -> list[tuple[str, str]]:
        return [
            (_sel("DCGM_FI_DEV_FB_USED", device), _steady(used_mib, n)),
            (_sel("DCGM_FI_DEV_FB_FREE", device), _steady(1000 - used_mib, n)),
        ]

    out += [
        Case("memory nearly full", "GpuMemoryNearlyFull", memory(used * 10), at, [device]),
        Case("memory free", "GpuMemoryNearlyFull", memory(100), at),
    ]
    at, n = _horizon(g.xid_errors.for_minutes)
    xid = _sel("DCGM_FI_DEV_XID_ERRORS", device)
    out += [
        Case("xid 79", "GpuXidErrors", [(xid, _steady(79, n))], at, [device]),
        Case("no xid", "GpuXidErrors", [(xid, _steady(0, n))], at),
    ]
    at, n = _horizon(g.pool_at_max.for_minutes, setup=2)

    def nodes(count: int) -> list[tuple[str, str]]:
        return [
            (
                _sel("kube_node_info", {"node": f"aks-{pool.name}-12345678-vmss{i:06d}"}),
                _steady(1, n),
            )
            for i in range(count)
        ]

    out += [
        Case("pool at max", "GpuPoolAtMaxNodes", nodes(pool.max_count), at, [{"pool": pool.name}]),
        Case("pool below max", "GpuPoolAtMaxNodes", nodes(pool.max_count - 1), at),
    ]
    return out


def ingestion_cases(cfg: PlatformConfig) -> list[Case]:
    i = cfg.alerts.ingestion
    out: list[Case] = []
    prefix = {"prefix": "documents"}
    # promtool's clock starts at 0: a last success stamped `hours` (+10 min) before 0 is stale
    # as soon as the rules run, without simulating hours of samples.
    at, n = _horizon(i.stalled.for_minutes, setup=1)
    stale = -(i.stalled.hours * 3600 + 600)
    last = _sel("ingest_last_success_timestamp_seconds", prefix)
    waiting = _sel("ingest_waiting_blobs", prefix)
    out += [
        Case(
            "stalled with blobs waiting",
            "IngestionStalled",
            [(last, _steady(stale, n)), (waiting, _steady(12, n))],
            at,
            [prefix],
        ),
        Case(
            "recent success",
            "IngestionStalled",
            [(last, _steady(0, n)), (waiting, _steady(12, n))],
            at,
        ),
        Case(
            "nothing waiting",
            "IngestionStalled",
            [(last, _steady(stale, n)), (waiting, _steady(0, n))],
            at,
        ),
    ]
    v = i.volume
    at, n = _horizon(v.for_minutes, setup=62)
    docs = _sel("ingest_documents_total", prefix)
    out += [
        Case(
            "volume above max",
            "IngestionVolumeOutOfBounds",
            [(docs, _growing(2 * v.max_per_hour / 60, n))],
            at,
            [prefix],
        ),
        Case(
            "volume within bounds",
            "IngestionVolumeOutOfBounds",
            [(docs, _growing((v.min_per_hour + v.max_per_hour) / 120, n))],
            at,
        ),
    ]
    if v.min_per_hour > 0:
        out.append(
            Case(
                "volume below min",
                "IngestionVolumeOutOfBounds",
                [(docs, _growing(v.min_per_hour / 120, n))],
                at,
                [prefix],
            )
        )
    f = i.failures
    at, n = _horizon(f.for_minutes, setup=f.window_minutes)
    step = max(1, math.ceil(2 * (f.failures + 1) / f.window_minutes))
    failures = _sel("ingest_failures_total", {**prefix, "stage": "embed"})
    out += [
        Case("failing", "IngestionFailures", [(failures, _growing(step, n))], at, [prefix]),
        Case("not failing", "IngestionFailures", [(failures, _steady(2, n))], at),
    ]
    return out


def model_cases(cfg: PlatformConfig) -> list[Case]:
    md = cfg.alerts.model
    out: list[Case] = []
    champion = {"model": "churn", "alias": "champion"}
    at, n = _horizon(md.quality.for_minutes)
    quality = _sel("model_quality_score_ratio", champion)
    out += [
        Case(
            "quality low",
            "ModelQualityLow",
            [(quality, _steady(md.quality.min_score / 2, n))],
            at,
            [champion],
        ),
        Case(
            "quality fine",
            "ModelQualityLow",
            [(quality, _steady((md.quality.min_score + 1) / 2, n))],
            at,
        ),
    ]
    at, n = _horizon(md.drift.for_minutes)
    drift = _sel("data_drift_share_ratio", {"model": "churn"})
    out += [
        Case(
            "drifted",
            "DataDriftHigh",
            [(drift, _steady((md.drift.max_share + 1) / 2, n))],
            at,
            [{"model": "churn"}],
        ),
        Case("not drifted", "DataDriftHigh", [(drift, _steady(md.drift.max_share / 2, n))], at),
    ]
    at, n = _horizon(md.retrain_stale.for_minutes, setup=1)
    stale = -(md.retrain_stale.hours * 3600 + 600)
    retrained = _sel("retrain_last_success_timestamp_seconds", {"model": "churn"})
    out += [
        Case(
            "not retrained for too long",
            "RetrainStale",
            [(retrained, _steady(stale, n))],
            at,
            [{"model": "churn"}],
        ),
        Case("retrained recently", "RetrainStale", [(retrained, _steady(0, n))], at),
    ]
    at, n = _horizon(md.serving_latency.for_minutes, setup=6)
    version = {"model": "churn", "version": "7"}
    threshold = md.serving_latency.p95_seconds
    slow_from = next(
        i
        for i, b in enumerate(LATENCY_BUCKETS)
        if i > 0 and float(LATENCY_BUCKETS[i - 1]) >= threshold
    )

    def latency(first_filled: int) -> list[tuple[str, str]]:
        return [
            (
                _sel("serving_request_duration_seconds_bucket", {**version, "le": le}),
                _growing(10 if i >= first_filled else 0, n),
            )
            for i, le in enumerate((*LATENCY_BUCKETS, "+Inf"))
        ]

    out += [
        Case("slow", "ServingLatencyHigh", latency(slow_from), at, [version]),
        Case("fast", "ServingLatencyHigh", latency(0), at),
    ]
    at, n = _horizon(md.mlflow_down.for_minutes)
    deployment = {"namespace": cfg.mlflow.namespace, "deployment": "mlflow"}
    available = _sel("kube_deployment_status_replicas_available", deployment)
    out += [
        Case("no replica", "MlflowDown", [(available, _steady(0, n))], at, [deployment]),
        Case(
            "series gone",
            "MlflowDown",
            [(_sel("up", {"job": "kube-state-metrics"}), _steady(1, n))],
            at,
            [deployment],
        ),
        Case("replicas up", "MlflowDown", [(available, _steady(2, n))], at),
    ]
    return out


CASES: tuple[Callable[[PlatformConfig], list[Case]], ...] = (
    cluster_cases,
    gpu_cases,
    ingestion_cases,
    model_cases,
)


def all_cases(cfg: PlatformConfig) -> list[Case]:
    """Every case for a stack's config."""
    return [case for build in CASES for case in build(cfg)]


def promtool_tests(
    cases: list[Case], annotations: Mapping[str, Mapping[str, str]], rules_file: str
) -> dict[str, Any]:
    """A promtool test file; ``annotations`` are each alert's templates (by alert name)."""
    tests = []
    for case in cases:
        expected = [
            {
                "exp_labels": labels,
                "exp_annotations": {
                    key: LABEL_TEMPLATE.sub(lambda m, lb=labels: lb[m.group(1)], text)
                    for key, text in annotations[case.alert].items()
                },
            }
            for labels in case.expected
        ]
        tests.append(
            {
                "name": f"{case.alert}: {case.name}",
                "interval": f"{case.interval_minutes}m",
                "input_series": [{"series": s, "values": v} for s, v in case.series],
                "alert_rule_test": [
                    {
                        "eval_time": f"{case.eval_minutes}m",
                        "alertname": case.alert,
                        "exp_alerts": expected,
                    }
                ],
            }
        )
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}
