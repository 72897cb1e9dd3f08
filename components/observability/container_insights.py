"""ContainerInsights: the data collection rule the cluster's Container Insights agent follows.

Creates:
- a data collection rule with the ``ContainerInsights`` extension data source and the
  ``Microsoft-ContainerInsights-Group-Default`` stream (pod and node inventory, events,
  performance, ContainerLogV2) flowing to the Log Analytics workspace;
- its association with the cluster, named ``ContainerInsightsExtension`` (the name the agent
  looks up).

The agent itself is the cluster's ``omsagent`` add-on with ``useAADAuth: "true"`` (managed
identity, no workspace key); :class:`components.cluster.aks.AksCluster` enables it when given a
workspace. Shape of the rule and the association:
https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable
(ARM template ``existingClusterOnboarding.json`` for managed-identity authentication).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import monitor

CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"
EXTENSION_NAME = "ContainerInsights"
# The agent finds its rule through an association of exactly this name.
ASSOCIATION_NAME = "ContainerInsightsExtension"
DESTINATION = "ciworkspace"


@dataclass(frozen=True, kw_only=True)
class ContainerInsightsArgs:
    """Inputs of :class:`ContainerInsights`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the data collection rule."""
    location: str
    """Region of the rule (the workspace's region)."""
    rule_name: str
    """Name of the data collection rule."""
    workspace_resource_id: pulumi.Input[str]
    """Log Analytics workspace receiving the data."""
    cluster_resource_id: pulumi.Input[str]
    """The AKS cluster the rule is associated with."""
    collection_interval: str = "1m"
    """Inventory and performance collection interval (1m..30m)."""
    namespace_filtering_mode: str = "Off"
    """``Off``, ``Include`` or ``Exclude`` the ``namespaces``."""
    namespaces: Sequence[str] = ()
    """Namespaces for the filter."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the rule."""


class ContainerInsights(pulumi.ComponentResource):
    """Container Insights collection rule and its association with the cluster."""

    rule_id: pulumi.Output[str]
    """Resource id of the data collection rule."""

    def __init__(
        self, name: str, args: ContainerInsightsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:ContainerInsights", name, None, opts)
        settings = {
            "dataCollectionSettings": {
                "interval": args.collection_interval,
                "namespaceFilteringMode": args.namespace_filtering_mode,
                "namespaces": list(args.namespaces),
                "enableContainerLogV2": True,
            }
        }
        rule = monitor.DataCollectionRule(
            f"{name}-dcr",
            data_collection_rule_name=args.rule_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="Linux",
            description="Container Insights: inventory, events, performance, ContainerLogV2",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                extensions=[
                    monitor.ExtensionDataSourceArgs(
                        name=ASSOCIATION_NAME,
                        extension_name=EXTENSION_NAME,
                        streams=[CONTAINER_INSIGHTS_STREAM],
                        extension_settings=settings,
                    )
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                log_analytics=[
                    monitor.LogAnalyticsDestinationArgs(
                        name=DESTINATION, workspace_resource_id=args.workspace_resource_id
                    )
                ]
            ),
            data_flows=[
                monitor.DataFlowArgs(
                    streams=[CONTAINER_INSIGHTS_STREAM], destinations=[DESTINATION]
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-dcra",
            association_name=ASSOCIATION_NAME,
            resource_uri=args.cluster_resource_id,
            data_collection_rule_id=rule.id,
            description="Container Insights for this cluster; deleting it stops log collection.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rule_id = rule.id
        self.register_outputs({"rule_id": self.rule_id})
