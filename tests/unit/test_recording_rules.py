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


# The recorded series of the two groups AKS creates with managed Prometheus
# (Azure/prometheus-collector, AddonArmTemplate/FullAzureMonitorMetricsProfile.json), written
# out: Grafana's AKS dashboards query these names.
NODE_RECORDS = {
    "instance:node_num_cpu:sum",
    "instance:node_cpu_utilisation:rate5m",
    "instance:node_load1_per_cpu:ratio",
    "instance:node_memory_utilisation:ratio",
    "instance:node_vmstat_pgmajfault:rate5m",
    "instance_device:node_disk_io_time_seconds:rate5m",
    "instance_device:node_disk_io_time_weighted_seconds:rate5m",
    "instance:node_network_receive_bytes_excluding_lo:rate5m",
    "instance:node_network_transmit_bytes_excluding_lo:rate5m",
    "instance:node_network_receive_drop_excluding_lo:rate5m",
    "instance:node_network_transmit_drop_excluding_lo:rate5m",
}
KUBERNETES_RECORDS = {
    "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
    "node_namespace_pod_container:container_memory_working_set_bytes",
    "node_namespace_pod_container:container_memory_rss",
    "node_namespace_pod_container:container_memory_cache",
    "node_namespace_pod_container:container_memory_swap",
    "cluster:namespace:pod_memory:active:kube_pod_container_resource_requests",
    "namespace_memory:kube_pod_container_resource_requests:sum",
    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_requests",
    "namespace_cpu:kube_pod_container_resource_requests:sum",
    "cluster:namespace:pod_memory:active:kube_pod_container_resource_limits",
    "namespace_memory:kube_pod_container_resource_limits:sum",
    "cluster:namespace:pod_cpu:active:kube_pod_container_resource_limits",
    "namespace_cpu:kube_pod_container_resource_limits:sum",
    "namespace_workload_pod:kube_pod_owner:relabel",
    ":node_memory_MemAvailable_bytes:sum",
    "cluster:node_cpu:ratio_rate5m",
}


def test_recording_rules_record_the_series_aks_dashboards_query() -> None:
    groups = {g.name: {r.record for r in g.rules} for g in _groups()}

    assert groups == {
        "node-recording-rules": NODE_RECORDS,
        "kubernetes-recording-rules": KUBERNETES_RECORDS,
    }


def test_recording_rules_compute_what_their_names_say() -> None:
    # level:metric:operations: the metric named in the record is the one the expression reads.
    rules = {r.record: r.expression for g in _groups() for r in g.rules}
    per_container = re.compile(r"^node_namespace_pod_container:(container_memory_\w+)$")
    resources = re.compile(
        r"^(?:cluster:namespace:pod_|namespace_)(cpu|memory)"
        r"(?::active)?:kube_pod_container_resource_(requests|limits)(?::sum)?$"
    )
    checked = 0
    for record, expression in rules.items():
        if match := per_container.match(record or ""):
            assert expression.startswith(match[1] + "{"), record
            checked += 1
        elif match := resources.match(record or ""):
            resource, kind = match.groups()
            assert f'kube_pod_container_resource_{kind}{{resource="{resource}",' in expression
            checked += 1
    assert checked == 4 + 8


def test_recording_rules_network_rates_sum_over_devices_but_loopback() -> None:
    rules = {r.record: r.expression for g in _groups() for r in g.rules}
    for direction in ("receive", "transmit"):
        for what in ("bytes", "drop"):
            record = f"instance:node_network_{direction}_{what}_excluding_lo:rate5m"
            assert rules[record] == (
                "sum without (device) ("
                f'rate(node_network_{direction}_{what}_total{{job="node", device!="lo"}}[5m]))'
            )
