"""Kubernetes plumbing: the kubelogin kubeconfig, the provider, Key Vault objects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from components.kit import kubernetes as kube
from components.kit.kubernetes import (
    KubeconfigError,
    cluster_provider,
    key_vault_objects,
    kubelogin_kubeconfig,
)
from offline.runner import MASK, OfflineRun
from tests.unit.test_well_known_values import AKS_AAD_SERVER_APP_ID

# The shape `az aks get-credentials` / listClusterUserCredentials(format=exec) returns for an
# Entra-enabled cluster: kubelogin in interactive device-code mode.
DEVICE_CODE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: aks-mlops-dev-weu
  cluster:
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
    server: https://aks-mlops-dev-weu-abcd.hcp.westeurope.azmk8s.io:443
contexts:
- name: aks-mlops-dev-weu
  context:
    cluster: aks-mlops-dev-weu
    user: clusterUser_rg-mlops-dev-weu_aks-mlops-dev-weu
current-context: aks-mlops-dev-weu
users:
- name: clusterUser_rg-mlops-dev-weu_aks-mlops-dev-weu
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id,
             6dae42f8-4368-4678-94ff-3960e28e3630, --client-id,
             80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id,
             00000000-0000-4000-8000-000000000002, --login, devicecode]
"""


def test_kubelogin_kubeconfig_signs_in_with_azure_cli_when_default() -> None:
    doc = yaml.safe_load(kubelogin_kubeconfig(DEVICE_CODE_KUBECONFIG))
    (user,) = doc["users"]
    plugin = user["user"]["exec"]

    assert user["name"] == "clusterUser_rg-mlops-dev-weu_aks-mlops-dev-weu"
    assert plugin["command"] == "kubelogin"
    assert plugin["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        AKS_AAD_SERVER_APP_ID,
    ]
    assert plugin["interactiveMode"] == "Never"
    assert "devicecode" not in yaml.safe_dump(doc)
    assert doc["clusters"] == yaml.safe_load(DEVICE_CODE_KUBECONFIG)["clusters"]
    assert doc["current-context"] == "aks-mlops-dev-weu"


def test_kubelogin_kubeconfig_uses_workload_identity_when_asked() -> None:
    doc = yaml.safe_load(kubelogin_kubeconfig(DEVICE_CODE_KUBECONFIG, "workloadidentity"))

    assert doc["users"][0]["user"]["exec"]["args"][1:3] == ["--login", "workloadidentity"]


@pytest.mark.parametrize(
    ("raw", "mode", "message"),
    [
        (DEVICE_CODE_KUBECONFIG, "devicecode", "login mode"),
        ("- just\n- a list\n", "azurecli", "not a mapping"),
        ("key: [unclosed", "azurecli", "not YAML"),
    ],
)
def test_kubelogin_kubeconfig_rejects_input_when_unusable(
    raw: str, mode: str, message: str
) -> None:
    with pytest.raises(KubeconfigError, match=message):
        kubelogin_kubeconfig(raw, mode)


def test_cluster_provider_keeps_kubeconfig_secret_when_built(
    run_components: Callable[[Callable[[], object]], OfflineRun],
) -> None:
    run = run_components(
        lambda: cluster_provider("k8s", resource_group_name="rg", cluster_name="aks")
    )
    (provider,) = run.of_type("pulumi:providers:kubernetes")

    assert provider.inputs["kubeconfig"] == MASK


def test_key_vault_objects_parse_as_string_array_when_rendered() -> None:
    rendered = key_vault_objects({"postgres-password": "pg-admin", "api-key": "qdrant-api-key"})
    array = yaml.safe_load(rendered)["array"]

    assert all(isinstance(item, str) for item in array)
    assert [yaml.safe_load(item) for item in array] == [
        {"objectName": "qdrant-api-key", "objectType": "secret", "objectAlias": "api-key"},
        {"objectName": "pg-admin", "objectType": "secret", "objectAlias": "postgres-password"},
    ]


def test_gpu_spot_placement_tolerates_both_taints_and_selects_the_pool() -> None:
    placement = kube.Placement(pool="gpua100", spot=True, gpu=True)
    # Taints the platform sets on GPU pools (nvidia.com/gpu=present:NoSchedule) and AKS sets on
    # spot pools (https://learn.microsoft.com/azure/aks/spot-node-pool).
    got = [(t.key, t.operator, t.value, t.effect) for t in placement.tolerations() or []]
    assert got == [
        ("nvidia.com/gpu", "Exists", None, "NoSchedule"),
        ("kubernetes.azure.com/scalesetpriority", "Equal", "spot", "NoSchedule"),
    ]
    assert placement.node_selector() == {"pool": "gpua100"}
    assert kube.Placement(pool="cpu").tolerations() is None
    assert kube.gpu_limits(2) == {"nvidia.com/gpu": "2"}
    assert kube.gpu_limits(0) == {}
    assert kube.gpu_limits(1) == {"nvidia.com/gpu": "1"}
