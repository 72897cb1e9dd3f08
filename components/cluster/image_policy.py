"""AllowedImagesPolicy: Azure Policy restricting the cluster's container images to named registries.

Assigns the built-in definition "Kubernetes cluster containers should only use allowed
images" on the cluster's own scope. The Azure Policy add-on (``azurepolicy``, on by default
here) enforces it in the cluster through Gatekeeper: ``Audit`` reports non-compliant pods,
``Deny`` rejects them at admission. The definition id and its parameters
(``effect``: audit/Audit/deny/Deny/disabled/Disabled; ``allowedContainerImagesRegex``) are
from the definition's JSON (Azure/azure-policy, built-in-policies/policyDefinitions/
Kubernetes/ContainerAllowedImages.json); https://learn.microsoft.com/azure/aks/policy-reference
lists it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

ALLOWED_IMAGES_DEFINITION_ID = (
    "/providers/Microsoft.Authorization/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
)


def images_regex(registries: Sequence[str]) -> str:
    """``^(host1|host2)/.+$``: an image whose reference starts with one of the hosts."""
    alternatives = "|".join(re.escape(r) for r in registries)
    return f"^({alternatives})/.+$"


@dataclass(frozen=True, kw_only=True)
class AllowedImagesPolicyArgs:
    """Inputs of :class:`AllowedImagesPolicy`."""

    cluster_resource_id: pulumi.Input[str]
    """The AKS cluster (the assignment's scope)."""
    registry_login_server: pulumi.Input[str]
    """The stack's registry, always allowed (``<name>.azurecr.io``)."""
    upstream_hosts: Sequence[str]
    """Upstream registries still allowed while the manifests pull from them."""
    effect: str
    """``Audit``, ``Deny`` or ``Disabled``."""
    assignment_name: str
    """Name of the assignment (unique at its scope)."""


class AllowedImagesPolicy(pulumi.ComponentResource):
    """The allowed-images policy assignment on the cluster."""

    assignment_id: pulumi.Output[str]
    """Resource id of the assignment."""

    def __init__(
        self, name: str, args: AllowedImagesPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:cluster:AllowedImagesPolicy", name, None, opts)
        regex = pulumi.Output.from_input(args.registry_login_server).apply(
            lambda server: images_regex([server, *args.upstream_hosts])
        )
        assignment = authorization.PolicyAssignment(
            f"{name}-assignment",
            policy_assignment_name=args.assignment_name,
            display_name="Kubernetes cluster containers should only use allowed images",
            scope=args.cluster_resource_id,
            policy_definition_id=ALLOWED_IMAGES_DEFINITION_ID,
            parameters={
                "effect": authorization.ParameterValuesValueArgs(value=args.effect),
                "allowedContainerImagesRegex": authorization.ParameterValuesValueArgs(value=regex),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.assignment_id = assignment.id
        self.register_outputs({"assignment_id": self.assignment_id})
