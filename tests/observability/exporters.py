"""Series from exporters (not the platform's own jobs) that alerts and dashboards may use.

Written out as literals from the exporters' documentation, never read from the code under test.
A name outside these lists, the metrics contract and the rule groups' own records is a typo or a
series nobody collects, and fails the tests.
"""

from __future__ import annotations

# NVIDIA DCGM exporter, default counters of exporter 4.8.2 (etc/default-counters.csv):
# https://github.com/NVIDIA/dcgm-exporter/blob/main/etc/default-counters.csv
# https://docs.nvidia.com/datacenter/dcgm/latest/dcgm-api/dcgm-api-field-ids.html
DCGM = frozenset(
    {
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_MEM_COPY_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
        "DCGM_FI_DEV_FB_RESERVED",
        "DCGM_FI_DEV_POWER_USAGE",
        "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        "DCGM_FI_DEV_GPU_TEMP",
        "DCGM_FI_DEV_MEMORY_TEMP",
        "DCGM_FI_DEV_SM_CLOCK",
        "DCGM_FI_DEV_MEM_CLOCK",
        "DCGM_FI_DEV_XID_ERRORS",
        "DCGM_FI_DEV_PCIE_REPLAY_COUNTER",
    }
)

# What managed Prometheus keeps from its default targets with the minimal ingestion profile
# (the add-on's default): a series outside this list is not stored unless the keep list is
# extended, so rules may only use these.
# https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-configuration-minimal
KUBE_STATE_METRICS = frozenset(
    {
        "kube_node_info",
        "kube_node_status_condition",
        "kube_node_status_capacity",
        "kube_node_status_allocatable",
        "kube_node_spec_taint",
        "kube_pod_status_phase",
        "kube_pod_info",
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_status_waiting_reason",
        "kube_pod_container_resource_requests",
        "kube_pod_container_resource_limits",
        "kube_deployment_spec_replicas",
        "kube_deployment_status_replicas_available",
        "kube_daemonset_status_desired_number_scheduled",
        "kube_daemonset_status_number_ready",
        "kube_job_failed",
        "kube_job_status_succeeded",
    }
)
KUBELET = frozenset(
    {
        "kubelet_volume_stats_used_bytes",
        "kubelet_volume_stats_capacity_bytes",
        "kubelet_volume_stats_available_bytes",
        "kubelet_running_pods",
    }
)
NODE_EXPORTER = frozenset(
    {
        "node_cpu_seconds_total",
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_filesystem_avail_bytes",
        "node_filesystem_size_bytes",
    }
)
# Produced by every scrape (https://prometheus.io/docs/concepts/jobs_instances/).
SCRAPE = frozenset({"up"})

EXPORTER_SERIES = DCGM | KUBE_STATE_METRICS | KUBELET | NODE_EXPORTER | SCRAPE
