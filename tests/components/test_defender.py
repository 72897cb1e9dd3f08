"""DefenderForContainers: the subscription's Containers plan, Standard tier, never deleted."""

from __future__ import annotations

import pytest

from components.cluster.defender import DefenderForContainers, DefenderForContainersArgs
from tests.components.helpers import SUB


@pytest.mark.parametrize("protect", [False, True])
def test_defender_plan_is_standard_on_the_subscription(run_components, protect: bool) -> None:
    run = run_components(
        lambda: DefenderForContainers(
            "defender", DefenderForContainersArgs(subscription_id=SUB, protect=protect)
        )
    )
    (plan,) = run.of_type("azure-native:security:Pricing")
    # https://learn.microsoft.com/rest/api/defenderforcloud/pricings/update : plan name
    # `Containers`, tier `Standard`, scope `subscriptions/{subscriptionId}`.
    assert plan.inputs == {
        "pricingName": "Containers",
        "pricingTier": "Standard",
        "scopeId": f"subscriptions/{SUB}",
    }
    assert plan.retain_on_delete is True
    assert plan.protect is protect
    assert plan.parent == run.named("defender").urn
