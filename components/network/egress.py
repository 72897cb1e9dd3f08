"""How the nodes reach the internet, for :class:`components.network.vnet.Network`.

AKS outbound types (https://learn.microsoft.com/azure/aks/egress-outboundtype):
- ``loadBalancer``: AKS's standard load balancer SNATs egress (nothing created here);
- ``natGateway`` (AKS ``userAssignedNATGateway``): a Standard NAT gateway with one static
  Standard public IP, associated with the nodes subnet. AKS requires it on the subnet before
  the cluster is created (https://learn.microsoft.com/azure/aks/nat-gateway). A Standard NAT
  gateway is zonal: with one cluster zone it is pinned there (its IP too); with several it is
  left to Azure's choice of zone and given a zone-redundant IP, which a no-zone gateway accepts
  (https://learn.microsoft.com/azure/nat-gateway/nat-availability-zones) -- egress then follows
  that one zone's health;
- ``userDefinedRouting``: a route table sending ``0.0.0.0/0`` to an existing hub firewall's
  private IP (next hop ``VirtualAppliance``), associated with the nodes subnet before the
  cluster exists; the cluster identity needs rights on the route table
  (https://learn.microsoft.com/azure/aks/egress-udr,
  https://learn.microsoft.com/azure/aks/limit-egress-traffic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_azure_native import network

LOAD_BALANCER = "loadBalancer"
NAT_GATEWAY = "natGateway"
USER_DEFINED_ROUTING = "userDefinedRouting"
EGRESS_TYPES = (LOAD_BALANCER, NAT_GATEWAY, USER_DEFINED_ROUTING)
# The AKS networkProfile.outboundType for each egress choice.
AKS_OUTBOUND_TYPES = {
    LOAD_BALANCER: "loadBalancer",
    NAT_GATEWAY: "userAssignedNATGateway",
    USER_DEFINED_ROUTING: "userDefinedRouting",
}
DEFAULT_ROUTE = "0.0.0.0/0"
NAT_IDLE_TIMEOUT_MINUTES = 4


def create_nat_gateway(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    nat_gateway_name: str,
    public_ip_name: str,
    zones: Sequence[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.NatGateway:
    """A Standard NAT gateway with one static Standard public IP (zones as described above)."""
    pinned = list(zones) if len(zones) == 1 else None
    ip = network.PublicIPAddress(
        f"{name}-egress-ip",
        public_ip_address_name=public_ip_name,
        resource_group_name=resource_group_name,
        location=location,
        sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        # One zone: same zone as the gateway. Several: zone-redundant.
        zones=list(zones) or None,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return network.NatGateway(
        f"{name}-egress-nat",
        nat_gateway_name=nat_gateway_name,
        resource_group_name=resource_group_name,
        location=location,
        sku=network.NatGatewaySkuArgs(name="Standard"),
        public_ip_addresses=[network.SubResourceArgs(id=ip.id)],
        idle_timeout_in_minutes=NAT_IDLE_TIMEOUT_MINUTES,
        zones=pinned,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_route_table(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    route_table_name: str,
    firewall_private_ip: str,
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> network.RouteTable:
    """A route table whose default route goes to the hub firewall (routes declared inline)."""
    return network.RouteTable(
        f"{name}-egress-routes",
        route_table_name=route_table_name,
        resource_group_name=resource_group_name,
        location=location,
        routes=[
            network.RouteArgs(
                name="default-via-firewall",
                address_prefix=DEFAULT_ROUTE,
                next_hop_type="VirtualAppliance",
                next_hop_ip_address=firewall_private_ip,
            )
        ],
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
