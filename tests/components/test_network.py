"""Network component: resource group, VNet with inline subnets, NSGs, private DNS zones."""

from __future__ import annotations

import pulumi

from components.network.vnet import Network, NetworkArgs, SubnetSpec
from tests.components.helpers import RG


def _args(**overrides: object) -> NetworkArgs:
    base: dict[str, object] = {
        "location": "westeurope",
        "resource_group_name": RG,
        "vnet_name": "vnet-unit",
        "address_space": "10.0.0.0/16",
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


RUNNERS = (
    "/subscriptions/00000000-0000-4000-8000-000000000009/resourceGroups/rg-runners/providers/"
    "Microsoft.Network/virtualNetworks/vnet-runners"
)


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
