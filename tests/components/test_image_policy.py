"""AllowedImagesPolicy: the built-in "allowed images" definition on the cluster's scope."""

from __future__ import annotations

import re

from components.cluster.image_policy import AllowedImagesPolicy, AllowedImagesPolicyArgs
from tests.components.helpers import RG, SUB

CLUSTER = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}"
    "/providers/Microsoft.ContainerService/managedClusters/aks-unit"
)
# "Kubernetes cluster containers should only use allowed images", from the definition's JSON
# (Azure/azure-policy built-in-policies/policyDefinitions/Kubernetes/ContainerAllowedImages.json).
DEFINITION = (
    "/providers/Microsoft.Authorization/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
)


def _run(run_components, effect: str = "Audit"):
    return run_components(
        lambda: AllowedImagesPolicy(
            "allowed-images",
            AllowedImagesPolicyArgs(
                cluster_resource_id=CLUSTER,
                registry_login_server="crunit.azurecr.io",
                upstream_hosts=("docker.io", "ghcr.io"),
                effect=effect,
                assignment_name="allowed-container-images",
            ),
        )
    )


def test_assignment_of_the_built_in_definition_on_the_cluster(run_components) -> None:
    inputs = _run(run_components).named("allowed-images-assignment").inputs
    assert inputs["policyDefinitionId"] == DEFINITION
    assert inputs["scope"] == CLUSTER
    assert inputs["policyAssignmentName"] == "allowed-container-images"
    assert inputs["parameters"]["effect"] == {"value": "Audit"}


def test_deny_effect_is_passed_through(run_components) -> None:
    inputs = _run(run_components, "Deny").named("allowed-images-assignment").inputs
    assert inputs["parameters"]["effect"] == {"value": "Deny"}


def test_regex_allows_the_registry_and_the_named_upstreams_only(run_components) -> None:
    inputs = _run(run_components).named("allowed-images-assignment").inputs
    regex = re.compile(inputs["parameters"]["allowedContainerImagesRegex"]["value"])
    for image in (
        "crunit.azurecr.io/ghcr/mlflow/mlflow:v3.17.2-full",
        "docker.io/library/postgres:17.10-alpine",
        "ghcr.io/mlflow/mlflow:v3.17.2-full",
    ):
        assert regex.match(image), image
    for image in (
        "nvcr.io/nvidia/k8s-device-plugin:v0.18.0",
        "evil.azurecr.io/x:1",
        "crunitXazurecr.io/x:1",
        "docker.io.evil.com/x:1",
        "postgres:17",
    ):
        assert not regex.match(image), image
