"""Alert rule content, read as a reviewer reads a Prometheus rules file.

The rules of :func:`components.observability.alerts.alert_rule_groups` for a configuration
with distinctive thresholds, written out by ``prometheus_rules_document`` and compared with
``alert_rules.expected.yaml``, reviewed line by line: whole PromQL expressions (series names of
kube-state-metrics, the kubelet, NVIDIA's DCGM exporter and the metrics contract), ``for``
durations, and the annotations the on-call reader gets. ``tests/observability`` proves with
promtool that these expressions fire on synthetic series; this table is the fast-suite check
(it runs per mutant in ``make mutation``).
Series references:
https://github.com/kubernetes/kube-state-metrics/tree/main/docs/metrics ,
https://docs.nvidia.com/datacenter/dcgm/latest/dcgm-api/dcgm-api-field-ids.html
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.observability.alerts import _num, alert_rule_groups, prometheus_rules_document
from components.observability.specs import RuleGroupSpec, RuleSpec
from infra.config.alerts import AlertsConfig

CONFIG: dict[str, Any] = {
    "runbook_base_url": "https://runbooks.example.com/aks",
    "cluster": {
        "pod_crash_looping": {"restarts": 4, "window_minutes": 20},
        "volume_nearly_full": {"used_percent": 87.5},
    },
    "gpu": {
        "low_utilisation": {"utilisation_percent": 12.5},
        "memory_nearly_full": {"used_percent": 92},
    },
    "ingestion": {
        "stalled": {"hours": 1.5},
        "volume": {"min_per_hour": 10, "max_per_hour": 2500},
        "failures": {"failures": 2, "window_minutes": 30},
    },
    "model": {
        "quality": {"min_score": 0.75},
        "drift": {"max_share": 0.25},
        "retrain_stale": {"hours": 48},
        "serving_latency": {"p95_seconds": 0.25},
    },
}

# Reviewed line by line against the series documentation; a change to it is a change of
# what pages the on-call, reviewed like one.
RULES_FILE = Path(__file__).with_name("alert_rules.expected.yaml")

# Azure severities (0 critical .. 4 verbose): a node down, an XID error and MLflow down page.
SEVERITIES = {
    "NodeNotReady": 1,
    "PodCrashLooping": 3,
    "PersistentVolumeNearlyFull": 3,
    "GpuPodsPending": 3,
    "GpuIdleWhileScaledUp": 3,
    "GpuMemoryNearlyFull": 3,
    "GpuXidErrors": 1,
    "GpuPoolAtMaxNodes": 3,
    "IngestionStalled": 3,
    "IngestionVolumeOutOfBounds": 3,
    "IngestionFailures": 3,
    "ModelQualityLow": 3,
    "DataDriftHigh": 3,
    "RetrainStale": 3,
    "ServingLatencyHigh": 3,
    "MlflowDown": 1,
}


def _groups(config: dict[str, Any], pools: dict[str, int] | None = None):  # type: ignore[no-untyped-def]
    return alert_rule_groups(
        AlertsConfig.model_validate(config),
        gpu_pool_max_counts={"gpua": 4, "gpub": 2} if pools is None else pools,
        mlflow_namespace="mlops",
    )


def test_rules_file_is_the_reviewed_one() -> None:
    assert prometheus_rules_document(_groups(CONFIG)) == yaml.safe_load(RULES_FILE.read_text())


def test_severities() -> None:
    got = {r.alert: r.severity for g in _groups(CONFIG) for r in g.rules if r.alert}
    assert got == SEVERITIES


def test_group_descriptions() -> None:
    assert [(g.name, g.description) for g in _groups(CONFIG)] == [
        ("cluster", "Nodes, pods and volumes."),
        ("gpu", "NVIDIA GPUs (DCGM exporter)."),
        ("ingestion", "Ingestion of the data lake."),
        ("model", "Model quality, retraining, serving, MLflow."),
    ]


def test_no_gpu_pool_no_pool_at_max_alert() -> None:
    gpu = _groups(CONFIG, pools={})[1]
    assert [r.alert or r.record for r in gpu.rules] == [
        "pool:DCGM_FI_DEV_GPU_UTIL:avg",
        "gpu:DCGM_FI_DEV_FB_USED:ratio",
        "GpuIdleWhileScaledUp",
        "GpuMemoryNearlyFull",
        "GpuXidErrors",
    ]


@pytest.mark.parametrize(
    ("group", "path", "alert"),
    [
        (0, ("cluster", "node_not_ready"), "NodeNotReady"),
        (0, ("cluster", "pod_crash_looping"), "PodCrashLooping"),
        (0, ("cluster", "volume_nearly_full"), "PersistentVolumeNearlyFull"),
        (0, ("cluster", "gpu_pods_pending"), "GpuPodsPending"),
        (1, ("gpu", "low_utilisation"), "GpuIdleWhileScaledUp"),
        (1, ("gpu", "memory_nearly_full"), "GpuMemoryNearlyFull"),
        (1, ("gpu", "xid_errors"), "GpuXidErrors"),
        (1, ("gpu", "pool_at_max"), "GpuPoolAtMaxNodes"),
        (2, ("ingestion", "stalled"), "IngestionStalled"),
        (2, ("ingestion", "volume"), "IngestionVolumeOutOfBounds"),
        (2, ("ingestion", "failures"), "IngestionFailures"),
        (3, ("model", "quality"), "ModelQualityLow"),
        (3, ("model", "drift"), "DataDriftHigh"),
        (3, ("model", "retrain_stale"), "RetrainStale"),
        (3, ("model", "serving_latency"), "ServingLatencyHigh"),
        (3, ("model", "mlflow_down"), "MlflowDown"),
    ],
)
def test_a_disabled_alert_is_dropped_and_only_it(
    group: int, path: tuple[str, str], alert: str
) -> None:
    config: dict[str, Any] = {"runbook_base_url": CONFIG["runbook_base_url"]}
    config[path[0]] = {path[1]: {"enabled": False}}
    enabled = {r.alert for g in _groups(CONFIG) for r in g.rules if r.alert}
    got = {r.alert for g in _groups(config) for r in g.rules if r.alert}
    assert got == enabled - {alert}
    # The group's recording rules stay: other groups and dashboards read them.
    assert any(r.record for r in _groups(config)[group].rules)


@pytest.mark.parametrize(
    ("value", "promql"),
    [
        (3, "3"),
        (3.0, "3"),
        (0.8, "0.8"),
        (87.5, "87.5"),
        (100000.0, "100000"),
        (0.00001, "0.00001"),
    ],
)
def test_thresholds_are_written_as_promql_reads_them(value: float, promql: str) -> None:
    assert _num(value) == promql


@pytest.mark.parametrize("kwargs", [{"alert": "A", "record": "a:b:c"}, {}], ids=["both", "neither"])
def test_a_rule_is_an_alert_or_a_record(kwargs: dict[str, str]) -> None:
    with pytest.raises(
        ValueError, match=r"^a rule is either an alert or a record, not both or neither$"
    ):
        RuleSpec(expression="up == 0", **kwargs)  # type: ignore[arg-type]
    assert RuleSpec(expression="up == 0", alert="Down").record is None
    assert RuleSpec(expression="up", record="job:up:sum").alert is None


def test_rules_file_carries_alert_labels() -> None:
    # Alerting rules take `labels` next to `annotations`; recording rules take neither `for`
    # nor annotations (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/).
    group = RuleGroupSpec(
        name="team",
        description="d",
        interval_minutes=5,
        rules=(
            RuleSpec(record="job:up:sum", expression="sum by (job) (up)"),
            RuleSpec(
                alert="Down",
                expression="up == 0",
                for_minutes=3,
                labels={"team": "ml"},
                annotations={"summary": "down"},
            ),
        ),
    )
    assert prometheus_rules_document([group]) == {
        "groups": [
            {
                "name": "team",
                "interval": "5m",
                "rules": [
                    {"record": "job:up:sum", "expr": "sum by (job) (up)"},
                    {
                        "alert": "Down",
                        "expr": "up == 0",
                        "for": "3m",
                        "labels": {"team": "ml"},
                        "annotations": {"summary": "down"},
                    },
                ],
            }
        ]
    }
