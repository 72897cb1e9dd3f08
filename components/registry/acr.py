"""ContainerRegistry: Azure Container Registry with pull rights for the cluster.

Creates the registry (admin user off, anonymous pull off: Entra identities only),
its role assignments (e.g. AcrPull for the kubelet identity), and, when a private endpoint
is given, the endpoint with public network access disabled. Premium features (retention of
untagged manifests, zone redundancy, private link) follow the args.

Artifact cache (:mod:`components.registry.cache`): one wildcard cache rule per upstream
host; for an upstream that rate-limits anonymous pulls, a credential set whose user name and
password are Key Vault secret URIs, read by the credential set's system-assigned identity,
which gets Key Vault Secrets User on those two secrets only
(https://learn.microsoft.com/azure/container-registry/tutorial-enable-artifact-cache-auth-cli).
The secrets' values are an operator's to put in the vault; the program only names them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import containerregistry as acr

from components.kit.shared import (
    PrivateEndpointSpec,
    RoleAssignmentSpec,
    assign_role,
    create_private_endpoint,
    create_role_assignments,
    stateful_options,
)
from components.registry import cache


@dataclass(frozen=True, kw_only=True)
class CacheCredentialSpec:
    """Key Vault secrets ACR signs in to one upstream registry with."""

    key_vault_resource_id: pulumi.Input[str]
    """Resource id of the vault holding the secrets (the role assignments' scopes hang off it)."""
    key_vault_uri: pulumi.Input[str]
    """``https://<vault>.vault.azure.net/`` (the secret URIs start with it)."""
    username_secret_name: str
    """Secret holding the upstream user name."""
    password_secret_name: str
    """Secret holding the upstream password or access token."""


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
    rule for. Declaring a rule changes no pull: images are pulled through it when the
    manifests name ``<registry>/<prefix>/...`` (:func:`cache.through_registry`)."""
    cache_credentials: Mapping[str, CacheCredentialSpec] = field(default_factory=dict)
    """Upstream host (one of ``cache_upstreams``) -> the Key Vault secrets of a credential set
    its cache rule signs in with; other hosts are pulled anonymously."""
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
    pull_ready_ids: list[pulumi.Output[str]]
    """Ids of what a pod pulling from the registry needs: the role assignments (the kubelet's
    AcrPull) and the cache rules. Whatever applies pods waits for them."""

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
        grants = create_role_assignments(
            name=name, scope=registry.id, assignments=args.role_assignments, parent=self
        )
        rules = [
            self._create_cache_rule(name, args, registry, host) for host in args.cache_upstreams
        ]
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
        self.pull_ready_ids = [
            *(grants[key].id for key in sorted(grants)),
            *(rule.id for rule in rules),
        ]
        self.register_outputs(
            {"name": self.name, "resource_id": self.resource_id, "login_server": self.login_server}
        )

    def _create_cache_rule(
        self, name: str, args: ContainerRegistryArgs, registry: acr.Registry, host: str
    ) -> acr.CacheRule:
        """The host's wildcard cache rule, signed in through a credential set if configured."""
        credential_set_id: pulumi.Output[str] | None = None
        grants: list[pulumi.Resource] = []
        spec = args.cache_credentials.get(host)
        if spec is not None:
            credential_set_id, grants = self._create_credential_set(
                name, args, registry, host, spec
            )
        return acr.CacheRule(
            f"{name}-{cache.rule_name(host)}",
            cache_rule_name=cache.rule_name(host),
            registry_name=registry.name,
            resource_group_name=args.resource_group_name,
            source_repository=cache.source_repository(host),
            target_repository=cache.target_repository(host),
            credential_set_resource_id=credential_set_id,
            # The credential set's identity must read the secrets before the rule's first pull.
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )

    def _create_credential_set(
        self,
        name: str,
        args: ContainerRegistryArgs,
        registry: acr.Registry,
        host: str,
        spec: CacheCredentialSpec,
    ) -> tuple[pulumi.Output[str], list[pulumi.Resource]]:
        """A credential set reading ``spec``'s secrets, and its right to read exactly those."""
        vault_uri = pulumi.Output.from_input(spec.key_vault_uri)
        vault_id = pulumi.Output.from_input(spec.key_vault_resource_id)
        credential_set = acr.CredentialSet(
            f"{name}-{cache.credential_set_name(host)}",
            credential_set_name=cache.credential_set_name(host),
            registry_name=registry.name,
            resource_group_name=args.resource_group_name,
            login_server=host,
            identity=acr.IdentityPropertiesArgs(type=acr.ResourceIdentityType.SYSTEM_ASSIGNED),
            auth_credentials=[
                acr.AuthCredentialArgs(
                    name=acr.CredentialName.CREDENTIAL1,
                    # Versionless secret URIs: a rotated secret is picked up without a change.
                    username_secret_identifier=vault_uri.apply(
                        lambda uri: _secret_uri(uri, spec.username_secret_name)
                    ),
                    password_secret_identifier=vault_uri.apply(
                        lambda uri: _secret_uri(uri, spec.password_secret_name)
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        principal_id = credential_set.identity.apply(_principal_id)
        grants: list[pulumi.Resource] = [
            assign_role(
                f"{name}-{cache.credential_set_name(host)}-{role}",
                scope=pulumi.Output.concat(vault_id, "/secrets/", secret),
                role="Key Vault Secrets User",
                principal_id=principal_id,
                parent=self,
            )
            for role, secret in (
                ("username", spec.username_secret_name),
                ("password", spec.password_secret_name),
            )
        ]
        return credential_set.id, grants

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


def _secret_uri(vault_uri: str, secret: str) -> str:
    """``https://<vault>.vault.azure.net/secrets/<name>`` (no version: the latest one)."""
    return f"{vault_uri.rstrip('/')}/secrets/{secret}"


def _principal_id(identity: acr.outputs.IdentityPropertiesResponse | None) -> str:
    # Known once the credential set exists (ARM creates its system-assigned identity with it).
    if identity is None or not identity.principal_id:
        raise ValueError("the credential set has no system-assigned identity")
    return identity.principal_id
