"""Every image the stacks render comes through the stack's registry, and the pull path exists
before any pod uses it.

The walk is generic on purpose: any Kubernetes object the program registers (Deployments,
DaemonSets, StatefulSets, Jobs, CronJobs, and custom resources that embed pod templates, such
as KEDA ScaledJobs or KubeRay RayJobs) is searched for pod specs (a mapping with a
``containers`` list), so a new workload is covered without touching this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from offline.runner import OfflineRun, RecordedResource, load_stack_config, run_program
from tests.conftest import STACKS

REGISTRY = "azure-native:containerregistry:Registry"
CACHE_RULE = "azure-native:containerregistry:CacheRule"
CREDENTIAL_SET = "azure-native:containerregistry:CredentialSet"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
K8S_PROVIDER = "pulumi:providers:kubernetes"
# Built-in role ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
# The cache rules' repository mapping (target prefix in the registry -> upstream), as the
# wildcard rules read (https://learn.microsoft.com/azure/container-registry/wildcards-artifact-cache).
UPSTREAM_OF_PREFIX = {
    "dockerhub": "docker.io",
    "ghcr": "ghcr.io",
    "nvcr": "nvcr.io",
    "mcr": "mcr.microsoft.com",
}


def _pod_specs(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        if isinstance(value.get("containers"), list):
            yield value
            return
        for item in value.values():
            yield from _pod_specs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pod_specs(item)


def _images(run: OfflineRun) -> list[tuple[RecordedResource, str]]:
    """(object, image) for every container, init container and ephemeral container."""
    found = []
    for r in run.resources:
        if not r.type.startswith("kubernetes:"):
            continue
        for spec in _pod_specs(r.inputs):
            for group in ("initContainers", "containers", "ephemeralContainers"):
                found += [(r, str(c.get("image"))) for c in spec.get(group) or []]
    return found


def _login_server(run: OfflineRun) -> str:
    (registry,) = run.of_type(REGISTRY)
    return str(registry.outputs["loginServer"])


@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_image_comes_from_the_stack_registry(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    login = _login_server(run)
    images = _images(run)
    kinds = {r.type.rsplit(":", 1)[-1] for r, _ in images}
    assert {"Deployment", "Job"} <= kinds, kinds
    outside = [(r.name, image) for r, image in images if not image.startswith(f"{login}/")]
    assert outside == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_cached_image_has_a_cache_rule_to_its_upstream(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    login = _login_server(run)
    rules = {
        r.inputs["targetRepository"]: r.inputs["sourceRepository"] for r in run.of_type(CACHE_RULE)
    }
    seen = set()
    for _, image in _images(run):
        prefix = image.removeprefix(f"{login}/").split("/", 1)[0]
        if prefix not in UPSTREAM_OF_PREFIX:
            continue  # an image of the registry's own (built by CI)
        assert rules.get(f"{prefix}/*") == f"{UPSTREAM_OF_PREFIX[prefix]}/*", image
        seen.add(prefix)
    # psql (Docker Hub) and MLflow (GitHub) run in every stack.
    assert {"dockerhub", "ghcr"} <= seen


def _provider(run: OfflineRun, record: RecordedResource) -> RecordedResource:
    # A provider reference is `<urn>::<id>`; the URN itself contains `::`.
    urn = record.provider.rsplit("::", 1)[0]
    (provider,) = [r for r in run.resources if r.urn == urn]
    return provider


@pytest.mark.parametrize("stack", STACKS)
def test_order_cache_rules_and_acr_pull_exist_before_any_pod(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    # The kubelet pulls `<registry>/<prefix>/...` with its identity: the rule must exist (else
    # the repository is unknown) and AcrPull must be granted (else 401) before a pod starts.
    run = stack_runs[stack]
    rules = run.of_type(CACHE_RULE)
    acr_pull = [
        r
        for r in run.of_type(ROLE_ASSIGNMENT)
        if r.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{ACR_PULL}")
        and "/Microsoft.ContainerRegistry/registries/" in r.inputs["scope"]
    ]
    assert rules
    assert len(acr_pull) == 1
    owners = {r.urn: r for r, _ in _images(run)}
    assert owners
    for owner in owners.values():
        provider = _provider(run, owner)
        assert provider.type == K8S_PROVIDER
        for needed in [*rules, *acr_pull]:
            assert needed.urn in provider.dependencies, (owner.name, needed.name)


def _with_docker_hub_credentials(stack: str) -> OfflineRun:
    config, secrets = load_stack_config(stack)
    registry = json.loads(config["aks-mlops:registry"])
    registry["cacheCredentials"] = {
        "docker.io": {"usernameSecret": "dockerhub-user", "passwordSecret": "dockerhub-token"}
    }
    config["aks-mlops:registry"] = json.dumps(registry)
    return run_program(stack, config, secrets)


@pytest.fixture(scope="module")
def credentials_run() -> OfflineRun:
    return _with_docker_hub_credentials("prod")


def test_docker_hub_credential_set_reads_its_two_secrets_from_the_stack_vault(
    credentials_run: OfflineRun,
) -> None:
    run = credentials_run
    (vault,) = run.of_type("azure-native:keyvault:Vault")
    vault_uri = vault.outputs["properties"]["vaultUri"].rstrip("/")
    (creds,) = run.of_type(CREDENTIAL_SET)
    assert creds.inputs["loginServer"] == "docker.io"
    assert creds.inputs["identity"] == {"type": "SystemAssigned"}
    assert creds.inputs["authCredentials"] == [
        {
            "name": "Credential1",
            "usernameSecretIdentifier": f"{vault_uri}/secrets/dockerhub-user",
            "passwordSecretIdentifier": f"{vault_uri}/secrets/dockerhub-token",
        }
    ]
    principal = creds.outputs["identity"]["principalId"]
    grants = [r for r in run.of_type(ROLE_ASSIGNMENT) if r.inputs["principalId"] == principal]
    # Key Vault Secrets User on exactly those two secrets, nothing wider.
    assert sorted(g.inputs["scope"] for g in grants) == [
        f"{vault.id}/secrets/dockerhub-token",
        f"{vault.id}/secrets/dockerhub-user",
    ]
    for grant in grants:
        assert grant.inputs["roleDefinitionId"].endswith(
            f"/roleDefinitions/{KEY_VAULT_SECRETS_USER}"
        )
        assert grant.inputs["principalType"] == "ServicePrincipal"
    rules = {r.inputs["sourceRepository"]: r for r in run.of_type(CACHE_RULE)}
    docker = rules.pop("docker.io/*")
    assert docker.inputs["credentialSetResourceId"] == creds.id
    assert creds.id.rsplit("/", 2)[-2:] == ["credentialSets", "creds-dockerhub"]
    # Only Docker Hub signs in; the other upstreams stay anonymous.
    assert all("credentialSetResourceId" not in r.inputs for r in rules.values())
    # The identity can read the secrets before the rule's first pull uses them.
    for grant in grants:
        assert grant.urn in docker.dependencies, grant.name
    # No secret value is written by the program: the vault's secrets are the generated ones.
    names = {s.inputs["secretName"] for s in run.of_type("azure-native:keyvault:Secret")}
    assert not {"dockerhub-user", "dockerhub-token"} & names


def test_credential_set_grants_are_part_of_the_pull_path(credentials_run: OfflineRun) -> None:
    run = credentials_run
    (provider,) = run.of_type(K8S_PROVIDER)
    (docker,) = [
        r for r in run.of_type(CACHE_RULE) if r.inputs["sourceRepository"] == "docker.io/*"
    ]
    assert docker.urn in provider.dependencies
