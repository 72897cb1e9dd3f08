"""The well-known values (tests/unit/test_well_known_values.py) where the real program uses them.

Every stack's role assignments, federated credentials, workload identity wiring, private DNS
zones, add-ons, taints, host paths and CSI driver, checked against the documented literals.
"""

from __future__ import annotations

from typing import Any

from offline.runner import OfflineRun
from tests.conftest import STACKS
from tests.unit.test_well_known_values import (
    ADDON_AZURE_POLICY,
    ADDON_CONTAINER_INSIGHTS,
    ADDON_KEY_VAULT_CSI,
    CLIENT_ID_ANNOTATION,
    DEVICE_PLUGIN_HOST_PATH,
    GPU_TAINT,
    POSTGRES_ZONE_SUFFIX,
    PRIVATE_DNS_ZONES,
    ROLE,
    ROLE_IDS,
    SECRETS_STORE_DRIVER,
    SYSTEM_POOL_TAINT,
    TOKEN_EXCHANGE_AUDIENCE,
    USE_LABEL,
)


def _all(stack_runs: dict[str, OfflineRun], typ: str) -> list[Any]:
    return [r for stack in STACKS for r in stack_runs[stack].of_type(typ)]


def test_well_known_role_assignments_use_only_documented_role_ids(stack_runs) -> None:
    grants = _all(stack_runs, ROLE)
    assert grants
    documented = {guid for guid in ROLE_IDS.values()}
    for grant in grants:
        assert grant.inputs["roleDefinitionId"].rsplit("/", 1)[1] in documented, grant.name


def test_well_known_federated_credentials_use_the_token_exchange_audience(stack_runs) -> None:
    creds = _all(stack_runs, "azure-native:managedidentity:FederatedIdentityCredential")
    assert creds
    for cred in creds:
        assert cred.inputs["audiences"] == [TOKEN_EXCHANGE_AUDIENCE], cred.name


def test_well_known_workload_identity_annotation_and_pod_label(stack_runs) -> None:
    accounts = [
        r
        for r in _all(stack_runs, "kubernetes:core/v1:ServiceAccount")
        if CLIENT_ID_ANNOTATION in (r.inputs["metadata"].get("annotations") or {})
    ]
    assert accounts, "no service account carries the workload identity annotation"
    federated = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in accounts
    }
    for kind in ("apps/v1:Deployment", "apps/v1:StatefulSet", "batch/v1:Job"):
        for workload in _all(stack_runs, f"kubernetes:{kind}"):
            labels = workload.inputs["spec"]["template"]["metadata"]["labels"]
            account = workload.inputs["spec"]["template"]["spec"].get("serviceAccountName")
            key = (workload.inputs["metadata"]["namespace"], account)
            # A pod whose account has a client id gets the webhook's label; one without (the
            # model servers: MLflow proxies their artifacts) gets no token injected at all.
            if account and key in federated:
                assert labels.get(USE_LABEL) == "true", workload.name
            elif account:
                assert USE_LABEL not in labels, workload.name


def test_well_known_private_dns_zones_per_sub_resource(stack_runs) -> None:
    groups = _all(stack_runs, "azure-native:network:PrivateDnsZoneGroup")
    assert {c["name"] for g in groups for c in g.inputs["privateDnsZoneConfigs"]} == set(
        PRIVATE_DNS_ZONES
    )
    for group in groups:
        for config in group.inputs["privateDnsZoneConfigs"]:
            zone = config["privateDnsZoneId"].rsplit("/", 1)[1]
            assert zone == PRIVATE_DNS_ZONES[config["name"]], group.name
    endpoints = _all(stack_runs, "azure-native:network:PrivateEndpoint")
    for endpoint in endpoints:
        (connection,) = endpoint.inputs["privateLinkServiceConnections"]
        assert connection["groupIds"][0] in PRIVATE_DNS_ZONES, endpoint.name


def test_well_known_postgres_private_zone_suffix(stack_runs) -> None:
    for server in _all(stack_runs, "azure-native:dbforpostgresql:Server"):
        zone = server.inputs["network"]["privateDnsZoneArmResourceId"].rsplit("/", 1)[1]
        assert zone.endswith(POSTGRES_ZONE_SUFFIX), zone


def test_well_known_cluster_add_on_names(stack_runs) -> None:
    for cluster in _all(stack_runs, "azure-native:containerservice:ManagedCluster"):
        addons = set(cluster.inputs["addonProfiles"])
        assert {ADDON_AZURE_POLICY, ADDON_KEY_VAULT_CSI} <= addons
        assert addons <= {ADDON_AZURE_POLICY, ADDON_KEY_VAULT_CSI, ADDON_CONTAINER_INSIGHTS}
        assert cluster.inputs["addonProfiles"][ADDON_KEY_VAULT_CSI]["enabled"] is True


def test_well_known_taints(stack_runs) -> None:
    for cluster in _all(stack_runs, "azure-native:containerservice:ManagedCluster"):
        (system,) = cluster.inputs["agentPoolProfiles"]
        assert system["nodeTaints"] == [SYSTEM_POOL_TAINT]
    gpu_pools = [
        p
        for p in _all(stack_runs, "azure-native:containerservice:AgentPool")
        if "gpuProfile" in p.inputs
    ]
    assert gpu_pools
    for pool in gpu_pools:
        assert pool.inputs["nodeTaints"] == [GPU_TAINT], pool.name


def test_well_known_device_plugin_host_path_and_csi_driver(stack_runs) -> None:
    plugins = _all(stack_runs, "kubernetes:apps/v1:DaemonSet")
    assert plugins
    for ds in plugins:
        volumes = ds.inputs["spec"]["template"]["spec"]["volumes"]
        # The device plugin registers in the kubelet's device-plugins directory; the DCGM
        # exporter reads the kubelet's pod-resources socket
        # (https://kubernetes.io/docs/concepts/extend-kubernetes/compute-storage-net/device-plugins/).
        expected = (
            {"/var/lib/kubelet/pod-resources"}
            if ds.inputs["metadata"]["name"] == "dcgm-exporter"
            else {DEVICE_PLUGIN_HOST_PATH}
        )
        assert {v["hostPath"]["path"] for v in volumes if "hostPath" in v} == expected
    csi = [
        v["csi"]["driver"]
        for kind in ("apps/v1:Deployment", "apps/v1:StatefulSet", "batch/v1:Job")
        for w in _all(stack_runs, f"kubernetes:{kind}")
        for v in w.inputs["spec"]["template"]["spec"].get("volumes", [])
        if "csi" in v
    ]
    assert csi
    assert set(csi) == {SECRETS_STORE_DRIVER}
