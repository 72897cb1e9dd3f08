"""The recommended AKS recording rules: valid PromQL, Prometheus naming, the series AKS's
managed-Prometheus dashboards query."""

from __future__ import annotations

import re

import promql_parser
import pytest

from components.observability.recording_rules import recommended_recording_rule_groups
from components.observability.rule_groups import iso_minutes

# Built inside each test, not at import: `make mutation` imports test modules once before it
# switches a mutant on, so rules built at import would never see a mutant.
RULE_COUNT = 30


def _groups():  # type: ignore[no-untyped-def]
    return recommended_recording_rule_groups()


# A valid metric name with the recording-rule colons (level:metric:operations,
# https://prometheus.io/docs/practices/rules/; kube-prometheus adds more levels).
RECORD_NAME = re.compile(r"^[a-zA-Z_:]*:[a-zA-Z0-9_:]+$")


@pytest.mark.parametrize("index", range(RULE_COUNT))
def test_recording_rule_parses_as_promql(index: int) -> None:
    rule = [r for g in _groups() for r in g.rules][index]
    promql_parser.parse(rule.expression)
    assert rule.alert is None
    assert RECORD_NAME.match(rule.record or ""), rule.record


def test_recording_rule_count() -> None:
    assert sum(len(g.rules) for g in _groups()) == RULE_COUNT


def test_recording_rules_cover_the_node_and_kubernetes_groups() -> None:
    groups = _groups()
    names = {g.name for g in groups}
    assert names == {"node-recording-rules", "kubernetes-recording-rules"}
    assert all(g.cluster_scoped and g.interval_minutes == 1 for g in groups)
    node, kubernetes = (next(g for g in groups if g.name == n) for n in sorted(names, reverse=True))
    # Counts of the groups AKS creates with managed Prometheus (Azure/prometheus-collector).
    assert len(node.rules) == 11
    assert len(kubernetes.rules) == 19
    workload_types = sorted(
        r.labels["workload_type"]
        for r in kubernetes.rules
        if r.record == "namespace_workload_pod:kube_pod_owner:relabel"
    )
    assert workload_types == ["daemonset", "deployment", "job", "statefulset"]


def test_a_broken_expression_is_rejected_by_the_parser() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        promql_parser.parse("sum(rate(node_cpu_seconds_total[5m])")


def test_iso_minutes() -> None:
    assert iso_minutes(1) == "PT1M"
    assert iso_minutes(30) == "PT30M"
    with pytest.raises(ValueError, match="must be >= 0"):
        iso_minutes(-1)
