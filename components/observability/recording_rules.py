"""The recommended AKS recording rules (node and Kubernetes) as :class:`RuleGroupSpec`s.

AKS's managed-Prometheus dashboards (Azure Monitor's Grafana "Kubernetes / Compute
Resources" and node views) query these recorded series, so every stack registers them beside
its alerts. The series names and PromQL follow the groups Azure creates when managed
Prometheus is enabled from the portal or CLI (``NodeRecordingRulesRuleGroup`` and
``KubernetesRecordingRulesRuleGroup``), as published in Azure/prometheus-collector's
``AddonArmTemplate/FullAzureMonitorMetricsProfile.json``; see also
https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-default
and https://learn.microsoft.com/azure/azure-monitor/essentials/prometheus-rule-groups.
"""

from __future__ import annotations

from components.observability.specs import RuleGroupSpec, RuleSpec

_NODE = 'job="node"'
_KSM = 'job="kube-state-metrics"'
_CADVISOR = 'job="cadvisor", image!=""'
_ACTIVE_POD = (
    'max by (namespace, pod, cluster) (kube_pod_status_phase{phase=~"Pending|Running"} == 1)'
)


def _record(name: str, expression: str, **labels: str) -> RuleSpec:
    return RuleSpec(record=name, expression=expression, labels=labels)


def _node_rules() -> tuple[RuleSpec, ...]:
    return (
        _record(
            "instance:node_num_cpu:sum",
            f'count without (cpu, mode) (node_cpu_seconds_total{{{_NODE},mode="idle"}})',
        ),
        _record(
            "instance:node_cpu_utilisation:rate5m",
            "1 - avg without (cpu) (sum without (mode) ("
            f'rate(node_cpu_seconds_total{{{_NODE}, mode=~"idle|iowait|steal"}}[5m])))',
        ),
        _record(
            "instance:node_load1_per_cpu:ratio",
            f"(node_load1{{{_NODE}}} / instance:node_num_cpu:sum{{{_NODE}}})",
        ),
        _record(
            "instance:node_memory_utilisation:ratio",
            f"1 - ((node_memory_MemAvailable_bytes{{{_NODE}}} or "
            f"(node_memory_Buffers_bytes{{{_NODE}}} + node_memory_Cached_bytes{{{_NODE}}} + "
            f"node_memory_MemFree_bytes{{{_NODE}}} + node_memory_Slab_bytes{{{_NODE}}})) / "
            f"node_memory_MemTotal_bytes{{{_NODE}}})",
        ),
        _record(
            "instance:node_vmstat_pgmajfault:rate5m",
            f"rate(node_vmstat_pgmajfault{{{_NODE}}}[5m])",
        ),
        _record(
            "instance_device:node_disk_io_time_seconds:rate5m",
            f'rate(node_disk_io_time_seconds_total{{{_NODE}, device!=""}}[5m])',
        ),
        _record(
            "instance_device:node_disk_io_time_weighted_seconds:rate5m",
            f'rate(node_disk_io_time_weighted_seconds_total{{{_NODE}, device!=""}}[5m])',
        ),
        *(
            _record(
                f"instance:node_network_{direction}_{what}_excluding_lo:rate5m",
                "sum without (device) ("
                f'rate(node_network_{direction}_{what}_total{{{_NODE}, device!="lo"}}[5m]))',
            )
            for what in ("bytes", "drop")
            for direction in ("receive", "transmit")
        ),
    )


def _container_per_node(metric: str) -> RuleSpec:
    return _record(
        f"node_namespace_pod_container:{metric}",
        f"{metric}{{{_CADVISOR}}} * on (namespace, pod) group_left(node) "
        "topk by (namespace, pod) (1, max by (namespace, pod, node) "
        '(kube_pod_info{node!=""}))',
    )


def _requests_limits(kind: str, resource: str) -> tuple[RuleSpec, RuleSpec]:
    series = f'kube_pod_container_resource_{kind}{{resource="{resource}",{_KSM}}}'
    return (
        _record(
            f"cluster:namespace:pod_{resource}:active:kube_pod_container_resource_{kind}",
            f"{series} * on (namespace, pod, cluster) group_left() {_ACTIVE_POD}",
        ),
        _record(
            f"namespace_{resource}:kube_pod_container_resource_{kind}:sum",
            "sum by (namespace, cluster) (sum by (namespace, pod, cluster) ("
            f"max by (namespace, pod, container, cluster) ({series}) "
            f"* on (namespace, pod, cluster) group_left() {_ACTIVE_POD}))",
        ),
    )


def _workload_owner(owner_kind: str, workload_type: str) -> RuleSpec:
    return _record(
        "namespace_workload_pod:kube_pod_owner:relabel",
        "max by (cluster, namespace, workload, pod) (label_replace("
        f'kube_pod_owner{{{_KSM}, owner_kind="{owner_kind}"}}, '
        '"workload", "$1", "owner_name", "(.*)"))',
        workload_type=workload_type,
    )


def _kubernetes_rules() -> tuple[RuleSpec, ...]:
    deployment_owner = _record(
        "namespace_workload_pod:kube_pod_owner:relabel",
        "max by (cluster, namespace, workload, pod) (label_replace(label_replace("
        f'kube_pod_owner{{{_KSM}, owner_kind="ReplicaSet"}}, '
        '"replicaset", "$1", "owner_name", "(.*)") '
        "* on (replicaset, namespace) group_left(owner_name) topk by (replicaset, namespace) "
        f"(1, max by (replicaset, namespace, owner_name) (kube_replicaset_owner{{{_KSM}}})), "
        '"workload", "$1", "owner_name", "(.*)"))',
        workload_type="deployment",
    )
    return (
        _record(
            "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_irate",
            "sum by (cluster, namespace, pod, container) ("
            f"irate(container_cpu_usage_seconds_total{{{_CADVISOR}}}[5m])) "
            "* on (cluster, namespace, pod) group_left(node) topk by (cluster, namespace, pod) "
            '(1, max by (cluster, namespace, pod, node) (kube_pod_info{node!=""}))',
        ),
        *(
            _container_per_node(m)
            for m in (
                "container_memory_working_set_bytes",
                "container_memory_rss",
                "container_memory_cache",
                "container_memory_swap",
            )
        ),
        *_requests_limits("requests", "memory"),
        *_requests_limits("requests", "cpu"),
        *_requests_limits("limits", "memory"),
        *_requests_limits("limits", "cpu"),
        deployment_owner,
        _workload_owner("DaemonSet", "daemonset"),
        _workload_owner("StatefulSet", "statefulset"),
        _workload_owner("Job", "job"),
        _record(
            ":node_memory_MemAvailable_bytes:sum",
            f"sum(node_memory_MemAvailable_bytes{{{_NODE}}} or "
            f"(node_memory_Buffers_bytes{{{_NODE}}} + node_memory_Cached_bytes{{{_NODE}}} + "
            f"node_memory_MemFree_bytes{{{_NODE}}} + node_memory_Slab_bytes{{{_NODE}}})) "
            "by (cluster)",
        ),
        _record(
            "cluster:node_cpu:ratio_rate5m",
            "sum(rate(node_cpu_seconds_total"
            f'{{{_NODE},mode!="idle",mode!="iowait",mode!="steal"}}[5m])) by (cluster) / '
            f"count(sum(node_cpu_seconds_total{{{_NODE}}}) by (cluster, instance, cpu)) "
            "by (cluster)",
        ),
    )


def recommended_recording_rule_groups() -> list[RuleGroupSpec]:
    """The node and Kubernetes recording-rule groups AKS's dashboards depend on."""
    return [
        RuleGroupSpec(
            name="node-recording-rules",
            description="Node recording rules (node exporter) for AKS's managed-Prometheus "
            "dashboards",
            rules=_node_rules(),
        ),
        RuleGroupSpec(
            name="kubernetes-recording-rules",
            description="Kubernetes recording rules (cAdvisor, kube-state-metrics) for AKS's "
            "managed-Prometheus dashboards",
            rules=_kubernetes_rules(),
        ),
    ]
