"""Every well-known value the product uses, written here as a literal from the documentation.

These expectations never come from the product's own constants: a typo in a constant (AcrPush's
id where AcrPull's belongs, a wrong token audience, a misspelt add-on) must fail a test. Each
literal carries the page it was checked against. Other tests import the literals from here,
never the product's constants; tests/stacks/test_well_known_usage.py checks them on what the
real program registers for every stack (kept out of the fast unit suite).
"""

from __future__ import annotations

import pytest
import yaml

from components.kit.kubernetes import kubelogin_kubeconfig
from components.kit.shared import BUILT_IN_ROLES, role_definition_id
from offline.runner import run_callable

# Built-in role definition ids: the same in every tenant.
# https://learn.microsoft.com/azure/role-based-access-control/built-in-roles (per category:
# .../built-in-roles/containers, /networking, /storage, /security, /monitor)
ROLE_IDS: dict[str, str] = {
    # containers: "acr pull" / "acr push"
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "AcrPush": "8311e382-0749-4cb8-b61a-304f252e45ec",
    # networking
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    # storage
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    # security
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    # monitor
    "Monitoring Data Reader": "b0d8363b-8ddd-447d-831f-62ca05bff136",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Grafana Admin": "22926164-76b3-42b3-bc55-97df8dab3e41",
}

# Federated credentials for AKS workload identity use this audience.
# https://learn.microsoft.com/azure/aks/workload-identity-deploy-cluster
# ("az identity federated-credential create ... --audience api://AzureADTokenExchange")
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# The service account annotation and the pod label the workload identity webhook reads.
# https://learn.microsoft.com/azure/aks/workload-identity-overview#service-account-annotations
CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
USE_LABEL = "azure.workload.identity/use"

# The Entra application of the AKS API server: kubelogin's `--server-id` for every AKS cluster.
# https://learn.microsoft.com/azure/aks/kubelogin-authentication
AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"

# Private DNS zone names per private-link sub-resource.
# https://learn.microsoft.com/azure/private-link/private-endpoint-dns
PRIVATE_DNS_ZONES = {
    "registry": "privatelink.azurecr.io",
    "blob": "privatelink.blob.core.windows.net",
    "dfs": "privatelink.dfs.core.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "grafana": "privatelink.grafana.azure.com",
}
# A VNet-integrated PostgreSQL Flexible Server needs a zone ending in this (not privatelink.).
# https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private
POSTGRES_ZONE_SUFFIX = ".private.postgres.database.azure.com"

# AKS add-on profile keys (ARM `addonProfiles`).
# https://learn.microsoft.com/azure/aks/use-azure-policy and
# https://learn.microsoft.com/azure/aks/csi-secrets-store-driver
ADDON_AZURE_POLICY = "azurepolicy"
ADDON_KEY_VAULT_CSI = "azureKeyvaultSecretsProvider"
# Container Insights (https://learn.microsoft.com/azure/azure-monitor/containers/kubernetes-monitoring-enable).
ADDON_CONTAINER_INSIGHTS = "omsagent"

# Taints and labels.
# The NVIDIA device plugin advertises `nvidia.com/gpu`; GPU pools are tainted with that key
# so only pods that ask for GPUs land there (https://learn.microsoft.com/azure/aks/use-nvidia-gpu).
GPU_TAINT = "nvidia.com/gpu=present:NoSchedule"
GPU_TAINT_KEY = "nvidia.com/gpu"
# AKS adds this taint to every spot node itself.
# https://learn.microsoft.com/azure/aks/spot-node-pool
SPOT_TAINT = "kubernetes.azure.com/scalesetpriority=spot:NoSchedule"
SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
# System pool for critical add-ons only.
# https://learn.microsoft.com/azure/aks/use-system-pools
SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
# The kubelet's device-plugin registration directory.
# https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/
DEVICE_PLUGIN_HOST_PATH = "/var/lib/kubelet/device-plugins"
# The Secrets Store CSI driver name.
# https://learn.microsoft.com/azure/aks/csi-secrets-store-driver
SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io"

ROLE = "azure-native:authorization:RoleAssignment"


def role_id(subscription: str, role: str) -> str:
    """The full role definition id Azure expects for built-in ``role``."""
    return (
        f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{ROLE_IDS[role]}"
    )


def test_well_known_every_built_in_role_matches_the_documented_id() -> None:
    # Equality in both directions: a role added to the product must be checked and added here.
    assert BUILT_IN_ROLES == ROLE_IDS


@pytest.mark.parametrize("role", sorted(ROLE_IDS))
def test_well_known_role_definition_id_is_subscription_qualified(role: str) -> None:
    sub = "5a7b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
    scope = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s"
    seen: list[str] = []
    run_callable(lambda: role_definition_id(scope, role).apply(seen.append))
    assert seen == [role_id(sub, role)]


def test_well_known_kubelogin_uses_the_aks_server_application() -> None:
    raw = yaml.safe_dump({"users": [{"name": "clusterUser", "user": {"exec": {}}}]})
    (user,) = yaml.safe_load(kubelogin_kubeconfig(raw))["users"]
    args = user["user"]["exec"]["args"]
    assert args[args.index("--server-id") + 1] == AKS_AAD_SERVER_APP_ID
