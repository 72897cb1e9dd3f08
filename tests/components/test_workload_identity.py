"""WorkloadIdentity: identity, federated credential for one service account, scoped roles."""

from __future__ import annotations

from components.identity.workload_identity import (
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from components.kit.shared import ScopedRoleAssignmentSpec
from tests.components.helpers import RG, SUB
from tests.unit.test_well_known_values import ROLE_IDS, TOKEN_EXCHANGE_AUDIENCE

ISSUER = "https://westeurope.oic.prod-aks.azure.com/tenant/issuer/"
CONTAINER = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/"
    "stunit/blobServices/default/containers/mlflow-artifacts"
)


def test_workload_identity_federates_one_service_account(run_components) -> None:
    run = run_components(
        lambda: WorkloadIdentity(
            "wi",
            WorkloadIdentityArgs(
                resource_group_name=RG,
                location="westeurope",
                identity_name="id-unit-mlflow",
                oidc_issuer_url=ISSUER,
                namespace="mlflow",
                service_account="mlflow",
                role_assignments={
                    "artifacts": ScopedRoleAssignmentSpec(
                        role="Storage Blob Data Contributor", scope=CONTAINER
                    )
                },
            ),
        )
    )
    fic = run.named("wi-federation").inputs
    assert fic["issuer"] == ISSUER
    assert fic["subject"] == "system:serviceaccount:mlflow:mlflow"
    assert fic["audiences"] == [TOKEN_EXCHANGE_AUDIENCE]
    assert fic["resourceName"] == "id-unit-mlflow"
    grant = run.named("wi-artifacts").inputs
    assert grant["scope"] == CONTAINER
    assert grant["roleDefinitionId"].endswith(ROLE_IDS["Storage Blob Data Contributor"])
    identity = run.named("wi-identity")
    assert grant["principalId"] == identity.outputs["principalId"]
    assert identity.urn in run.named("wi-artifacts").dependencies
