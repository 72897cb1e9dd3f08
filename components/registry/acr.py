"""ContainerRegistry: Azure Container Registry with pull rights for the cluster.

Creates the registry (admin user off, anonymous pull off: Entra identities only),
its role assignments (e.g. AcrPull for the kubelet identity), and, when a private endpoint
is given, the endpoint with public network access disabled. Premium features (retention of
untagged manifests, zone redundancy, private link) follow the args.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerregistry as acr

from components.kit.shared import (
    PrivateEndpointSpec,
    RoleAssignmentSpec,
    create_private_endpoint,
    create_role_assignments,
    stateful_options,
)
from components.registry import cache


@dataclass(frozen=True, kw_only=True)
class ContainerRegistryArgs:
    """Inputs of :class:`ContainerRegistry`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the registry."""
    location: str
    """Azure region."""
    registry_name: str
    """Globally unique registry name (5-50 alphanumerics)."""
    sku: str = "Basic"
    """``Basic``, ``Standard`` or ``Premium``."""
    retention_days: int | None = None
    """Premium: days to keep untagged manifests; None keeps them."""
    zone_redundancy_enabled: bool = False
    """Premium: spread the registry across zones."""
    private_endpoint: PrivateEndpointSpec | None = None
    """Premium: reach the registry privately and disable public network access."""
    private_endpoint_name: str | None = None
    """Name of the private endpoint (with ``private_endpoint``)."""
    role_assignments: Mapping[str, RoleAssignmentSpec] = field(default_factory=dict)
    """Roles granted on the registry, by stable key."""
    cache_upstreams: Sequence[str] = ()
    """Upstream hosts (keys of :data:`cache.TARGET_PREFIXES`) to declare a wildcard cache
    rule for. Declaring a rule changes no pull: images are pulled through it only once the
    manifests name ``<registry>/<prefix>/...``."""
    protect: bool = False
    """``protect`` + ``retain_on_delete`` on the registry (it holds the images)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every resource."""


class ContainerRegistry(pulumi.ComponentResource):
    """Container registry, role assignments, optional private endpoint."""

    name: pulumi.Output[str]
    """Name of the registry."""
    resource_id: pulumi.Output[str]
    """Resource id of the registry."""
    login_server: pulumi.Output[str]
    """``<name>.azurecr.io``."""

    def __init__(
        self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:registry:ContainerRegistry", name, None, opts)
        private = args.private_endpoint is not None
        registry = acr.Registry(
            f"{name}-registry",
            registry_name=args.registry_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            sku=acr.SkuArgs(name=args.sku),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access="Disabled" if private else "Enabled",
            network_rule_bypass_options="AzureServices",
            zone_redundancy="Enabled" if args.zone_redundancy_enabled else "Disabled",
            policies=self._policies(args),
            tags=dict(args.tags),
            opts=stateful_options(self, args.protect),
        )
        create_role_assignments(
            name=name, scope=registry.id, assignments=args.role_assignments, parent=self
        )
        for host in args.cache_upstreams:
            acr.CacheRule(
                f"{name}-{cache.rule_name(host)}",
                cache_rule_name=cache.rule_name(host),
                registry_name=registry.name,
                resource_group_name=args.resource_group_name,
                source_repository=cache.source_repository(host),
                target_repository=cache.target_repository(host),
                opts=pulumi.ResourceOptions(parent=self),
            )
        if args.private_endpoint is not None:
            create_private_endpoint(
                name=name,
                endpoint_name=args.private_endpoint_name or f"pep-{args.registry_name}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                target_resource_id=registry.id,
                spec=args.private_endpoint,
                tags=args.tags,
                parent=self,
            )
        self.name = registry.name
        self.resource_id = registry.id
        self.login_server = registry.login_server
        self.register_outputs(
            {"name": self.name, "resource_id": self.resource_id, "login_server": self.login_server}
        )

    @staticmethod
    def _policies(args: ContainerRegistryArgs) -> acr.PoliciesArgs:
        premium = args.sku == "Premium"
        return acr.PoliciesArgs(
            # ARM-audience tokens stay allowed: the AKS kubelet credential provider exchanges
            # an ARM token for image pulls, and pulls fail when the policy is disabled
            # (kubernetes-sigs/cloud-provider-azure#8592, Azure/AKS#4560). Set explicitly so
            # an Azure Policy "Modify" effect shows up as drift.
            azure_ad_authentication_as_arm_policy=acr.AzureADAuthenticationAsArmPolicyArgs(
                status="enabled"
            ),
            retention_policy=acr.RetentionPolicyArgs(days=args.retention_days, status="enabled")
            if premium and args.retention_days is not None
            else None,
            # Export (az acr import/export of images out of a private registry) off when private.
            export_policy=acr.ExportPolicyArgs(status="disabled")
            if premium and args.private_endpoint is not None
            else None,
        )
