"""ManagedPrometheus: the Azure Monitor workspace that stores what ``ama-metrics`` scrapes.

Creates:
- an Azure Monitor workspace (managed Prometheus storage and query endpoint);
- a data collection endpoint and a data collection rule: the ``prometheus_forwarder`` data
  source's ``Microsoft-PrometheusMetrics`` stream flows to the workspace (a
  ``monitoring_accounts`` destination);
- the rule's association with the cluster, and the endpoint's association named
  ``configurationAccessEndpoint`` (where the agent fetches its configuration).

The cluster's ``azureMonitorProfile.metrics`` (already on) runs ``ama-metrics``; without these
resources it has nowhere to send samples. Shape:
https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable
(ARM/Bicep templates for managed Prometheus).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import monitor

from components.kit.shared import stateful_options

PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
DESTINATION = "MonitoringAccount1"
# The endpoint association must have this name for the agent to find it.
DCE_ASSOCIATION_NAME = "configurationAccessEndpoint"


@dataclass(frozen=True, kw_only=True)
class ManagedPrometheusArgs:
    """Inputs of :class:`ManagedPrometheus`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of every resource here."""
    location: str
    """Region (the endpoint and rule must share the workspace's region)."""
    workspace_name: str
    """Name of the Azure Monitor workspace."""
    endpoint_name: str
    """Name of the data collection endpoint."""
    rule_name: str
    """Name of the data collection rule."""
    association_name: str
    """Name of the rule's association with the cluster."""
    cluster_resource_id: pulumi.Input[str]
    """The AKS cluster whose metrics are collected."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` on the Azure Monitor workspace (stored metrics)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the workspace, endpoint and rule."""


class ManagedPrometheus(pulumi.ComponentResource):
    """Azure Monitor workspace with the collection rule wired to the cluster."""

    workspace_resource_id: pulumi.Output[str]
    """Resource id of the Azure Monitor workspace (rule groups and Grafana use it)."""
    query_endpoint: pulumi.Output[str]
    """The workspace's Prometheus query endpoint."""

    def __init__(
        self, name: str, args: ManagedPrometheusArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:ManagedPrometheus", name, None, opts)
        tags = dict(args.tags)
        workspace = monitor.AzureMonitorWorkspace(
            f"{name}-workspace",
            azure_monitor_workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=stateful_options(self, args.protect),
        )
        endpoint = monitor.DataCollectionEndpoint(
            f"{name}-dce",
            data_collection_endpoint_name=args.endpoint_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Linux",
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        rule = monitor.DataCollectionRule(
            f"{name}-dcr",
            data_collection_rule_name=args.rule_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Linux",
            description="Managed Prometheus: ama-metrics samples to the Azure Monitor workspace",
            data_collection_endpoint_id=endpoint.id,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                prometheus_forwarder=[
                    monitor.PrometheusForwarderDataSourceArgs(
                        name="PrometheusDataSource",
                        streams=[PROMETHEUS_STREAM],
                        label_include_filter={},
                    )
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                monitoring_accounts=[
                    monitor.MonitoringAccountDestinationArgs(
                        name=DESTINATION, account_resource_id=workspace.id
                    )
                ]
            ),
            data_flows=[
                monitor.DataFlowArgs(streams=[PROMETHEUS_STREAM], destinations=[DESTINATION])
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-dcra",
            association_name=args.association_name,
            resource_uri=args.cluster_resource_id,
            data_collection_rule_id=rule.id,
            description="Managed Prometheus for this cluster; deleting it stops metric storage.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-dcea",
            association_name=DCE_ASSOCIATION_NAME,
            resource_uri=args.cluster_resource_id,
            data_collection_endpoint_id=endpoint.id,
            description="Configuration endpoint of the metrics agent.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workspace_resource_id = workspace.id
        self.query_endpoint = workspace.metrics.apply(
            lambda m: (m.prometheus_query_endpoint or "") if m else ""
        )
        self.register_outputs(
            {
                "workspace_resource_id": self.workspace_resource_id,
                "query_endpoint": self.query_endpoint,
            }
        )
