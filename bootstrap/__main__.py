"""The bootstrap program: state backend, secrets key and CI identities of one subscription.

Run once per subscription, from a laptop with Owner (or Contributor + Role Based Access
Control Administrator) on it, with a local state: its own state is small and can be
re-imported. Config is validated in full before any resource is registered.
"""

import pulumi
from pulumi_azure_native import authorization

from bootstrap.config import PREVIEW, from_pulumi_config
from bootstrap.identities import GITHUB_ISSUER, CiIdentity, CiIdentityArgs, Federation
from bootstrap.roles import assignable_role_ids
from bootstrap.state import StateBackend, StateBackendArgs

config = from_pulumi_config()
client = authorization.get_client_config_output()
subscription_resource_id = pulumi.Output.concat("/subscriptions/", client.subscription_id)
tags = {"managed-by": "pulumi", "purpose": "pulumi-state-and-ci", **config.tags}

state = StateBackend(
    "state",
    StateBackendArgs(
        location=config.location,
        resource_group_name=config.resource_group_name,
        storage_account_name=config.state_storage_account_name,
        storage_sku=config.state_storage_sku,
        container_name=config.state_container_name,
        blob_soft_delete_days=config.blob_soft_delete_days,
        container_soft_delete_days=config.container_soft_delete_days,
        key_vault_name=config.key_vault_name,
        soft_delete_retention_days=config.key_vault_soft_delete_retention_days,
        key_name=config.secrets_key_name,
        tenant_id=client.tenant_id,
        subscription_resource_id=subscription_resource_id,
        operator_group_object_ids=config.operator_group_object_ids,
        tags=tags,
    ),
)


def _federations(key: str) -> list[Federation]:
    repo = config.github.repository
    # GitHub's subject for a job with `environment:` is ...:environment:<name>; a pull-request
    # job without one is ...:pull_request. Drift detection runs in the `drift` environment.
    github = (
        [
            Federation(
                key="github-pull-request", issuer=GITHUB_ISSUER, subject=f"repo:{repo}:pull_request"
            ),
            Federation(
                key="github-drift", issuer=GITHUB_ISSUER, subject=f"repo:{repo}:environment:drift"
            ),
        ]
        if key == PREVIEW
        else [
            Federation(
                key="github-environment",
                issuer=GITHUB_ISSUER,
                subject=f"repo:{repo}:environment:{key}",
            ),
        ]
    )
    ado = config.identities[key].azure_devops
    if ado is not None:
        github.append(Federation(key="azure-devops", issuer=ado.issuer, subject=ado.subject))
    return github


identities = {
    key: CiIdentity(
        f"ci-{key}",
        CiIdentityArgs(
            identity_name=config.identities[key].name,
            resource_group_name=state.resource_group_name,
            location=config.location,
            federations=_federations(key),
            deploy=key != PREVIEW,
            subscription_resource_id=subscription_resource_id,
            state_container_resource_id=state.container_resource_id,
            secrets_key_resource_id=state.key_resource_id,
            assignable_role_ids=assignable_role_ids(),
            tags=tags,
        ),
    )
    for key in [PREVIEW, *config.environments]
}

pulumi.export("backendUrl", state.backend_url)
pulumi.export("secretsProvider", state.secrets_provider)
pulumi.export("tenantId", client.tenant_id)
pulumi.export("subscriptionId", client.subscription_id)
pulumi.export(
    "identities",
    {
        key: {"clientId": i.client_id, "principalId": i.principal_id}
        for key, i in identities.items()
    },
)
