"""Network component: resource group, VNet with inline subnets, NSGs, private DNS zones."""

from __future__ import annotations

import pulumi

from components.network.vnet import Network, NetworkArgs, SubnetSpec
from offline.runner import SUBSCRIPTION_ID
from tests.components.helpers import RG


def _args(**overrides: object) -> NetworkArgs:
    base: dict[str, object] = {
        "location": "westeurope",
        "resource_group_name": RG,
        "vnet_name": "vnet-unit",
        "address_space": "10.0.0.0/16",
        "subscription_id": SUBSCRIPTION_ID,
        "subnets": {
            "nodes": SubnetSpec(name="snet-nodes", address_prefix="10.0.0.0/20", nsg_name="nsg-n"),
            "apiServer": SubnetSpec(
                name="snet-api",
                address_prefix="10.0.16.0/28",
                delegation="Microsoft.ContainerService/managedClusters",
            ),
        },
        "private_dns_zones": ("privatelink.azurecr.io",),
        "tags": {"environment": "dev"},
    }
    base.update(overrides)
    return NetworkArgs(**base)  # type: ignore[arg-type]


def test_network_declares_subnets_inline_with_nsg_and_delegation(run_components) -> None:
    run = run_components(lambda: Network("net", _args()))
    vnet = run.named("net-vnet").inputs
    assert vnet["addressSpace"]["addressPrefixes"] == ["10.0.0.0/16"]
    subnets = {s["name"]: s for s in vnet["subnets"]}
    assert subnets["snet-nodes"]["addressPrefix"] == "10.0.0.0/20"
    assert subnets["snet-nodes"]["networkSecurityGroup"]["id"].endswith("/nsg-n")
    assert subnets["snet-nodes"]["defaultOutboundAccess"] is False
    assert "networkSecurityGroup" not in subnets["snet-api"]
    assert subnets["snet-api"]["delegations"][0]["serviceName"] == (
        "Microsoft.ContainerService/managedClusters"
    )
    assert len(run.of_type("azure-native:network:NetworkSecurityGroup")) == 1


def test_network_links_each_private_dns_zone_to_the_vnet(run_components) -> None:
    run = run_components(lambda: Network("net", _args()))
    zone = run.named("net-dns-privatelink-azurecr-io").inputs
    assert zone["privateZoneName"] == "privatelink.azurecr.io"
    assert zone["location"] == "global"
    link = run.named("net-dns-privatelink-azurecr-io-link").inputs
    assert link["registrationEnabled"] is False
    assert link["virtualNetwork"]["id"].endswith("/virtualNetworks/vnet-unit")


def test_network_creates_no_dns_zone_when_none_requested(run_components) -> None:
    run = run_components(lambda: Network("net", _args(private_dns_zones=())))
    assert run.of_type("azure-native:privatedns:PrivateZone") == []
    assert run.named("net-rg").inputs["resourceGroupName"] == RG


OTHER_SUBSCRIPTION = "00000000-0000-4000-8000-000000000009"
RUNNERS = (
    f"/subscriptions/{OTHER_SUBSCRIPTION}/resourceGroups/rg-runners/providers/"
    "Microsoft.Network/virtualNetworks/vnet-runners"
)
SAME_SUBSCRIPTION_RUNNERS = RUNNERS.replace(OTHER_SUBSCRIPTION, SUBSCRIPTION_ID)
PROVIDER = "pulumi:providers:azure-native"


def test_network_peers_both_directions_with_listed_vnets(run_components) -> None:
    run = run_components(lambda: Network("net", _args(peerings={"runners": RUNNERS})))
    out = run.named("net-peering-runners").inputs
    back = run.named("net-peering-runners-back").inputs
    vnet = run.named("net-vnet")
    assert (out["resourceGroupName"], out["virtualNetworkName"]) == (RG, "vnet-unit")
    assert out["remoteVirtualNetwork"]["id"] == RUNNERS
    assert (back["resourceGroupName"], back["virtualNetworkName"]) == ("rg-runners", "vnet-runners")
    assert back["remoteVirtualNetwork"]["id"] == vnet.id
    for peering in (out, back):
        assert peering["allowVirtualNetworkAccess"] is True
        assert peering["allowForwardedTraffic"] is False
        assert peering["useRemoteGateways"] is False


def test_network_creates_no_peering_by_default(run_components) -> None:
    run = run_components(lambda: Network("net", _args()))
    assert run.of_type("azure-native:network:VirtualNetworkPeering") == []


def test_network_back_peering_in_another_subscription_uses_its_provider(run_components) -> None:
    run = run_components(lambda: Network("net", _args(peerings={"runners": RUNNERS})))
    (provider,) = run.of_type(PROVIDER)
    assert provider.inputs["subscriptionId"] == OTHER_SUBSCRIPTION
    back = run.named("net-peering-runners-back")
    assert back.provider.startswith(provider.urn + "::"), back.provider
    # This VNet's own peering stays in the deployer's subscription.
    assert run.named("net-peering-runners").provider == ""


def test_network_back_peering_in_the_same_subscription_uses_the_default_provider(
    run_components,
) -> None:
    run = run_components(
        lambda: Network("net", _args(peerings={"runners": SAME_SUBSCRIPTION_RUNNERS}))
    )
    assert run.of_type(PROVIDER) == []
    back = run.named("net-peering-runners-back")
    # No explicit provider reference: the engine's default azure-native provider.
    assert back.provider == "", back.provider


NAT = "azure-native:network:NatGateway"
PIP = "azure-native:network:PublicIPAddress"
ROUTES = "azure-native:network:RouteTable"
EGRESS_NAMES = {
    "nat_gateway_name": "ng-unit",
    "public_ip_name": "pip-unit-egress",
    "route_table_name": "rt-unit-nodes",
}


def _nodes_subnet(run) -> dict:
    subnets = {s["name"]: s for s in run.named("net-vnet").inputs["subnets"]}
    return subnets["snet-nodes"]


def test_network_load_balancer_egress_creates_nothing(run_components) -> None:
    run = run_components(lambda: Network("net", _args()))
    assert run.of_type(NAT) == run.of_type(PIP) == run.of_type(ROUTES) == []
    assert "natGateway" not in _nodes_subnet(run)
    assert "routeTable" not in _nodes_subnet(run)


def test_network_nat_gateway_on_the_nodes_subnet_zone_redundant_ip(run_components) -> None:
    run = run_components(
        lambda: Network("net", _args(egress="natGateway", zones=["1", "2", "3"], **EGRESS_NAMES))
    )
    (nat,) = run.of_type(NAT)
    (ip,) = run.of_type(PIP)
    assert nat.inputs["sku"] == {"name": "Standard"}
    # A Standard NAT gateway is zonal: with several cluster zones Azure picks its zone and the
    # IP is zone-redundant (accepted by a no-zone gateway).
    assert "zones" not in nat.inputs
    assert ip.inputs["zones"] == ["1", "2", "3"]
    assert ip.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert ip.inputs["publicIPAllocationMethod"] == "Static"
    assert nat.inputs["publicIpAddresses"] == [{"id": ip.id}]
    assert _nodes_subnet(run)["natGateway"] == {"id": nat.id}
    subnets = {s["name"]: s for s in run.named("net-vnet").inputs["subnets"]}
    assert "natGateway" not in subnets["snet-api"]
    assert nat.urn in run.named("net-vnet").dependencies


def test_network_nat_gateway_single_zone_pins_gateway_and_ip(run_components) -> None:
    run = run_components(
        lambda: Network("net", _args(egress="natGateway", zones=["2"], **EGRESS_NAMES))
    )
    (nat,) = run.of_type(NAT)
    (ip,) = run.of_type(PIP)
    assert nat.inputs["zones"] == ["2"]
    assert ip.inputs["zones"] == ["2"]


def test_network_user_defined_routing_sends_default_route_to_the_firewall(
    run_components,
) -> None:
    run = run_components(
        lambda: Network(
            "net",
            _args(egress="userDefinedRouting", firewall_private_ip="10.100.0.4", **EGRESS_NAMES),
        )
    )
    (table,) = run.of_type(ROUTES)
    assert table.inputs["routeTableName"] == "rt-unit-nodes"
    assert table.inputs["routes"] == [
        {
            "name": "default-via-firewall",
            "addressPrefix": "0.0.0.0/0",
            "nextHopType": "VirtualAppliance",
            "nextHopIpAddress": "10.100.0.4",
        }
    ]
    assert _nodes_subnet(run)["routeTable"] == {"id": table.id}
    assert run.of_type(NAT) == []


def test_network_private_endpoint_spec_uses_the_endpoint_subnet_and_the_zone(
    run_components,
) -> None:
    subnets = {
        "nodes": SubnetSpec(name="snet-nodes", address_prefix="10.0.0.0/20"),
        "privateEndpoints": SubnetSpec(name="snet-pep", address_prefix="10.0.16.0/24"),
    }
    seen: dict[str, str] = {}

    def body() -> None:
        net = Network("net", _args(subnets=subnets))
        spec = net.private_endpoint("privatelink.azurecr.io", "registry")
        assert spec.group_id == "registry"
        pulumi.Output.from_input(spec.subnet_resource_id).apply(
            lambda v: seen.__setitem__("subnet", v)
        )
        pulumi.Output.from_input(spec.private_dns_zone_resource_id).apply(
            lambda v: seen.__setitem__("zone", v)
        )

    run_components(body)
    assert seen["subnet"].endswith("/virtualNetworks/vnet-unit/subnets/snet-pep")
    assert seen["zone"].endswith(
        "/providers/Microsoft.Network/privateDnsZones/privatelink.azurecr.io"
    )


def test_network_egress_resources_named_placed_and_tagged(run_components) -> None:
    nat_run = run_components(
        lambda: Network("net", _args(egress="natGateway", zones=["1", "2"], **EGRESS_NAMES))
    )
    (nat,) = nat_run.of_type(NAT)
    (ip,) = nat_run.of_type(PIP)
    assert nat.inputs["natGatewayName"] == "ng-unit"
    assert ip.inputs["publicIpAddressName"] == "pip-unit-egress"
    # https://learn.microsoft.com/azure/nat-gateway/nat-gateway-resource : a NAT gateway
    # takes IPv4 Standard public IPs only; TCP idle timeout 4 minutes is Azure's default.
    assert ip.inputs["publicIPAddressVersion"] == "IPv4"
    assert nat.inputs["idleTimeoutInMinutes"] == 4
    udr_run = run_components(
        lambda: Network(
            "net",
            _args(egress="userDefinedRouting", firewall_private_ip="10.100.0.4", **EGRESS_NAMES),
        )
    )
    (table,) = udr_run.of_type(ROUTES)
    for resource in (nat, ip, table):
        assert resource.inputs["location"] == "westeurope"
        assert resource.inputs["resourceGroupName"] == RG
        assert resource.inputs["tags"] == {"environment": "dev"}
