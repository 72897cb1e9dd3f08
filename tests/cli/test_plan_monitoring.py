"""The offline plan lists each stack's alerts (threshold expression, for, severity), its
recording rules and its dashboards."""

from __future__ import annotations

import json

from rich.console import Console

from components.observability.rule_groups import PrometheusRuleGroups, PrometheusRuleGroupsArgs
from components.observability.specs import RuleGroupSpec, RuleSpec
from offline.cli import print_rules_and_dashboards
from offline.monitoring_summary import alert_rows, dashboard_titles, record_counts
from offline.runner import OfflineRun
from tests.components.helpers import RG, SUB

AMW_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Monitor/accounts/amw-unit"
GROUPS = [
    RuleGroupSpec(
        name="model",
        description="model alerts",
        rules=(
            RuleSpec(
                alert="ModelQualityLow",
                expression="min by (model) (model_quality_score)\n  < 0.8",
                for_minutes=30,
                severity=1,
            ),
            RuleSpec(record="model:quality:min", expression="min(model_quality_score)"),
        ),
    )
]


def _run(run_components) -> OfflineRun:
    def body() -> None:
        PrometheusRuleGroups(
            "rules",
            PrometheusRuleGroupsArgs(
                resource_group_name=RG,
                location="westeurope",
                groups=GROUPS,
                group_names={"model": "prg-unit-model"},
                workspace_resource_id=AMW_ID,
                cluster_resource_id="cluster-id",
                cluster_name="aks-unit",
                action_group_id="ag-id",
            ),
        )

    return run_components(body)


def test_plan_lists_alert_threshold_for_and_severity(run_components) -> None:
    run = _run(run_components)
    (row,) = alert_rows(run)
    assert (row.group, row.alert, row.for_, row.severity) == (
        "prg-unit-model",
        "ModelQualityLow",
        "PT30M",
        "1",
    )
    assert row.expression == "min by (model) (model_quality_score) < 0.8"
    assert record_counts(run) == {"prg-unit-model": 1}
    console = Console(record=True, width=200)
    print_rules_and_dashboards(run, console)
    text = console.export_text()
    assert "ModelQualityLow" in text
    assert "< 0.8" in text
    assert "PT30M" in text
    assert "recording rules: prg-unit-model: 1" in text
    assert "Grafana dashboards: none" in text


def test_plan_lists_dashboard_titles(run_components) -> None:
    run = _run(run_components)
    run.resources[0].type = "grafana:oss/dashboard:Dashboard"
    run.resources[0].inputs = {"configJson": json.dumps({"title": "GPU fleet", "panels": []})}
    assert dashboard_titles(run) == ["GPU fleet"]
