"""Network: the stack's resource group, VNet, subnets, NSGs and private DNS zones.

Creates:
- a resource group;
- one NSG per subnet that allows NSGs (delegated API-server subnets get none);
- a VNet with its subnets declared inline, so Azure never races parallel subnet writes and
  an update of the VNet never drops a subnet;
- egress for the nodes subnet other than AKS's load balancer: a NAT gateway with its public IP,
  or a route table to a hub firewall (:mod:`components.network.egress`), associated with the
  subnet inside the VNet declaration so both exist before the cluster;
- each requested private DNS zone, linked to the VNet;
- a peering in both directions with each listed VNet (e.g. the VNet of the CI runners that
  must reach a private API server). The remote side needs Network Contributor on that VNet
  for the deployer, and its address space must not overlap this VNet's. The back-peering is
  created in the remote VNet's subscription: through the default provider when that is the
  deployer's subscription, else through an explicit provider for the remote subscription
  (it authenticates like the default one: az CLI or ARM_* / OIDC environment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native
from pulumi_azure_native import network, privatedns, resources

from components.kit.shared import PrivateEndpointSpec
from components.network.egress import (
    LOAD_BALANCER,
    NAT_GATEWAY,
    USER_DEFINED_ROUTING,
    create_nat_gateway,
    create_route_table,
)

EGRESS_SUBNET = "nodes"

PRIVATE_ENDPOINT_POLICIES_ENABLED = "Enabled"


@dataclass(frozen=True, kw_only=True)
class SubnetSpec:
    """One subnet."""

    name: str
    """Azure subnet name."""
    address_prefix: str
    """CIDR inside the VNet."""
    delegation: str | None = None
    """Service the subnet is delegated to, e.g. ``Microsoft.ContainerService/managedClusters``."""
    nsg_name: str | None = None
    """NSG to create and attach; None for none."""
    service_endpoints: tuple[str, ...] = ()
    """Service endpoints on the subnet, e.g. ``Microsoft.Storage``."""


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    """Inputs of :class:`Network`."""

    location: str
    """Azure region."""
    resource_group_name: str
    """Name of the resource group to create."""
    vnet_name: str
    """Name of the VNet."""
    address_space: str
    """VNet CIDR."""
    subscription_id: str
    """The deployer's subscription (the default provider's)."""
    subnets: Mapping[str, SubnetSpec]
    """Subnets by stable role key (``nodes``, ``privateEndpoints``, ...)."""
    private_dns_zones: tuple[str, ...] = ()
    """Private DNS zones to create and link, e.g. ``privatelink.azurecr.io``."""
    peerings: Mapping[str, str] = field(default_factory=dict)
    """VNets to peer with (both directions), by stable key -> VNet resource id."""
    egress: str = LOAD_BALANCER
    """How the ``nodes`` subnet reaches the internet: ``loadBalancer`` (AKS's, nothing
    created), ``natGateway`` or ``userDefinedRouting`` (via ``firewall_private_ip``)."""
    zones: Sequence[str] = ()
    """The cluster's availability zones (placement of the NAT gateway and its IP)."""
    nat_gateway_name: str = ""
    """Name of the NAT gateway (``natGateway``)."""
    public_ip_name: str = ""
    """Name of the NAT gateway's public IP (``natGateway``)."""
    route_table_name: str = ""
    """Name of the route table (``userDefinedRouting``)."""
    firewall_private_ip: str | None = None
    """Private IP of the existing hub firewall (``userDefinedRouting``)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class Network(pulumi.ComponentResource):
    """Resource group, VNet, subnets, NSGs, private DNS zones."""

    resource_group_name: pulumi.Output[str]
    """Name of the resource group every other component deploys into."""
    resource_group_id: pulumi.Output[str]
    """Resource id of the resource group."""
    name: pulumi.Output[str]
    """Name of the VNet."""
    resource_id: pulumi.Output[str]
    """Resource id of the VNet."""
    subnet_ids: dict[str, pulumi.Output[str]]
    """Subnet resource ids by role key."""
    private_dns_zone_ids: dict[str, pulumi.Output[str]]
    """Private DNS zone resource ids by zone name, known only once the zone is linked to the
    VNet (a VNet-integrated PostgreSQL server must never see an unlinked zone)."""
    route_table_id: pulumi.Output[str] | None
    """Resource id of the egress route table (``userDefinedRouting``), else None."""
    peering_ids: dict[str, pulumi.Output[str]]
    """Per peering key, the id of this VNet's peering, known only once both directions exist
    (traffic flows only then)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:network:Network", name, None, opts)
        tags = dict(args.tags)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.resource_group_name = group.name
        self.resource_group_id = group.id
        nsgs = self._create_nsgs(name, args, group.name, tags)
        nat, routes = self._create_egress(name, args, group.name, tags)
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.vnet_name,
            resource_group_name=group.name,
            location=args.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            subnets=[
                self._subnet_args(
                    spec,
                    nsgs.get(key),
                    nat=nat if key == EGRESS_SUBNET else None,
                    routes=routes if key == EGRESS_SUBNET else None,
                )
                for key, spec in args.subnets.items()
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = vnet.name
        self.resource_id = vnet.id
        self.route_table_id = routes.id if routes else None
        # The nodes subnet's id carries its egress resources: whatever joins the subnet (the
        # cluster, node pools) waits for the NAT gateway or route table AKS validates.
        egress_ids = [r.id for r in (nat, routes) if r is not None]
        self.subnet_ids = {
            key: pulumi.Output.all(
                pulumi.Output.concat(vnet.id, "/subnets/", spec.name),
                *(egress_ids if key == EGRESS_SUBNET else []),
            ).apply(lambda values: str(values[0]))
            for key, spec in args.subnets.items()
        }
        self.private_dns_zone_ids = self._create_dns_zones(name, args, group.name, vnet, tags)
        self.peering_ids = self._create_peerings(name, args, group.name, vnet)
        self.register_outputs(
            {
                "resource_group_name": self.resource_group_name,
                "resource_id": self.resource_id,
                "subnet_ids": self.subnet_ids,
                "route_table_id": self.route_table_id,
                "private_dns_zone_ids": self.private_dns_zone_ids,
                "peering_ids": self.peering_ids,
            }
        )

    def _create_nsgs(
        self,
        name: str,
        args: NetworkArgs,
        resource_group_name: pulumi.Output[str],
        tags: dict[str, str],
    ) -> dict[str, network.NetworkSecurityGroup]:
        return {
            key: network.NetworkSecurityGroup(
                f"{name}-nsg-{key}",
                network_security_group_name=spec.nsg_name,
                resource_group_name=resource_group_name,
                location=args.location,
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for key, spec in args.subnets.items()
            if spec.nsg_name
        }

    def _create_egress(
        self,
        name: str,
        args: NetworkArgs,
        resource_group_name: pulumi.Output[str],
        tags: dict[str, str],
    ) -> tuple[network.NatGateway | None, network.RouteTable | None]:
        if args.egress == NAT_GATEWAY:
            nat = create_nat_gateway(
                name,
                resource_group_name=resource_group_name,
                location=args.location,
                nat_gateway_name=args.nat_gateway_name,
                public_ip_name=args.public_ip_name,
                zones=args.zones,
                tags=tags,
                parent=self,
            )
            return nat, None
        if args.egress == USER_DEFINED_ROUTING:
            if not args.firewall_private_ip:
                raise ValueError("userDefinedRouting egress needs firewall_private_ip")
            routes = create_route_table(
                name,
                resource_group_name=resource_group_name,
                location=args.location,
                route_table_name=args.route_table_name,
                firewall_private_ip=args.firewall_private_ip,
                tags=tags,
                parent=self,
            )
            return None, routes
        return None, None

    @staticmethod
    def _subnet_args(
        spec: SubnetSpec,
        nsg: network.NetworkSecurityGroup | None,
        *,
        nat: network.NatGateway | None = None,
        routes: network.RouteTable | None = None,
    ) -> network.SubnetArgs:
        return network.SubnetArgs(
            name=spec.name,
            address_prefix=spec.address_prefix,
            network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id) if nsg else None,
            delegations=[
                network.DelegationArgs(
                    name=spec.delegation.replace("/", "."), service_name=spec.delegation
                )
            ]
            if spec.delegation
            else None,
            service_endpoints=[
                network.ServiceEndpointPropertiesFormatArgs(service=service)
                for service in spec.service_endpoints
            ]
            or None,
            nat_gateway=network.SubResourceArgs(id=nat.id) if nat else None,
            route_table=network.RouteTableArgs(id=routes.id) if routes else None,
            # Let NSGs and route tables apply to private endpoints in this subnet too.
            private_endpoint_network_policies=PRIVATE_ENDPOINT_POLICIES_ENABLED,
            # No implicit outbound internet for new VMs; egress goes through the configured path.
            default_outbound_access=False,
        )

    def private_endpoint(self, zone_name: str, group_id: str) -> PrivateEndpointSpec:
        """A private endpoint in the ``privateEndpoints`` subnet, registered in ``zone_name``."""
        return PrivateEndpointSpec(
            subnet_resource_id=self.subnet_ids["privateEndpoints"],
            private_dns_zone_resource_id=self.private_dns_zone_ids[zone_name],
            group_id=group_id,
        )

    def _create_peerings(
        self,
        name: str,
        args: NetworkArgs,
        resource_group_name: pulumi.Output[str],
        vnet: network.VirtualNetwork,
    ) -> dict[str, pulumi.Output[str]]:
        ids: dict[str, pulumi.Output[str]] = {}
        for key, remote_id in sorted(args.peerings.items()):
            remote_subscription, remote_group, remote_vnet = _vnet_parts(remote_id)
            forward = network.VirtualNetworkPeering(
                f"{name}-peering-{key}",
                resource_group_name=resource_group_name,
                virtual_network_name=vnet.name,
                virtual_network_peering_name=f"peer-to-{remote_vnet}"[:80],
                remote_virtual_network=network.SubResourceArgs(id=remote_id),
                allow_virtual_network_access=True,
                allow_forwarded_traffic=False,
                use_remote_gateways=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            back_opts = pulumi.ResourceOptions(parent=self)
            if remote_subscription.lower() != args.subscription_id.lower():
                # ARM writes the peering where the remote VNet lives: in its subscription.
                back_opts.provider = azure_native.Provider(
                    f"{name}-peering-{key}-provider",
                    subscription_id=remote_subscription,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            back = network.VirtualNetworkPeering(
                f"{name}-peering-{key}-back",
                resource_group_name=remote_group,
                virtual_network_name=remote_vnet,
                virtual_network_peering_name=f"peer-to-{args.vnet_name}"[:80],
                remote_virtual_network=network.SubResourceArgs(id=vnet.id),
                allow_virtual_network_access=True,
                allow_forwarded_traffic=False,
                use_remote_gateways=False,
                opts=back_opts,
            )
            ids[key] = pulumi.Output.all(forward.id, back.id).apply(lambda pair: pair[0])
        return ids

    def _create_dns_zones(
        self,
        name: str,
        args: NetworkArgs,
        resource_group_name: pulumi.Output[str],
        vnet: network.VirtualNetwork,
        tags: dict[str, str],
    ) -> dict[str, pulumi.Output[str]]:
        ids: dict[str, pulumi.Output[str]] = {}
        for zone_name in args.private_dns_zones:
            key = zone_name.replace(".", "-")
            zone = privatedns.PrivateZone(
                f"{name}-dns-{key}",
                private_zone_name=zone_name,
                resource_group_name=resource_group_name,
                location="global",
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            link = privatedns.VirtualNetworkLink(
                f"{name}-dns-{key}-link",
                private_zone_name=zone.name,
                resource_group_name=resource_group_name,
                virtual_network_link_name=f"link-{args.vnet_name}"[:80],
                location="global",
                registration_enabled=False,
                virtual_network=privatedns.SubResourceArgs(id=vnet.id),
                tags=tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            # Carry the link as a dependency: a VNet-integrated PostgreSQL server resolves
            # its name through the zone, so the zone must be linked when the server is made.
            ids[zone_name] = pulumi.Output.all(zone.id, link.id).apply(lambda ids_: ids_[0])
        return ids


def _vnet_parts(resource_id: str) -> tuple[str, str, str]:
    """(subscription id, resource group, VNet name) of a VNet resource id."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    return (
        parts[lowered.index("subscriptions") + 1],
        parts[lowered.index("resourcegroups") + 1],
        parts[-1],
    )
