"""ManagedGrafana: Azure Managed Grafana wired to the Azure Monitor workspace.

Creates:
- a ``dashboard.Grafana`` (Standard SKU, system-assigned identity) whose Azure Monitor
  workspace integration adds the managed-Prometheus data source;
- Monitoring Data Reader for Grafana's identity on the Azure Monitor workspace (the data
  source queries with that identity);
- Grafana Admin on the instance for each cluster admin group (``principal_type`` Group);
- optionally a private endpoint (group ``grafana``, zone ``privatelink.grafana.azure.com``; the
  Standard SKU supports it) and links from that zone to further VNets (the CI runners' VNet,
  so the dashboards can be provisioned from there).

https://learn.microsoft.com/azure/templates/microsoft.dashboard/grafana
https://learn.microsoft.com/azure/managed-grafana/how-to-set-up-private-access
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, dashboard, privatedns

from components.kit.shared import PrivateEndpointSpec, assign_role, create_private_endpoint

SKU = "Standard"
GRAFANA_PRIVATE_DNS_ZONE = "privatelink.grafana.azure.com"
GRAFANA_GROUP_ID = "grafana"


@dataclass(frozen=True, kw_only=True)
class ManagedGrafanaArgs:
    """Inputs of :class:`ManagedGrafana`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the instance."""
    location: str
    """Azure region."""
    grafana_name: str
    """Name of the instance (2-23 characters)."""
    azure_monitor_workspace_resource_id: pulumi.Input[str]
    """Azure Monitor workspace integrated as a data source."""
    admin_group_object_ids: Sequence[str]
    """Entra groups that get Grafana Admin."""
    public_network_access_enabled: bool = True
    """Reachable from the internet (Entra sign-in still required)."""
    zone_redundancy_enabled: bool = False
    """Zone-redundant instance."""
    major_version: str | None = None
    """Grafana major version; None lets Azure choose."""
    private_endpoint: PrivateEndpointSpec | None = None
    """Private endpoint (group ``grafana``); None for none."""
    private_endpoint_name: str = ""
    """Name of the private endpoint."""
    private_dns_link_vnet_resource_ids: Mapping[str, str] = field(default_factory=dict)
    """Further VNets (by key) to link to the Grafana private DNS zone."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the instance and its endpoint."""


class ManagedGrafana(pulumi.ComponentResource):
    """Managed Grafana with its data-source access and admin grants."""

    name: pulumi.Output[str]
    """Name of the instance."""
    resource_id: pulumi.Output[str]
    """Resource id of the instance."""
    endpoint: pulumi.Output[str]
    """Grafana URL (``https://<name>-<hash>.<region>.grafana.azure.com``)."""
    principal_id: pulumi.Output[str]
    """Object id of the instance's system-assigned identity."""
    admin_grants: list[authorization.RoleAssignment]
    """The Grafana Admin assignments (dashboards are written after them)."""

    def __init__(
        self, name: str, args: ManagedGrafanaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:ManagedGrafana", name, None, opts)
        public = "Enabled" if args.public_network_access_enabled else "Disabled"
        grafana = dashboard.Grafana(
            f"{name}-grafana",
            workspace_name=args.grafana_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=dashboard.ResourceSkuArgs(name=SKU),
            identity=dashboard.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=dashboard.ManagedGrafanaPropertiesArgs(
                public_network_access=public,
                zone_redundancy="Enabled" if args.zone_redundancy_enabled else "Disabled",
                grafana_major_version=args.major_version,
                # Service-account API keys stay off: automation signs in with Entra tokens.
                api_key="Disabled",
                grafana_integrations=dashboard.GrafanaIntegrationsArgs(
                    azure_monitor_workspace_integrations=[
                        dashboard.AzureMonitorWorkspaceIntegrationArgs(
                            azure_monitor_workspace_resource_id=(
                                args.azure_monitor_workspace_resource_id
                            )
                        )
                    ]
                ),
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        principal_id = grafana.identity.apply(lambda i: (i.principal_id if i else None) or "")
        assign_role(
            f"{name}-amw-reader",
            scope=args.azure_monitor_workspace_resource_id,
            role="Monitoring Data Reader",
            principal_id=principal_id,
            parent=self,
        )
        # Keyed by the group's object id: reordering the list never replaces a grant.
        self.admin_grants = [
            assign_role(
                f"{name}-admin-{group}",
                scope=grafana.id,
                role="Grafana Admin",
                principal_id=group,
                principal_type="Group",
                parent=self,
            )
            for group in sorted(set(args.admin_group_object_ids))
        ]
        if args.private_endpoint is not None:
            create_private_endpoint(
                name=name,
                endpoint_name=args.private_endpoint_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                target_resource_id=grafana.id,
                spec=args.private_endpoint,
                tags=args.tags,
                parent=self,
            )
            self._link_zone(name, args, args.private_endpoint)
        self.name = grafana.name
        self.resource_id = grafana.id
        self.endpoint = grafana.properties.apply(lambda p: p.endpoint or "")
        self.principal_id = principal_id
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "endpoint": self.endpoint,
                "principal_id": self.principal_id,
            }
        )

    def _link_zone(
        self, name: str, args: ManagedGrafanaArgs, endpoint: PrivateEndpointSpec
    ) -> None:
        # The zone's name from its id, so each link waits for the zone.
        zone_name = pulumi.Output.from_input(endpoint.private_dns_zone_resource_id).apply(
            lambda zone_id: zone_id.rsplit("/", 1)[-1]
        )
        for key, vnet_id in sorted(args.private_dns_link_vnet_resource_ids.items()):
            privatedns.VirtualNetworkLink(
                f"{name}-dns-{key}",
                resource_group_name=args.resource_group_name,
                private_zone_name=zone_name,
                virtual_network_link_name=f"link-{key}",
                location="global",
                registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=vnet_id),
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
