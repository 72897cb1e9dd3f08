"""DefenderForContainers: the subscription's Microsoft Defender for Containers plan.

Creates the ``Containers`` pricing of Microsoft Defender for Cloud at the ``Standard`` tier on
the stack's subscription (``Microsoft.Security/pricings``, API 2024-01-01; scope
``subscriptions/<id>``: https://learn.microsoft.com/rest/api/defenderforcloud/pricings/update).
The cluster side, the Defender sensor reporting into Log Analytics, is the cluster's
``securityProfile.defender`` (:class:`components.cluster.aks.AksCluster`).

The plan belongs to the **subscription**, not to the stack: other stacks and other teams'
clusters in the same subscription are covered by it too. So it is always
``retain_on_delete``: destroying a stack, or turning ``security.defenderEnabled`` off, leaves
the plan as it is instead of silently downgrading everyone's protection (turning it off is a
deliberate act in Defender for Cloud). ``protect`` (prod) additionally makes Pulumi refuse to
remove it from the program without an explicit unprotect.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import security

CONTAINERS_PLAN = "Containers"
STANDARD_TIER = "Standard"


@dataclass(frozen=True, kw_only=True)
class DefenderForContainersArgs:
    """Inputs of :class:`DefenderForContainers`."""

    subscription_id: str
    """Subscription whose Defender for Containers plan is set."""
    protect: bool = False
    """``protect`` on the plan (it is always ``retain_on_delete``)."""


class DefenderForContainers(pulumi.ComponentResource):
    """The subscription's Defender for Containers plan at the Standard tier."""

    name: pulumi.Output[str]
    """Name of the pricing (``Containers``)."""
    resource_id: pulumi.Output[str]
    """Resource id of the pricing."""

    def __init__(
        self,
        name: str,
        args: DefenderForContainersArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("aks-mlops:cluster:DefenderForContainers", name, None, opts)
        pricing = security.Pricing(
            f"{name}-containers",
            pricing_name=CONTAINERS_PLAN,
            pricing_tier=STANDARD_TIER,
            scope_id=f"subscriptions/{args.subscription_id}",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=True),
        )
        self.name = pricing.name
        self.resource_id = pricing.id
        self.register_outputs({"name": self.name, "resource_id": self.resource_id})
