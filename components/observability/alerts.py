"""Alert rule content: the stack's alerts config -> Prometheus rule groups (plain data).

Four groups, each a ``PrometheusRuleGroup`` once the monitoring component registers it:

- ``cluster``: node not ready, containers restarting in a loop, persistent volume nearly
  full, GPU pods pending (no GPU node came up: quota, capacity, spot), plus the pool node
  count record the GPU group uses;
- ``gpu`` (DCGM exporter): idle GPUs in a scaled-up pool, GPU memory nearly full, XID errors,
  a GPU pool at its configured maximum node count;
- ``ingestion`` (metrics contract): stalled while blobs wait, hourly volume outside bounds,
  failures;
- ``model`` (metrics contract, kube-state-metrics): quality below threshold, drift above
  threshold, retrain stale, serving p95 latency, MLflow without an available replica.

Series names come from :mod:`contract.metrics` (the platform's own jobs) or from the exporters
managed Prometheus scrapes by default (kube-state-metrics, kubelet) and the DCGM exporter this
project runs. DCGM series carry ``node`` and ``pool`` labels from the PodMonitor's relabelling
(:mod:`components.cluster.dcgm_exporter`); kube-state-metrics nodes get ``pool`` from the AKS
node name (``aks-<pool>-<id>-vmss<n>``) in the ``pool:kube_node_info:count`` record.

Annotations template only ``$labels`` (never ``$value``), so a rules file renders the same in
Azure (rule annotations "can be templated":
https://learn.microsoft.com/javascript/api/@azure/arm-prometheusrulegroups/prometheusrule) and
in ``promtool test rules``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from components.observability.specs import RuleGroupSpec, RuleSpec
from contract import metrics as m

if TYPE_CHECKING:
    from infra.config.alerts import AlertConfig, AlertsConfig

SECONDS_PER_HOUR = 3600
# AKS names nodes aks-<pool>-<vmss id>-vmss<instance>; pool names are 1-12 [a-z0-9].
AKS_NODE_POOL_REGEX = "aks-([a-z0-9]+)-.+"

POOL_NODE_COUNT = "pool:kube_node_info:count"
POOL_GPU_UTIL = "pool:DCGM_FI_DEV_GPU_UTIL:avg"
GPU_MEMORY_USED = "gpu:DCGM_FI_DEV_FB_USED:ratio"
INGESTED_PER_HOUR = "prefix:ingest_documents:increase1h"
SERVING_P95 = "model_version:serving_request_duration_seconds:p95_5m"


def _num(value: float) -> str:
    """A threshold as PromQL reads it (``3``, ``0.8``), never ``3.0`` or an exponent."""
    if float(value).is_integer():
        return str(int(value))
    return format(value, "f").rstrip("0")


def _alert(
    name: str,
    expression: str,
    cfg: AlertConfig,
    *,
    runbooks: str,
    summary: str,
    description: str,
) -> RuleSpec:
    return RuleSpec(
        alert=name,
        expression=expression,
        for_minutes=cfg.for_minutes,
        severity=cfg.severity,
        annotations={
            "summary": summary,
            "description": description,
            "runbook_url": f"{runbooks}/{name}.md",
        },
    )


def _enabled(*rules: tuple[AlertConfig, RuleSpec]) -> tuple[RuleSpec, ...]:
    return tuple(rule for cfg, rule in rules if cfg.enabled)


def _cluster(alerts: AlertsConfig) -> RuleGroupSpec:
    c, rb = alerts.cluster, alerts.runbook_base_url
    crash, volume = c.pod_crash_looping, c.volume_nearly_full
    records = (
        RuleSpec(
            record=POOL_NODE_COUNT,
            expression=(
                f'count by (pool) (label_replace(kube_node_info, "pool", "$1", "node", '
                f'"{AKS_NODE_POOL_REGEX}"))'
            ),
        ),
    )
    rules = _enabled(
        (
            c.node_not_ready,
            _alert(
                "NodeNotReady",
                'kube_node_status_condition{condition="Ready",status="true"} == 0',
                c.node_not_ready,
                runbooks=rb,
                summary="Node {{ $labels.node }} is not Ready",
                description="The kubelet of {{ $labels.node }} has not reported Ready; its pods "
                "are being evicted or cannot start.",
            ),
        ),
        (
            crash,
            _alert(
                "PodCrashLooping",
                f"increase(kube_pod_container_status_restarts_total[{crash.window_minutes}m])"
                f" > {_num(crash.restarts)}",
                crash,
                runbooks=rb,
                summary="Container {{ $labels.namespace }}/{{ $labels.pod }}/"
                "{{ $labels.container }} is restarting in a loop",
                description=f"More than {crash.restarts} restarts in {crash.window_minutes} "
                "minutes.",
            ),
        ),
        (
            volume,
            _alert(
                "PersistentVolumeNearlyFull",
                "100 * (1 - kubelet_volume_stats_available_bytes"
                f" / kubelet_volume_stats_capacity_bytes) > {_num(volume.used_percent)}",
                volume,
                runbooks=rb,
                summary="Volume claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}"
                " is nearly full",
                description=f"More than {_num(volume.used_percent)}% of the volume is used.",
            ),
        ),
        (
            c.gpu_pods_pending,
            _alert(
                "GpuPodsPending",
                "sum by (namespace, pod) "
                '(kube_pod_container_resource_requests{resource="nvidia_com_gpu"}) > 0'
                ' and on (namespace, pod) kube_pod_status_phase{phase="Pending"} == 1',
                c.gpu_pods_pending,
                runbooks=rb,
                summary="GPU pod {{ $labels.namespace }}/{{ $labels.pod }} is Pending",
                description=f"The pod has requested GPUs and waited more than "
                f"{c.gpu_pods_pending.for_minutes} minutes for a node: GPU quota, regional "
                "capacity, spot eviction or the pool's maximum.",
            ),
        ),
    )
    return RuleGroupSpec(
        name="cluster", description="Nodes, pods and volumes.", rules=records + rules
    )


def _gpu(alerts: AlertsConfig, gpu_pool_max_counts: Mapping[str, int]) -> RuleGroupSpec:
    g, rb = alerts.gpu, alerts.runbook_base_url
    records = (
        RuleSpec(record=POOL_GPU_UTIL, expression="avg by (pool) (DCGM_FI_DEV_GPU_UTIL)"),
        RuleSpec(
            record=GPU_MEMORY_USED,
            expression="DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)",
        ),
    )
    candidates = [
        (
            g.low_utilisation,
            _alert(
                "GpuIdleWhileScaledUp",
                f"{POOL_GPU_UTIL} < {_num(g.low_utilisation.utilisation_percent)}"
                f" and on (pool) {POOL_NODE_COUNT} > 0",
                g.low_utilisation,
                runbooks=rb,
                summary="GPU pool {{ $labels.pool }} is scaled up but idle",
                description=f"Average GPU utilisation stayed below "
                f"{_num(g.low_utilisation.utilisation_percent)}% for "
                f"{g.low_utilisation.for_minutes} minutes while nodes are running: paid, "
                "unused GPUs.",
            ),
        ),
        (
            g.memory_nearly_full,
            _alert(
                "GpuMemoryNearlyFull",
                f"100 * {GPU_MEMORY_USED} > {_num(g.memory_nearly_full.used_percent)}",
                g.memory_nearly_full,
                runbooks=rb,
                summary="GPU {{ $labels.gpu }} on {{ $labels.node }} is nearly out of memory",
                description=f"More than {_num(g.memory_nearly_full.used_percent)}% of the "
                "GPU's framebuffer memory is used; the next allocation may fail.",
            ),
        ),
        (
            g.xid_errors,
            _alert(
                "GpuXidErrors",
                "DCGM_FI_DEV_XID_ERRORS > 0",
                g.xid_errors,
                runbooks=rb,
                summary="GPU {{ $labels.gpu }} on {{ $labels.node }} reported an XID error",
                description="The NVIDIA driver reported an XID error (a GPU, driver or "
                "application fault); the series value is the last XID code.",
            ),
        ),
    ]
    if gpu_pool_max_counts:
        at_max = " or ".join(
            f'{POOL_NODE_COUNT}{{pool="{pool}"}} >= {count}'
            for pool, count in sorted(gpu_pool_max_counts.items())
        )
        candidates.append(
            (
                g.pool_at_max,
                _alert(
                    "GpuPoolAtMaxNodes",
                    at_max,
                    g.pool_at_max,
                    runbooks=rb,
                    summary="GPU pool {{ $labels.pool }} runs at its maximum node count",
                    description="The autoscaler cannot add GPU nodes to this pool; pending GPU "
                    "pods wait until a node frees up.",
                ),
            )
        )
    return RuleGroupSpec(
        name="gpu",
        description="NVIDIA GPUs (DCGM exporter).",
        rules=records + _enabled(*candidates),
    )


def _ingestion(alerts: AlertsConfig) -> RuleGroupSpec:
    i, rb = alerts.ingestion, alerts.runbook_base_url
    stalled_seconds = _num(i.stalled.hours * SECONDS_PER_HOUR)
    records = (
        RuleSpec(
            record=INGESTED_PER_HOUR,
            expression=f"sum by (prefix) (increase({m.INGEST_DOCUMENTS.name}[1h]))",
        ),
    )
    rules = _enabled(
        (
            i.stalled,
            _alert(
                "IngestionStalled",
                f"time() - max by (prefix) ({m.INGEST_LAST_SUCCESS.name}) > {stalled_seconds}"
                f" and on (prefix) sum by (prefix) ({m.INGEST_WAITING_BLOBS.name}) > 0",
                i.stalled,
                runbooks=rb,
                summary="Ingestion of {{ $labels.prefix }}/ is stalled",
                description=f"No successful ingestion for more than {_num(i.stalled.hours)} "
                "hours while blobs are waiting under the prefix.",
            ),
        ),
        (
            i.volume,
            _alert(
                "IngestionVolumeOutOfBounds",
                f"{INGESTED_PER_HOUR} < {_num(i.volume.min_per_hour)}"
                f" or {INGESTED_PER_HOUR} > {_num(i.volume.max_per_hour)}",
                i.volume,
                runbooks=rb,
                summary="Hourly ingestion volume of {{ $labels.prefix }}/ is out of bounds",
                description=f"Documents ingested per hour left {_num(i.volume.min_per_hour)}.."
                f"{_num(i.volume.max_per_hour)} for {i.volume.for_minutes} minutes.",
            ),
        ),
        (
            i.failures,
            _alert(
                "IngestionFailures",
                f"sum by (prefix) (increase({m.INGEST_FAILURES.name}"
                f"[{i.failures.window_minutes}m])) > {_num(i.failures.failures)}",
                i.failures,
                runbooks=rb,
                summary="Ingestion of {{ $labels.prefix }}/ is failing",
                description=f"More than {i.failures.failures} documents failed to ingest in "
                f"{i.failures.window_minutes} minutes.",
            ),
        ),
    )
    return RuleGroupSpec(
        name="ingestion", description="Ingestion of the data lake.", rules=records + rules
    )


def _model(alerts: AlertsConfig, mlflow_namespace: str, mlflow_deployment: str) -> RuleGroupSpec:
    md, rb = alerts.model, alerts.runbook_base_url
    mlflow = (
        f'kube_deployment_status_replicas_available{{namespace="{mlflow_namespace}",'
        f'deployment="{mlflow_deployment}"}}'
    )
    records = (
        RuleSpec(
            record=SERVING_P95,
            expression="histogram_quantile(0.95, sum by (model, version, le) "
            f"(rate({m.SERVING_LATENCY.name}_bucket[5m])))",
        ),
    )
    rules = _enabled(
        (
            md.quality,
            _alert(
                "ModelQualityLow",
                f"min by (model, alias) ({m.MODEL_QUALITY.name}) < {_num(md.quality.min_score)}",
                md.quality,
                runbooks=rb,
                summary="Model {{ $labels.model }}@{{ $labels.alias }} scores below target",
                description=f"Quality on held-out data is below {_num(md.quality.min_score)}.",
            ),
        ),
        (
            md.drift,
            _alert(
                "DataDriftHigh",
                f"max by (model) ({m.DATA_DRIFT_SHARE.name}) > {_num(md.drift.max_share)}",
                md.drift,
                runbooks=rb,
                summary="Input data of {{ $labels.model }} drifted",
                description=f"More than {_num(md.drift.max_share)} of the model's features "
                "drifted from the training data.",
            ),
        ),
        (
            md.retrain_stale,
            _alert(
                "RetrainStale",
                f"time() - max by (model) ({m.RETRAIN_LAST_SUCCESS.name})"
                f" > {_num(md.retrain_stale.hours * SECONDS_PER_HOUR)}",
                md.retrain_stale,
                runbooks=rb,
                summary="Model {{ $labels.model }} has not been retrained",
                description=f"No successful retrain for more than {_num(md.retrain_stale.hours)}"
                " hours.",
            ),
        ),
        (
            md.serving_latency,
            _alert(
                "ServingLatencyHigh",
                f"{SERVING_P95} > {_num(md.serving_latency.p95_seconds)}",
                md.serving_latency,
                runbooks=rb,
                summary="Serving {{ $labels.model }} v{{ $labels.version }} is slow",
                description=f"95th-percentile latency is above "
                f"{_num(md.serving_latency.p95_seconds)} s.",
            ),
        ),
        (
            md.mlflow_down,
            _alert(
                "MlflowDown",
                f"max by (namespace, deployment) ({mlflow}) < 1 or absent({mlflow})",
                md.mlflow_down,
                runbooks=rb,
                summary="MLflow has no available replica",
                description="The MLflow tracking server and model registry are unreachable: "
                "training runs cannot log and serving cannot resolve model aliases.",
            ),
        ),
    )
    return RuleGroupSpec(
        name="model",
        description="Model quality, retraining, serving, MLflow.",
        rules=records + rules,
    )


def alert_rule_groups(
    alerts: AlertsConfig,
    *,
    gpu_pool_max_counts: Mapping[str, int],
    mlflow_namespace: str,
    mlflow_deployment: str = "mlflow",
) -> list[RuleGroupSpec]:
    """The stack's rule groups: cluster, gpu, ingestion, model.

    ``gpu_pool_max_counts`` maps each GPU pool's name to its autoscaler maximum
    (``{p.name: p.max_count for p in cfg.gpu_pools}``).
    """
    return [
        _cluster(alerts),
        _gpu(alerts, gpu_pool_max_counts),
        _ingestion(alerts),
        _model(alerts, mlflow_namespace, mlflow_deployment),
    ]


def prometheus_rules_document(groups: list[RuleGroupSpec]) -> dict[str, Any]:
    """The groups as a Prometheus rules file (what ``promtool`` reads)."""
    out: list[dict[str, Any]] = []
    for group in groups:
        rules: list[dict[str, Any]] = []
        for rule in group.rules:
            item: dict[str, Any] = {"record": rule.record} if rule.record else {"alert": rule.alert}
            item["expr"] = rule.expression
            if rule.alert:
                if rule.for_minutes:
                    item["for"] = f"{rule.for_minutes}m"
                if rule.labels:
                    item["labels"] = dict(rule.labels)
                item["annotations"] = dict(rule.annotations)
            rules.append(item)
        out.append({"name": group.name, "interval": f"{group.interval_minutes}m", "rules": rules})
    return {"groups": out}
