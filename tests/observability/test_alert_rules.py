"""Alert rule content and dashboards: every expression parses (promql-parser), reads only series
that exist (metrics contract, documented exporters, the groups' own records), every alert is
annotated and has a runbook, and the thresholds come from the stack's config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components.observability.alerts import alert_rule_groups, prometheus_rules_document
from components.observability.dashboards import load_dashboards
from components.observability.specs import RuleGroupSpec, RuleSpec
from contract.metrics import series_names
from infra.config import PlatformConfig, parse_config
from tests.conftest import STACKS, stack_values
from tests.observability.exporters import EXPORTER_SERIES
from tests.observability.promql import (
    DASHBOARDS,
    dashboards,
    panel_queries,
    parse,
    variable_metrics,
)
from tests.observability.promql import (
    series_names as used_series,
)

RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
ALERT_NAME = re.compile(r"^[A-Z][A-Za-z0-9]+$")
RECORD_NAME = re.compile(r"^[a-z_]+:[A-Za-z0-9_]+:[a-z0-9_]+$")
# Azure accepts rule groups of at most 20 rules
# (https://learn.microsoft.com/azure/azure-monitor/essentials/prometheus-rule-groups).
MAX_RULES_PER_GROUP = 20
EXPECTED_ALERTS = {
    "cluster": {"NodeNotReady", "PodCrashLooping", "PersistentVolumeNearlyFull", "GpuPodsPending"},
    "gpu": {"GpuIdleWhileScaledUp", "GpuMemoryNearlyFull", "GpuXidErrors", "GpuPoolAtMaxNodes"},
    "ingestion": {"IngestionStalled", "IngestionVolumeOutOfBounds", "IngestionFailures"},
    "model": {"ModelQualityLow", "DataDriftHigh", "RetrainStale", "ServingLatencyHigh",
              "MlflowDown"},
}  # fmt: skip


def _cfg(stack: str) -> PlatformConfig:
    return parse_config(stack_values(stack))


def _groups(cfg: PlatformConfig) -> list[RuleGroupSpec]:
    return alert_rule_groups(
        cfg.alerts,
        gpu_pool_max_counts={p.name: p.max_count for p in cfg.gpu_pools},
        mlflow_namespace=cfg.mlflow.namespace,
    )


def _rules(groups: list[RuleGroupSpec]) -> list[RuleSpec]:
    return [r for g in groups for r in g.rules]


def _records(groups: list[RuleGroupSpec]) -> set[str]:
    return {r.record for r in _rules(groups) if r.record}


def known_series(groups: list[RuleGroupSpec]) -> set[str]:
    return set(series_names()) | set(EXPORTER_SERIES) | _records(groups)


def unknown_series(expression: str, known: set[str]) -> set[str]:
    return used_series(expression) - known


@pytest.mark.parametrize("stack", STACKS)
def test_alert_groups_contain_every_alert_of_the_issue(stack: str) -> None:
    groups = _groups(_cfg(stack))

    assert {g.name: {r.alert for r in g.rules if r.alert} for g in groups} == EXPECTED_ALERTS
    for group in groups:
        assert len(group.rules) <= MAX_RULES_PER_GROUP
        assert 1 <= group.interval_minutes <= 15


@pytest.mark.parametrize("stack", STACKS)
def test_alert_every_expression_parses_and_reads_known_series(stack: str) -> None:
    groups = _groups(_cfg(stack))
    known = known_series(groups)

    for rule in _rules(groups):
        parse(rule.expression)
        assert used_series(rule.expression), rule.expression
        assert unknown_series(rule.expression, known) == set(), rule.alert or rule.record


@pytest.mark.parametrize("stack", STACKS)
def test_alert_every_alert_annotated_with_an_existing_runbook(stack: str) -> None:
    cfg = _cfg(stack)
    for rule in _rules(_groups(cfg)):
        if rule.record:
            assert RECORD_NAME.match(rule.record), rule.record
            continue
        assert rule.alert
        assert ALERT_NAME.match(rule.alert)
        assert set(rule.annotations) == {"summary", "description", "runbook_url"}
        assert rule.annotations["runbook_url"] == (f"{cfg.alerts.runbook_base_url}/{rule.alert}.md")
        runbook = RUNBOOKS / f"{rule.alert}.md"
        assert runbook.is_file(), f"missing runbook {runbook}"
        text = runbook.read_text()
        assert text.startswith(f"# {rule.alert}\n")
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation"):
            assert section in text, (rule.alert, section)
        assert "$value" not in "".join(rule.annotations.values())


def test_runbooks_exist_only_for_alerts() -> None:
    alerts = {a for names in EXPECTED_ALERTS.values() for a in names}

    assert {p.stem for p in RUNBOOKS.glob("*.md") if p.stem != "README"} == alerts


def test_alert_thresholds_severities_and_durations_follow_stack_config() -> None:
    by_stack = {s: {r.alert: r for r in _rules(_groups(_cfg(s))) if r.alert} for s in STACKS}

    assert "< 0.8" in by_stack["prod"]["ModelQualityLow"].expression
    assert "< 0.6" in by_stack["dev"]["ModelQualityLow"].expression
    assert by_stack["prod"]["MlflowDown"].severity == 0
    assert by_stack["dev"]["MlflowDown"].severity == 3
    assert by_stack["prod"]["NodeNotReady"].for_minutes == 5
    assert "> 0.5" in by_stack["prod"]["ServingLatencyHigh"].expression
    assert "> 21600" in by_stack["prod"]["IngestionStalled"].expression
    # Prod's pools: gpua100 0..4 and gpumig 0..2 (Pulumi.prod.yaml).
    at_max = by_stack["prod"]["GpuPoolAtMaxNodes"].expression
    assert 'pool="gpua100"} >= 4' in at_max
    assert 'pool="gpumig"} >= 2' in at_max
    assert 'pool="gput4"} >= 2' in by_stack["dev"]["GpuPoolAtMaxNodes"].expression


def test_alert_disabled_alert_is_left_out() -> None:
    cfg = _cfg("dev")
    drift = cfg.alerts.model.drift.model_copy(update={"enabled": False})
    model = cfg.alerts.model.model_copy(update={"drift": drift})
    groups = alert_rule_groups(
        cfg.alerts.model_copy(update={"model": model}),
        gpu_pool_max_counts={},
        mlflow_namespace="mlflow",
    )
    alerts = {r.alert for r in _rules(groups) if r.alert}

    assert "DataDriftHigh" not in alerts
    assert "GpuPoolAtMaxNodes" not in alerts  # no GPU pool, nothing to reach its maximum
    assert "ModelQualityLow" in alerts


def test_rules_document_writes_for_and_annotations_only_on_alerts() -> None:
    document = prometheus_rules_document(_groups(_cfg("prod")))
    rules = [r for g in document["groups"] for r in g["rules"]]
    node = next(r for r in rules if r.get("alert") == "NodeNotReady")
    record = next(r for r in rules if "record" in r)

    assert node["for"] == "5m"
    assert set(node["annotations"]) == {"summary", "description", "runbook_url"}
    assert set(record) == {"record", "expr"}
    assert [g["interval"] for g in document["groups"]] == ["1m"] * 4


def test_known_series_check_rejects_misspelled_metric() -> None:
    groups = _groups(_cfg("prod"))
    known = known_series(groups)
    rule = next(r for r in _rules(groups) if r.alert == "ModelQualityLow")
    misspelled = rule.expression.replace("model_quality_score_ratio", "model_quality_scor_ratio")
    dcgm = "avg(DCGM_FI_DEV_GPU_UTILS)"

    assert unknown_series(rule.expression, known) == set()
    assert unknown_series(misspelled, known) == {"model_quality_scor_ratio"}
    assert unknown_series(dcgm, known) == {"DCGM_FI_DEV_GPU_UTILS"}


def test_promql_parser_rejects_broken_expression() -> None:
    with pytest.raises(ValueError, match="parenthesis"):
        parse("sum(rate(ingest_documents_total[5m])")


@pytest.mark.parametrize("name", ["gpu-fleet", "mlops-loop"])
def test_dashboard_queries_parse_and_read_known_series(name: str) -> None:
    board = dashboards()[name]
    known = known_series(_groups(_cfg("prod")))
    queries = panel_queries(board)

    assert len(queries) >= 8
    for title, expression in queries:
        parse(expression)
        assert unknown_series(expression, known) == set(), title
    for metric in variable_metrics(board):
        assert metric in known
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert board["uid"].startswith("aks-mlops-")


def test_dashboards_cover_the_issue_topics() -> None:
    boards = dashboards()
    gpu = " ".join(e for _, e in panel_queries(boards["gpu-fleet"]))
    loop = " ".join(e for _, e in panel_queries(boards["mlops-loop"]))

    for series in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE",
                   "DCGM_FI_DEV_XID_ERRORS", "pool:kube_node_info:count"):  # fmt: skip
        assert series in gpu
    for series in ("ingest_documents_total", "retrain_last_success_timestamp_seconds",
                   "model_quality_score_ratio", "data_drift_share_ratio",
                   "serving_request_duration_seconds_bucket"):  # fmt: skip
        assert series in loop
    assert set(boards) == {"gpu-fleet", "mlops-loop"}


def test_dashboards_load_for_grafana_with_unique_uids() -> None:
    models = load_dashboards(DASHBOARDS)

    assert set(models) == {"gpu-fleet", "mlops-loop"}
    uids = [json.loads(text)["uid"] for text in models.values()]
    assert len(set(uids)) == len(uids)
    assert load_dashboards(DASHBOARDS) == models
