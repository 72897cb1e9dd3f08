"""LogAnalyticsWorkspace: where Container Insights and resource logs land.

Creates one ``operationalinsights.Workspace`` (PerGB2018) with the configured retention and
daily cap, local (shared-key) authentication off — the Container Insights agent signs in with
its managed identity (``useAADAuth``) and diagnostic settings need no key — and access to
a resource's logs granted by the resource's own RBAC.

It is created before the cluster: the cluster's ``omsagent`` add-on names the workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import operationalinsights as oi

from components.kit.shared import stateful_options

PRICING_TIER = "PerGB2018"


@dataclass(frozen=True, kw_only=True)
class LogAnalyticsWorkspaceArgs:
    """Inputs of :class:`LogAnalyticsWorkspace`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the workspace."""
    location: str
    """Azure region."""
    workspace_name: str
    """Name of the workspace (4-63 alphanumerics and hyphens)."""
    retention_days: int = 30
    """Days data stays queryable (the config validated Azure's 30..730)."""
    daily_quota_gb: float = -1.0
    """Daily ingestion cap in GB; -1 for none."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` (the workspace holds the audit trail)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the workspace."""


class LogAnalyticsWorkspace(pulumi.ComponentResource):
    """A Log Analytics workspace with Entra-only ingestion."""

    name: pulumi.Output[str]
    """Name of the workspace."""
    resource_id: pulumi.Output[str]
    """Resource id of the workspace (the add-on's ``logAnalyticsWorkspaceResourceID``)."""
    customer_id: pulumi.Output[str]
    """Workspace (customer) id used in queries."""

    def __init__(
        self,
        name: str,
        args: LogAnalyticsWorkspaceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("aks-mlops:observability:LogAnalyticsWorkspace", name, None, opts)
        workspace = oi.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=oi.WorkspaceSkuArgs(name=PRICING_TIER),
            retention_in_days=args.retention_days,
            workspace_capping=oi.WorkspaceCappingArgs(daily_quota_gb=args.daily_quota_gb),
            features=oi.WorkspaceFeaturesArgs(
                disable_local_auth=True,
                enable_log_access_using_only_resource_permissions=True,
            ),
            tags=dict(args.tags),
            opts=stateful_options(self, args.protect),
        )
        self.name = workspace.name
        self.resource_id = workspace.id
        self.customer_id = workspace.customer_id
        self.register_outputs(
            {"name": self.name, "resource_id": self.resource_id, "customer_id": self.customer_id}
        )
