"""Network config: VNet, subnets, and the overlay pod / service ranges.

Rules: every range is private (RFC 1918); subnets sit inside the VNet and do not overlap;
the overlay pod CIDR and the service CIDR overlap neither the VNet nor each other; the DNS
service IP is inside the service CIDR and is not its first address (reserved for the
``kubernetes`` service).
"""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Network
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

# Azure reserves 5 addresses per subnet; the API server subnet must be at least /28, the
# documented minimum (https://learn.microsoft.com/azure/aks/api-server-vnet-integration).
# AKS reserves at least nine of its addresses and needs more to scale the API server, so the
# shipped test/prod stacks use a /27; the rule stays at the minimum so that a deployed /28
# (whose delegated subnet cannot simply be resized) remains valid.
API_SERVER_SUBNET_MAX_PREFIX = 28
# A private endpoint subnet smaller than /28 leaves 11 usable addresses at most.
PRIVATE_ENDPOINT_SUBNET_MAX_PREFIX = 28
_VNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[A-Za-z0-9._()-]{1,90}"
    r"/providers/Microsoft\.Network/virtualNetworks/[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_]$"
)
_PEERING_KEY = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def _private(key: str, net: IPv4Network) -> None:
    if not net.is_private or net.is_loopback or net.is_link_local or net.is_multicast:
        raise rule_error(key, str(net), "must be a private (RFC 1918) range")


class SubnetsConfig(ConfigModel):
    """Subnets by stable role name. Reordering keys never replaces a subnet."""

    nodes: IPv4Network
    """AKS nodes (pods get overlay addresses, so this only needs room for nodes)."""
    private_endpoints: IPv4Network
    """Private endpoints of the registry, storage, Key Vault, ..."""
    api_server: IPv4Network | None = None
    """Delegated subnet for API server VNet integration; required when that is enabled."""
    postgres: IPv4Network | None = None
    """Delegated subnet for PostgreSQL Flexible Server private access."""

    def items(self) -> list[tuple[str, IPv4Network]]:
        """(camelCase key, range) for each configured subnet."""
        pairs = [
            ("nodes", self.nodes),
            ("privateEndpoints", self.private_endpoints),
            ("apiServer", self.api_server),
            ("postgres", self.postgres),
        ]
        return [(k, v) for k, v in pairs if v is not None]


class EgressConfig(ConfigModel):
    """How the nodes reach the internet (AKS outbound type).

    ``loadBalancer``: AKS's standard load balancer (default). ``natGateway``: a NAT gateway
    with a static public IP on the nodes subnet. ``userDefinedRouting``: all egress to an
    existing hub firewall at ``firewallPrivateIp`` (its VNet must be peered with this one and
    the firewall must allow AKS's required outbound traffic).
    """

    type: Literal["loadBalancer", "natGateway", "userDefinedRouting"] = "loadBalancer"
    firewall_private_ip: IPv4Address | None = None

    @model_validator(mode="after")
    def _firewall(self) -> Self:
        if self.type == "userDefinedRouting" and self.firewall_private_ip is None:
            raise rule_error(
                "firewallPrivateIp", None, "is required when type is userDefinedRouting"
            )
        if self.type != "userDefinedRouting" and self.firewall_private_ip is not None:
            raise rule_error(
                "firewallPrivateIp",
                str(self.firewall_private_ip),
                f"is only used when type is userDefinedRouting (type is {self.type})",
            )
        if self.firewall_private_ip is not None and not self.firewall_private_ip.is_private:
            raise rule_error(
                "firewallPrivateIp",
                str(self.firewall_private_ip),
                "must be a private address (the hub firewall's private IP)",
            )
        return self


class NetworkConfig(ConfigModel):
    """The VNet and the cluster's address plan."""

    vnet_cidr: IPv4Network
    subnets: SubnetsConfig
    pod_cidr: IPv4Network = IPv4Network("10.244.0.0/16")
    """Azure CNI overlay pod range; never routed in the VNet but must not overlap it."""
    service_cidr: IPv4Network = IPv4Network("172.16.0.0/16")
    dns_service_ip: IPv4Address = IPv4Address("172.16.0.10")
    peerings: dict[str, str] = Field(default_factory=dict)
    """VNets to peer with, by key -> VNet resource id: typically the CI runners' VNet, which
    must reach a private API server (the cluster's private DNS zone is linked to it too)."""
    egress: EgressConfig = Field(default_factory=EgressConfig)
    """How the nodes reach the internet."""

    @field_validator("peerings")
    @classmethod
    def _peerings(cls, value: dict[str, str]) -> dict[str, str]:
        for key, vnet_id in value.items():
            if not _PEERING_KEY.match(key):
                raise rule_error(key, key, "must be 1-31 lowercase letters, digits or '-'")
            if not _VNET_ID.match(vnet_id):
                raise rule_error(
                    key,
                    vnet_id,
                    "must be a VNet resource id (/subscriptions/<id>/resourceGroups/<rg>/"
                    "providers/Microsoft.Network/virtualNetworks/<name>)",
                )
        return value

    @model_validator(mode="after")
    def _check_address_plan(self) -> Self:
        _private("vnetCidr", self.vnet_cidr)
        _private("podCidr", self.pod_cidr)
        _private("serviceCidr", self.service_cidr)
        subnets = self.subnets.items()
        for key, net in subnets:
            if not net.subnet_of(self.vnet_cidr):
                raise rule_error(
                    f"subnets.{key}", str(net), f"must be inside vnetCidr ({self.vnet_cidr})"
                )
        for i, (key_a, net_a) in enumerate(subnets):
            for key_b, net_b in subnets[i + 1 :]:
                if net_a.overlaps(net_b):
                    raise rule_error(
                        f"subnets.{key_b}", str(net_b), f"overlaps subnets.{key_a} ({net_a})"
                    )
        if self.subnets.api_server and self.subnets.api_server.prefixlen > (
            API_SERVER_SUBNET_MAX_PREFIX
        ):
            raise rule_error(
                "subnets.apiServer", str(self.subnets.api_server), "must be /28 or larger"
            )
        if self.subnets.private_endpoints.prefixlen > PRIVATE_ENDPOINT_SUBNET_MAX_PREFIX:
            raise rule_error(
                "subnets.privateEndpoints",
                str(self.subnets.private_endpoints),
                "must be /28 or larger",
            )
        for key, net in (("podCidr", self.pod_cidr), ("serviceCidr", self.service_cidr)):
            if net.overlaps(self.vnet_cidr):
                raise rule_error(key, str(net), f"overlaps vnetCidr ({self.vnet_cidr})")
        if self.pod_cidr.overlaps(self.service_cidr):
            raise rule_error(
                "serviceCidr", str(self.service_cidr), f"overlaps podCidr ({self.pod_cidr})"
            )
        firewall = self.egress.firewall_private_ip
        if firewall is not None and firewall in self.vnet_cidr:
            raise rule_error(
                "egress.firewallPrivateIp",
                str(firewall),
                f"must be outside vnetCidr ({self.vnet_cidr}): the firewall lives in a hub VNet",
            )
        if self.dns_service_ip not in self.service_cidr:
            raise rule_error(
                "dnsServiceIp",
                str(self.dns_service_ip),
                f"must be inside serviceCidr ({self.service_cidr})",
            )
        if self.dns_service_ip in (
            self.service_cidr.network_address,
            self.service_cidr.network_address + 1,
        ):
            raise rule_error(
                "dnsServiceIp",
                str(self.dns_service_ip),
                "must not be the network address or the first address of serviceCidr "
                "(reserved for the kubernetes service)",
            )
        return self


class ApiServerConfig(ConfigModel):
    """How the Kubernetes API server is reached."""

    private_cluster_enabled: bool = False
    authorized_ip_ranges: list[IPv4Network] = Field(default_factory=list)
    """Public API server only: the CIDRs allowed to reach it. Never 0.0.0.0/0."""
    vnet_integration_enabled: bool = False
    """Project the API server into `subnets.apiServer` (no tunnel; private IP in the VNet)."""

    @model_validator(mode="after")
    def _check_access(self) -> Self:
        for i, net in enumerate(self.authorized_ip_ranges):
            if net.prefixlen == 0:
                raise rule_error(
                    f"authorizedIpRanges[{i}]", str(net), "must not open the API server to all"
                )
        if self.private_cluster_enabled and self.authorized_ip_ranges:
            raise rule_error(
                "authorizedIpRanges",
                [str(n) for n in self.authorized_ip_ranges],
                "must be empty when privateClusterEnabled is true (no public endpoint)",
            )
        if not self.private_cluster_enabled and not self.authorized_ip_ranges:
            raise rule_error(
                "authorizedIpRanges",
                [],
                "must list at least one CIDR when privateClusterEnabled is false",
            )
        return self
