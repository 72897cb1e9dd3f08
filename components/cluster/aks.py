"""AksCluster: the managed cluster with its system pool.

Creates:
- a user-assigned control-plane identity with Network Contributor on the VNet (AKS must
  manage load balancers and, with VNet integration, the API-server subnet; a user-assigned
  identity can be granted that *before* the cluster exists);
- the ManagedCluster: system pool tainted ``CriticalAddonsOnly``, Entra ID + Azure RBAC,
  local accounts off, OIDC issuer + workload identity, Azure CNI overlay with the Cilium
  dataplane and network policy, upgrade channels, managed Prometheus metrics, KEDA, Azure
  Policy, Key Vault secrets provider with rotation, image cleaner; private API server or
  authorized IP ranges;
- planned maintenance windows for the upgrade channels (:mod:`components.cluster.maintenance`);
- for a private cluster, links from its AKS-managed private DNS zone to the VNets that must
  resolve the API server (the CI runners' VNet).

User node pools are separate :class:`components.cluster.node_pools.NodePool` resources so a pool
change never touches the cluster resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerservice as cs
from pulumi_azure_native import managedidentity, privatedns

from components.cluster.maintenance import (
    MaintenanceWindowSpec,
    create_maintenance_configurations,
)
from components.kit.shared import RoleAssignmentSpec, create_role_assignments

SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# Auto-upgrade channels that change the minor version (https://learn.microsoft.com/azure/aks/auto-upgrade-cluster).
MINOR_UPGRADE_CHANNELS = frozenset({"stable", "rapid"})


@dataclass(frozen=True, kw_only=True)
class SystemPoolSpec:
    """The system node pool, declared inside the cluster resource."""

    name: str
    vm_size: str
    min_count: int
    max_count: int
    os_sku: str = "AzureLinux"
    os_disk_size_gb: int | None = None
    max_pods: int = 110


@dataclass(frozen=True, kw_only=True)
class AksClusterArgs:
    """Inputs of :class:`AksCluster`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster."""
    location: str
    """Azure region."""
    cluster_name: str
    """Name of the managed cluster."""
    dns_prefix: str
    """DNS prefix of the API server FQDN."""
    node_resource_group: str
    """Name of the AKS-managed node resource group."""
    identity_name: str
    """Name of the control-plane user-assigned identity."""
    kubernetes_version: str
    """Kubernetes version (minor or patch)."""
    sku_tier: str
    """``Free``, ``Standard`` (uptime SLA) or ``Premium``."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the admin groups."""
    admin_group_object_ids: Sequence[str]
    """Entra groups that get cluster-admin through Azure RBAC."""
    system_pool: SystemPoolSpec
    """The system pool."""
    vnet_resource_id: pulumi.Input[str]
    """VNet the cluster uses; the control-plane identity gets Network Contributor on it."""
    node_subnet_resource_id: pulumi.Input[str]
    """Subnet of the nodes."""
    pod_cidr: str
    """Overlay pod range."""
    service_cidr: str
    """Kubernetes service range."""
    dns_service_ip: str
    """Cluster DNS service address inside ``service_cidr``."""
    outbound_type: str = "loadBalancer"
    """AKS outbound type: ``loadBalancer``, ``userAssignedNATGateway`` (a NAT gateway already
    on the node subnet) or ``userDefinedRouting`` (a route table already on it)."""
    route_table_resource_id: pulumi.Input[str] | None = None
    """``userDefinedRouting``: the node subnet's route table; the control-plane identity gets
    Network Contributor on it (AKS manages routes there; a table outside the node resource
    group needs the grant, https://learn.microsoft.com/azure/aks/limit-egress-traffic)."""
    zones: Sequence[str] = ()
    """Availability zones of the system pool (empty: regional)."""
    private_cluster_enabled: bool = True
    """Private API server (no public endpoint)."""
    authorized_ip_ranges: Sequence[str] = ()
    """CIDRs allowed to reach a public API server."""
    api_server_subnet_resource_id: pulumi.Input[str] | None = None
    """Delegated subnet for API server VNet integration; None: no VNet integration."""
    upgrade_channel: str = "patch"
    """Cluster auto-upgrade channel."""
    node_os_upgrade_channel: str = "NodeImage"
    """Node OS upgrade channel."""
    image_cleaner_interval_hours: int = 48
    """How often the image cleaner removes unused vulnerable images."""
    azure_policy_enabled: bool = True
    """Azure Policy add-on (Gatekeeper)."""
    maintenance_windows: Mapping[str, MaintenanceWindowSpec] = field(default_factory=dict)
    """Planned maintenance by configuration name (``aksManagedAutoUpgradeSchedule``,
    ``aksManagedNodeOSUpgradeSchedule``); empty leaves AKS's own timing."""
    private_dns_link_vnet_resource_ids: Mapping[str, str] = field(default_factory=dict)
    """Private cluster: VNets (by key) to link to the cluster's AKS-managed private DNS zone,
    so machines there (CI runners in a peered VNet) resolve the API server."""
    log_analytics_workspace_resource_id: pulumi.Input[str] | None = None
    """Log Analytics workspace of Container Insights (the ``omsagent`` add-on); None: off."""
    ai_toolchain_operator_enabled: bool = False
    """The AI toolchain operator (KAITO) add-on: KAITO's CRDs and controllers for LLM presets.
    It needs the OIDC issuer and workload identity, which the cluster always has
    (https://learn.microsoft.com/azure/aks/ai-toolchain-operator)."""
    app_routing_internal_enabled: bool = False
    """The application routing add-on (managed NGINX) with an internal load balancer for its
    default ingress controller: ingresses of class ``webapprouting.kubernetes.azure.com`` are
    reachable from the VNet only (https://learn.microsoft.com/azure/aks/app-routing)."""
    defender_enabled: bool = False
    """Microsoft Defender for Containers' sensor on the cluster, reporting into
    ``log_analytics_workspace_resource_id`` (required then). The subscription's Defender plan
    is a separate, subscription-level resource (:mod:`components.cluster.defender`)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class AksCluster(pulumi.ComponentResource):
    """Managed cluster, system pool, control-plane identity."""

    name: pulumi.Output[str]
    """Name of the managed cluster."""
    resource_id: pulumi.Output[str]
    """Resource id of the managed cluster."""
    principal_id: pulumi.Output[str]
    """Object id of the control-plane identity."""
    oidc_issuer_url: pulumi.Output[str]
    """OIDC issuer URL for federated credentials."""
    kubelet_object_id: pulumi.Output[str]
    """Object id of the kubelet identity (pulls images)."""
    api_dns_link_ids: dict[str, pulumi.Output[str]]
    """Private cluster: ids of the links from the API server's private DNS zone to the VNets
    in ``private_dns_link_vnet_resource_ids`` (by key). Whoever reaches the API server from
    those VNets must wait for them."""

    def __init__(
        self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:aks:AksCluster", name, None, opts)
        tags = dict(args.tags)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        grants = create_role_assignments(
            name=f"{name}-identity",
            scope=args.vnet_resource_id,
            assignments={
                "network-contributor": RoleAssignmentSpec(
                    role="Network Contributor", principal_id=identity.principal_id
                )
            },
            parent=self,
        )
        if args.route_table_resource_id is not None:
            grants |= create_role_assignments(
                name=f"{name}-identity",
                scope=args.route_table_resource_id,
                assignments={
                    "routes-network-contributor": RoleAssignmentSpec(
                        role="Network Contributor", principal_id=identity.principal_id
                    )
                },
                parent=self,
            )
        cluster = cs.ManagedCluster(
            f"{name}-cluster",
            resource_name_=args.cluster_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            dns_prefix=args.dns_prefix,
            node_resource_group=args.node_resource_group,
            kubernetes_version=args.kubernetes_version,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier=args.sku_tier),
            identity=cs.ManagedClusterIdentityArgs(
                type=cs.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[identity.id],
            ),
            agent_pool_profiles=[self._system_pool(args)],
            enable_rbac=True,
            disable_local_accounts=True,
            aad_profile=cs.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                tenant_id=args.tenant_id,
                admin_group_object_ids=list(args.admin_group_object_ids),
            ),
            api_server_access_profile=self._api_server(args),
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=self._security(args),
            network_profile=self._network(args),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=args.upgrade_channel,
                node_os_upgrade_channel=args.node_os_upgrade_channel,
            ),
            azure_monitor_profile=cs.ManagedClusterAzureMonitorProfileArgs(
                metrics=cs.ManagedClusterAzureMonitorProfileMetricsArgs(enabled=True)
            ),
            workload_auto_scaler_profile=cs.ManagedClusterWorkloadAutoScalerProfileArgs(
                keda=cs.ManagedClusterWorkloadAutoScalerProfileKedaArgs(enabled=True)
            ),
            # Left unset (not `enabled: False`) when off, so stacks without an LLM send the
            # same cluster inputs as before.
            ai_toolchain_operator_profile=cs.ManagedClusterAIToolchainOperatorProfileArgs(
                enabled=True
            )
            if args.ai_toolchain_operator_enabled
            else None,
            # "Internal": AKS provisions the default NGINX controller's load balancer as an
            # internal one and overrides any annotation that would make it public.
            ingress_profile=cs.ManagedClusterIngressProfileArgs(
                web_app_routing=cs.ManagedClusterIngressProfileWebAppRoutingArgs(
                    enabled=True,
                    nginx=cs.ManagedClusterIngressProfileNginxArgs(
                        default_ingress_controller_type="Internal"
                    ),
                )
            )
            if args.app_routing_internal_enabled
            else None,
            addon_profiles=self._addons(args),
            # Scale-from-zero GPU pools: let the autoscaler remove idle expensive nodes fast.
            auto_scaler_profile=cs.ManagedClusterPropertiesAutoScalerProfileArgs(
                scale_down_unneeded_time="10m",
                scale_down_delay_after_add="10m",
                expander="least-waste",
                balance_similar_node_groups="true",
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(grants.values()),
                ignore_changes=self._ignored(args),
            ),
        )
        create_maintenance_configurations(
            name,
            resource_group_name=args.resource_group_name,
            cluster_name=cluster.name,
            windows=args.maintenance_windows,
            parent=self,
        )
        self.api_dns_link_ids = (
            self._link_private_zone(name, args, cluster) if args.private_cluster_enabled else {}
        )
        self.name = cluster.name
        self.resource_id = cluster.id
        self.principal_id = identity.principal_id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda p: p.issuer_url if p and p.issuer_url else ""
        )
        self.kubelet_object_id = cluster.identity_profile.apply(
            lambda p: (p or {})["kubeletidentity"].object_id or ""
        )
        self.register_outputs(
            {
                "name": self.name,
                "resource_id": self.resource_id,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubelet_object_id": self.kubelet_object_id,
                "api_dns_link_ids": self.api_dns_link_ids,
            }
        )

    def _link_private_zone(
        self, name: str, args: AksClusterArgs, cluster: cs.ManagedCluster
    ) -> dict[str, pulumi.Output[str]]:
        # With private_dns_zone "system" AKS creates the zone in the node resource group; its
        # name is the private FQDN without the first label.
        zone_name = cluster.private_fqdn.apply(lambda fqdn: fqdn.split(".", 1)[1])
        links: dict[str, pulumi.Output[str]] = {}
        for key, vnet_id in sorted(args.private_dns_link_vnet_resource_ids.items()):
            links[key] = privatedns.VirtualNetworkLink(
                f"{name}-api-dns-{key}",
                resource_group_name=args.node_resource_group,
                private_zone_name=zone_name,
                virtual_network_link_name=f"link-{key}",
                location="global",
                registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=vnet_id),
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster]),
            ).id
        return links

    @staticmethod
    def _ignored(args: AksClusterArgs) -> list[str]:
        # The autoscaler owns node counts.
        ignored = ["agentPoolProfiles[0].count"]
        if args.upgrade_channel in MINOR_UPGRADE_CHANNELS:
            # These channels move the cluster to a newer minor on their own; sending the
            # configured (older) version again would be a rejected downgrade.
            ignored += ["kubernetesVersion", "agentPoolProfiles[0].orchestratorVersion"]
        return ignored

    @staticmethod
    def _system_pool(args: AksClusterArgs) -> cs.ManagedClusterAgentPoolProfileArgs:
        pool = args.system_pool
        return cs.ManagedClusterAgentPoolProfileArgs(
            name=pool.name,
            mode="System",
            vm_size=pool.vm_size,
            os_type="Linux",
            os_sku=pool.os_sku,
            os_disk_size_gb=pool.os_disk_size_gb,
            os_disk_type="Ephemeral" if pool.os_disk_size_gb else None,
            max_pods=pool.max_pods,
            enable_auto_scaling=True,
            min_count=pool.min_count,
            max_count=pool.max_count,
            count=pool.min_count,
            node_taints=[SYSTEM_POOL_TAINT],
            availability_zones=list(args.zones) or None,
            vnet_subnet_id=args.node_subnet_resource_id,
            type="VirtualMachineScaleSets",
            upgrade_settings=cs.AgentPoolUpgradeSettingsArgs(max_surge="33%"),
        )

    @staticmethod
    def _api_server(args: AksClusterArgs) -> cs.ManagedClusterAPIServerAccessProfileArgs:
        private = args.private_cluster_enabled
        return cs.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=private,
            private_dns_zone="system" if private else None,
            enable_private_cluster_public_fqdn=False if private else None,
            authorized_ip_ranges=list(args.authorized_ip_ranges) or None,
            enable_vnet_integration=True if args.api_server_subnet_resource_id else None,
            subnet_id=args.api_server_subnet_resource_id,
            # `az aks command invoke` would bypass the private endpoint; keep it off.
            disable_run_command=True if private else None,
        )

    @staticmethod
    def _network(args: AksClusterArgs) -> cs.ContainerServiceNetworkProfileArgs:
        return cs.ContainerServiceNetworkProfileArgs(
            network_plugin="azure",
            network_plugin_mode="overlay",
            network_dataplane="cilium",
            network_policy="cilium",
            pod_cidr=args.pod_cidr,
            service_cidr=args.service_cidr,
            dns_service_ip=args.dns_service_ip,
            outbound_type=args.outbound_type,
            load_balancer_sku="standard",
        )

    @staticmethod
    def _addons(args: AksClusterArgs) -> dict[str, cs.ManagedClusterAddonProfileArgs]:
        addons = {
            "azurepolicy": cs.ManagedClusterAddonProfileArgs(enabled=args.azure_policy_enabled),
            "azureKeyvaultSecretsProvider": cs.ManagedClusterAddonProfileArgs(
                enabled=True,
                config={"enableSecretRotation": "true", "rotationPollInterval": "2m"},
            ),
        }
        if args.log_analytics_workspace_resource_id is not None:
            # Container Insights agent; useAADAuth makes it sign in with its managed identity
            # (no workspace key) and follow the ContainerInsightsExtension collection rule.
            # https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable
            addons["omsagent"] = cs.ManagedClusterAddonProfileArgs(
                enabled=True,
                config={
                    "logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_resource_id,
                    "useAADAuth": "true",
                },
            )
        return addons

    @staticmethod
    def _security(args: AksClusterArgs) -> cs.ManagedClusterSecurityProfileArgs:
        defender = None
        if args.defender_enabled:
            # AKS requires a workspace whenever the Defender profile is on
            # (https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update#managedclustersecurityprofiledefender).
            if args.log_analytics_workspace_resource_id is None:
                raise ValueError("defender_enabled needs log_analytics_workspace_resource_id")
            defender = cs.ManagedClusterSecurityProfileDefenderArgs(
                log_analytics_workspace_resource_id=args.log_analytics_workspace_resource_id,
                security_monitoring=cs.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(
                    enabled=True
                ),
            )
        return cs.ManagedClusterSecurityProfileArgs(
            workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            image_cleaner=cs.ManagedClusterSecurityProfileImageCleanerArgs(
                enabled=True, interval_hours=args.image_cleaner_interval_hours
            ),
            defender=defender,
        )
