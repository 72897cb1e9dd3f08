"""Every rule of the policy pack: compliant, non-compliant and not applicable.

Each row gives a resource as the engine would pass it (type, wire-name props, options) and
what the rule must say: ``[]`` (compliant), a list of message fragments (violations), or
``None`` (not applicable). The props are written here by hand from the Azure / Kubernetes
API shapes, not taken from the program.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policies.rules import ALL_RULES, check, validation_args

CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
ACR = "azure-native:containerregistry:Registry"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
PSQL = "azure-native:dbforpostgresql:Server"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"
TAGS = {"environment": "prod", "owner": "team", "workload": "mlops", "managed-by": "pulumi"}
DEV_TAGS = {**TAGS, "environment": "dev"}

GOOD_CLUSTER: dict[str, Any] = {
    "disableLocalAccounts": True,
    "aadProfile": {"managed": True, "enableAzureRBAC": True},
    "apiServerAccessProfile": {"enablePrivateCluster": True},
    "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {"workloadIdentity": {"enabled": True}},
    "networkProfile": {"networkPolicy": "cilium"},
    "tags": TAGS,
}
GPU_POOL: dict[str, Any] = {
    "vmSize": "Standard_NC24ads_A100_v4",
    "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
    "enableAutoScaling": True,
    "minCount": 0,
    "maxCount": 4,
    "tags": TAGS,
}
CONTAINER: dict[str, Any] = {
    "name": "app",
    "image": "myacr.azurecr.io/app:1.4.2",
    "securityContext": {"runAsNonRoot": True},
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
    "env": [{"name": "DB_PASSWORD_FILE", "value": "/mnt/secrets/db"}],
}


def deployment(**container: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{**CONTAINER, **container}]}}}}


def with_(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (dotted) set to ``value`` (None deletes)."""
    out = copy.deepcopy(base)
    node = out
    *parents, last = path.split(".")
    for step in parents:
        node = node.setdefault(step, {})
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return out


# (rule, resource type, props, options, expected)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], list[str] | None]] = [
    ("aks-gpu-pools-tainted", POOL, GPU_POOL, {}, []),
    ("aks-gpu-pools-tainted", POOL, with_(GPU_POOL, "nodeTaints", []), {}, ["no nvidia.com/gpu"]),
    (
        "aks-gpu-pools-tainted",
        POOL,
        with_(GPU_POOL, "nodeTaints", ["nvidia.com/gpu=present:PreferNoSchedule"]),
        {},
        ["no nvidia.com/gpu"],
    ),
    ("aks-gpu-pools-tainted", POOL, with_(GPU_POOL, "vmSize", "Standard_D8ds_v5"), {}, None),
    ("aks-gpu-pools-tainted", POOL, with_(GPU_POOL, "vmSize", "Standard_NG8ads_V620_v1"), {}, None),
    ("aks-gpu-pools-scale-from-zero", POOL, GPU_POOL, {}, []),
    (
        "aks-gpu-pools-scale-from-zero",
        POOL,
        with_(GPU_POOL, "minCount", 1),
        {},
        ["scale from zero"],
    ),
    (
        "aks-gpu-pools-scale-from-zero",
        POOL,
        with_(GPU_POOL, "enableAutoScaling", False),
        {},
        ["scale from zero"],
    ),
    ("aks-gpu-pools-scale-from-zero", CLUSTER, GOOD_CLUSTER, {}, None),
    ("aks-local-accounts-disabled", CLUSTER, GOOD_CLUSTER, {}, []),
    (
        "aks-local-accounts-disabled",
        CLUSTER,
        with_(GOOD_CLUSTER, "disableLocalAccounts", None),
        {},
        ["disableLocalAccounts true"],
    ),
    ("aks-local-accounts-disabled", POOL, GPU_POOL, {}, None),
    ("aks-entra-rbac-enabled", CLUSTER, GOOD_CLUSTER, {}, []),
    (
        "aks-entra-rbac-enabled",
        CLUSTER,
        with_(GOOD_CLUSTER, "aadProfile.enableAzureRBAC", False),
        {},
        ["enableAzureRBAC"],
    ),
    ("aks-entra-rbac-enabled", ACR, {}, {}, None),
    ("aks-api-server-not-public", CLUSTER, GOOD_CLUSTER, {}, []),
    (
        "aks-api-server-not-public",
        CLUSTER,
        with_(GOOD_CLUSTER, "apiServerAccessProfile", {"authorizedIPRanges": ["198.51.100.0/24"]}),
        {},
        [],
    ),
    (
        "aks-api-server-not-public",
        CLUSTER,
        with_(GOOD_CLUSTER, "apiServerAccessProfile", {}),
        {},
        ["public to every address"],
    ),
    (
        "aks-api-server-not-public",
        CLUSTER,
        with_(GOOD_CLUSTER, "apiServerAccessProfile", {"authorizedIPRanges": ["0.0.0.0/0"]}),
        {},
        ["contains 0.0.0.0/0"],
    ),
    ("aks-api-server-not-public", POOL, GPU_POOL, {}, None),
    ("aks-workload-identity-enabled", CLUSTER, GOOD_CLUSTER, {}, []),
    (
        "aks-workload-identity-enabled",
        CLUSTER,
        with_(GOOD_CLUSTER, "oidcIssuerProfile.enabled", False),
        {},
        ["oidcIssuerProfile.enabled"],
    ),
    ("aks-workload-identity-enabled", STORAGE, {}, {}, None),
    ("aks-network-policy-set", CLUSTER, GOOD_CLUSTER, {}, []),
    (
        "aks-network-policy-set",
        CLUSTER,
        with_(GOOD_CLUSTER, "networkProfile", {}),
        {},
        ["networkPolicy"],
    ),
    ("aks-network-policy-set", VAULT, {}, {}, None),
    ("acr-admin-user-disabled", ACR, {"adminUserEnabled": False}, {}, []),
    ("acr-admin-user-disabled", ACR, {"adminUserEnabled": True}, {}, ["adminUserEnabled false"]),
    ("acr-admin-user-disabled", ACR, {}, {}, ["adminUserEnabled false"]),
    ("acr-admin-user-disabled", STORAGE, {}, {}, None),
    ("acr-anonymous-pull-disabled", ACR, {"anonymousPullEnabled": False}, {}, []),
    ("acr-anonymous-pull-disabled", ACR, {"anonymousPullEnabled": True}, {}, ["anonymousPull"]),
    ("acr-anonymous-pull-disabled", CLUSTER, {}, {}, None),
    ("storage-shared-key-disabled", STORAGE, {"allowSharedKeyAccess": False}, {}, []),
    ("storage-shared-key-disabled", STORAGE, {}, {}, ["allowSharedKeyAccess false"]),
    ("storage-shared-key-disabled", ACR, {}, {}, None),
    ("storage-public-blob-access-disabled", STORAGE, {"allowBlobPublicAccess": False}, {}, []),
    (
        "storage-public-blob-access-disabled",
        STORAGE,
        {"allowBlobPublicAccess": True},
        {},
        ["allowBlobPublicAccess false"],
    ),
    ("storage-public-blob-access-disabled", VAULT, {}, {}, None),
    ("storage-min-tls-1-2", STORAGE, {"minimumTlsVersion": "TLS1_2"}, {}, []),
    ("storage-min-tls-1-2", STORAGE, {"minimumTlsVersion": "TLS1_0"}, {}, ["TLS1_2"]),
    ("storage-min-tls-1-2", PSQL, {}, {}, None),
    ("key-vault-rbac-enabled", VAULT, {"properties": {"enableRbacAuthorization": True}}, {}, []),
    (
        "key-vault-rbac-enabled",
        VAULT,
        {"properties": {"enableRbacAuthorization": False}},
        {},
        ["enableRbacAuthorization true"],
    ),
    ("key-vault-rbac-enabled", STORAGE, {}, {}, None),
    (
        "key-vault-purge-protection-in-prod",
        VAULT,
        {"properties": {"enablePurgeProtection": True}, "tags": TAGS},
        {},
        [],
    ),
    (
        "key-vault-purge-protection-in-prod",
        VAULT,
        {"properties": {}, "tags": TAGS},
        {},
        ["enablePurgeProtection true"],
    ),
    ("key-vault-purge-protection-in-prod", VAULT, {"properties": {}, "tags": DEV_TAGS}, {}, None),
    (
        "postgres-ha-in-prod",
        PSQL,
        {"highAvailability": {"mode": "ZoneRedundant"}, "tags": TAGS},
        {},
        [],
    ),
    (
        "postgres-ha-in-prod",
        PSQL,
        {"highAvailability": {"mode": "Disabled"}, "tags": TAGS},
        {},
        ["ZoneRedundant"],
    ),
    ("postgres-ha-in-prod", PSQL, {"tags": DEV_TAGS}, {}, None),
    (
        "postgres-geo-backup-in-prod",
        PSQL,
        {"backup": {"geoRedundantBackup": "Enabled"}, "tags": TAGS},
        {},
        [],
    ),
    (
        "postgres-geo-backup-in-prod",
        PSQL,
        {"backup": {"geoRedundantBackup": "Disabled"}, "tags": TAGS},
        {},
        ["geoRedundantBackup Enabled"],
    ),
    ("postgres-geo-backup-in-prod", STORAGE, {"tags": TAGS}, {}, None),
    (
        "stateful-resources-protected-in-prod",
        STORAGE,
        {"tags": TAGS},
        {"protect": True, "retain_on_delete": True},
        [],
    ),
    (
        "stateful-resources-protected-in-prod",
        PSQL,
        {"tags": TAGS},
        {"protect": False, "retain_on_delete": True},
        ["Protect this resource"],
    ),
    (
        "stateful-resources-protected-in-prod",
        VAULT,
        {"tags": TAGS},
        {"protect": True, "retain_on_delete": False},
        ["Retain this resource"],
    ),
    ("stateful-resources-protected-in-prod", STORAGE, {"tags": DEV_TAGS}, {}, None),
    ("stateful-resources-protected-in-prod", POOL, {"tags": TAGS}, {}, None),
    ("azure-required-tags", STORAGE, {"tags": TAGS}, {}, []),
    ("azure-required-tags", STORAGE, {}, {}, ["environment, owner, workload, managed-by"]),
    ("azure-required-tags", POOL, {"tags": {**TAGS, "owner": " "}}, {}, ["Add the tags owner "]),
    ("azure-required-tags", "azure-native:storage:BlobContainer", {}, {}, None),
    ("k8s-images-pinned", DEPLOYMENT, deployment(), {}, []),
    ("k8s-images-pinned", DEPLOYMENT, deployment(image=f"r.io/a@sha256:{'a' * 64}"), {}, []),
    ("k8s-images-pinned", DEPLOYMENT, deployment(image="r.io/a:latest"), {}, ["not pinned"]),
    ("k8s-images-pinned", DEPLOYMENT, deployment(image="r.io/a"), {}, ["not pinned"]),
    ("k8s-images-pinned", DEPLOYMENT, deployment(image="r.io/a:stable"), {}, ["not pinned"]),
    (
        "k8s-images-pinned",
        CRONJOB,
        {
            "spec": {
                "jobTemplate": {
                    "spec": {
                        "template": {"spec": {"containers": [{**CONTAINER, "image": "a:main"}]}}
                    }
                }
            }
        },
        {},
        ["'a:main' is not pinned"],
    ),
    ("k8s-images-pinned", "kubernetes:core/v1:Service", {}, {}, None),
    ("k8s-images-from-acr", DEPLOYMENT, deployment(), {}, []),
    (
        "k8s-images-from-acr",
        DEPLOYMENT,
        deployment(image="crmlops1a2b.azurecr.io/ghcr/mlflow/mlflow:v3.17.2-full"),
        {},
        [],
    ),
    (
        "k8s-images-from-acr",
        DEPLOYMENT,
        deployment(image="ghcr.io/mlflow/mlflow:v3.17.2-full"),
        {},
        ["image 'ghcr.io/mlflow/mlflow:v3.17.2-full' is not pulled from an Azure Container"],
    ),
    (
        "k8s-images-from-acr",
        DEPLOYMENT,
        deployment(image="postgres:17.10-alpine"),
        {},
        ["'postgres:17.10-alpine' is not pulled from an Azure Container Registry"],
    ),
    (
        "k8s-images-from-acr",
        DEPLOYMENT,
        deployment(image="myacr.azurecr.io.evil.example/app:1.0"),
        {},
        ["is not pulled from an Azure Container Registry"],
    ),
    ("k8s-images-from-acr", "kubernetes:core/v1:Service", {}, {}, None),
    ("k8s-no-plaintext-secret-env", DEPLOYMENT, deployment(), {}, []),
    (
        "k8s-no-plaintext-secret-env",
        DEPLOYMENT,
        deployment(env=[{"name": "DB_PASSWORD", "value": "hunter2"}]),
        {},
        ["env DB_PASSWORD carries a literal value"],
    ),
    (
        "k8s-no-plaintext-secret-env",
        DEPLOYMENT,
        deployment(
            env=[{"name": "api_key", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k"}}}]
        ),
        {},
        [],
    ),
    ("k8s-no-plaintext-secret-env", "kubernetes:core/v1:ConfigMap", {}, {}, None),
    ("k8s-containers-non-root-with-limits", DEPLOYMENT, deployment(), {}, []),
    (
        "k8s-containers-non-root-with-limits",
        DEPLOYMENT,
        deployment(securityContext={}),
        {},
        ["runAsNonRoot true"],
    ),
    (
        "k8s-containers-non-root-with-limits",
        DEPLOYMENT,
        deployment(resources={"limits": {"memory": "1Gi"}}),
        {},
        ["limits cpu and memory"],
    ),
    (
        "k8s-containers-non-root-with-limits",
        DEPLOYMENT,
        with_(
            deployment(securityContext={}),
            "spec.template.spec.securityContext",
            {"runAsNonRoot": True},
        ),
        {},
        [],
    ),
    (
        "k8s-containers-non-root-with-limits",
        DEPLOYMENT,
        with_(
            deployment(securityContext={}),
            "metadata",
            {
                "annotations": {
                    "policy.aks-mlops.io/k8s-containers-non-root-with-limits": "needs root"
                }
            },
        ),
        {},
        None,
    ),
    (
        "k8s-containers-non-root-with-limits",
        DEPLOYMENT,
        with_(
            deployment(securityContext={}),
            "metadata",
            {"annotations": {"policy.aks-mlops.io/k8s-containers-non-root-with-limits": " "}},
        ),
        {},
        ["runAsNonRoot true"],
    ),
    (
        "k8s-no-secret-objects",
        "kubernetes:core/v1:Secret",
        {"data": {}},
        {},
        ["Do not create a Secret"],
    ),
    ("k8s-no-secret-objects", "kubernetes:core/v1:ConfigMap", {}, {}, None),
    (
        "k8s-no-public-load-balancer",
        "kubernetes:core/v1:Service",
        {
            "spec": {"type": "LoadBalancer"},
            "metadata": {
                "annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
            },
        },
        {},
        [],
    ),
    (
        "k8s-no-public-load-balancer",
        "kubernetes:core/v1:Service",
        {"spec": {"type": "LoadBalancer"}},
        {},
        ["azure-load-balancer-internal"],
    ),
    (
        "k8s-no-public-load-balancer",
        "kubernetes:core/v1:Service",
        {"spec": {"type": "ClusterIP"}},
        {},
        None,
    ),
]
RULES = {r.name: r for r in ALL_RULES}


@pytest.mark.parametrize(
    ("rule", "typ", "props", "opts", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_policy_rule_verdict(
    rule: str, typ: str, props: dict[str, Any], opts: dict[str, Any], expected: list[str] | None
) -> None:
    args = validation_args(resource_type=typ, props=props, name="r", **opts)
    messages = check(RULES[rule], args)
    if expected is None:
        assert messages is None, f"{rule} should not apply, said {messages}"
        return
    assert messages is not None, f"{rule} should apply"
    assert len(messages) == len(expected), messages
    for message, fragment in zip(messages, expected, strict=True):
        assert fragment in message


def test_policy_every_rule_has_all_three_verdicts() -> None:
    verdicts: dict[str, set[str]] = {name: set() for name in RULES}
    for rule, *_, expected in CASES:
        kind = "na" if expected is None else "ok" if expected == [] else "violation"
        verdicts[rule].add(kind)
    # A Secret is never compliant: that rule has no compliant case by design.
    verdicts["k8s-no-secret-objects"].add("ok")
    incomplete = {n: v for n, v in verdicts.items() if v != {"na", "ok", "violation"}}
    assert not incomplete, (
        f"rules missing a compliant/non-compliant/not-applicable case: {incomplete}"
    )


def test_policy_pack_has_at_least_twenty_unique_kebab_rules() -> None:
    names = [r.name for r in ALL_RULES]
    assert len(names) >= 20
    assert len(set(names)) == len(names)
    assert all(n == n.lower() and " " not in n and "_" not in n for n in names)
