"""Microsoft Defender for Containers per stack: the cluster's sensor and the subscription plan.

Literals from Azure's documentation: the AKS security profile
(https://learn.microsoft.com/rest/api/aks/managed-clusters/create-or-update#managedclustersecurityprofiledefender)
and the Defender for Cloud pricing of the ``Containers`` plan
(https://learn.microsoft.com/rest/api/defenderforcloud/pricings/update).
"""

from __future__ import annotations

import pytest

from offline.runner import SUBSCRIPTION_ID, OfflineRun

CLUSTER = "azure-native:containerservice:ManagedCluster"
PRICING = "azure-native:security:Pricing"
WORKSPACE = "azure-native:operationalinsights:Workspace"


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_defender_sensor_reports_into_the_stack_workspace(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (cluster,) = run.of_type(CLUSTER)
    (workspace,) = run.of_type(WORKSPACE)
    assert cluster.inputs["securityProfile"]["defender"] == {
        "logAnalyticsWorkspaceResourceId": workspace.id,
        "securityMonitoring": {"enabled": True},
    }
    assert workspace.urn in cluster.dependencies


@pytest.mark.parametrize(("stack", "protect"), [("test", False), ("prod", True)])
def test_defender_containers_plan_is_standard_on_the_subscription_and_survives_destroy(
    stack_runs: dict[str, OfflineRun], stack: str, protect: bool
) -> None:
    (plan,) = stack_runs[stack].of_type(PRICING)
    assert plan.inputs == {
        "pricingName": "Containers",
        "pricingTier": "Standard",
        "scopeId": f"subscriptions/{SUBSCRIPTION_ID}",
    }
    assert plan.id == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Security/pricings/Containers"
    )
    # Subscription-wide: destroying one stack must never switch Defender off for the others.
    assert plan.retain_on_delete is True
    assert plan.protect is protect


def test_dev_runs_without_defender(stack_runs: dict[str, OfflineRun]) -> None:
    run = stack_runs["dev"]
    (cluster,) = run.of_type(CLUSTER)
    assert "defender" not in cluster.inputs["securityProfile"]
    assert run.of_type(PRICING) == []
