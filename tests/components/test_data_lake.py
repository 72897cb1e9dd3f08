"""DataLake: Entra-only ADLS Gen2, soft delete (no versioning), containers, private endpoints."""

from __future__ import annotations

import pulumi
import pytest

from components.data.data_lake import DEFAULT_CONTAINERS, DataLake, DataLakeArgs
from components.kit.shared import PrivateEndpointSpec
from tests.components.helpers import PEP_SUBNET_ID, RG, SUB

ACCOUNT = "stunittest"
ACCOUNT_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/"
    f"storageAccounts/{ACCOUNT}"
)
ZONES = {
    group: f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/"
    f"privateDnsZones/privatelink.{group}.core.windows.net"
    for group in ("blob", "dfs")
}
STORAGE = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
PEP = "azure-native:network:PrivateEndpoint"


def _endpoints(*groups: str) -> dict[str, PrivateEndpointSpec]:
    return {
        f"pep-unit-st{group}": PrivateEndpointSpec(
            subnet_resource_id=PEP_SUBNET_ID,
            private_dns_zone_resource_id=ZONES[group],
            group_id=group,
        )
        for group in groups
    }


def _lake(run_components, **overrides: object):
    base: dict[str, object] = {
        "resource_group_name": RG,
        "location": "westeurope",
        "account_name": ACCOUNT,
        "blob_soft_delete_days": 14,
        "container_soft_delete_days": 21,
    }
    base.update(overrides)

    def body() -> None:
        lake = DataLake("lake", DataLakeArgs(**base))  # type: ignore[arg-type]
        pulumi.export("containerIds", lake.container_resource_ids)
        pulumi.export("blob", lake.blob_endpoint)
        pulumi.export("dfs", lake.dfs_endpoint)
        pulumi.export("name", lake.name)
        pulumi.export("id", lake.resource_id)

    return run_components(body)


def test_data_lake_account_is_entra_only_adls_gen2(run_components) -> None:
    account = _lake(run_components).named("lake-account").inputs
    assert account["kind"] == "StorageV2"
    assert account["isHnsEnabled"] is True
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["allowCrossTenantReplication"] is False
    assert account["defaultToOAuthAuthentication"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["sku"] == {"name": "Standard_LRS"}


def test_data_lake_blob_service_soft_deletes_without_versioning(run_components) -> None:
    service = _lake(run_components).named("lake-blob-service").inputs
    # Versioning is unsupported with a hierarchical namespace; soft delete is the recovery.
    assert service["isVersioningEnabled"] is False
    assert service["blobServicesName"] == "default"
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 14}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 21}


def test_data_lake_creates_the_four_private_containers_by_key(run_components) -> None:
    run = _lake(run_components)
    containers = {r.name: r.inputs for r in run.of_type(CONTAINER)}
    assert set(containers) == {f"lake-{key}" for key in DEFAULT_CONTAINERS}
    assert {c["containerName"] for c in containers.values()} == {
        "raw",
        "curated",
        "documents",
        "mlflow-artifacts",
    }
    assert all(c["publicAccess"] == "None" for c in containers.values())
    assert all(c["accountName"] == ACCOUNT for c in containers.values())


def test_data_lake_outputs_container_ids_and_endpoints(run_components) -> None:
    outputs = _lake(run_components).outputs
    assert outputs["containerIds"]["mlflow-artifacts"] == (
        f"{ACCOUNT_ID}/blobServices/default/containers/mlflow-artifacts"
    )
    assert set(outputs["containerIds"]) == set(DEFAULT_CONTAINERS)
    assert outputs["blob"] == f"https://{ACCOUNT}.blob.core.windows.net/"
    assert outputs["dfs"] == f"https://{ACCOUNT}.dfs.core.windows.net/"
    assert (outputs["name"], outputs["id"]) == (ACCOUNT, ACCOUNT_ID)


def test_data_lake_private_endpoints_disable_public_access_when_given(run_components) -> None:
    run = _lake(run_components, private_endpoints=_endpoints("blob", "dfs"))
    account = run.named("lake-account").inputs
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "AzureServices"}
    groups = {
        r.inputs["privateEndpointName"]: r.inputs["privateLinkServiceConnections"][0]
        for r in run.of_type(PEP)
    }
    assert {k: v["groupIds"] for k, v in groups.items()} == {
        "pep-unit-stblob": ["blob"],
        "pep-unit-stdfs": ["dfs"],
    }
    assert all(v["privateLinkServiceId"] == ACCOUNT_ID for v in groups.values())
    for group in ("blob", "dfs"):
        dns = run.named(f"lake-{group}-pep-dns").inputs
        assert dns["privateDnsZoneConfigs"][0]["privateDnsZoneId"] == ZONES[group]


def test_data_lake_without_private_endpoints_is_public_and_creates_none(run_components) -> None:
    run = _lake(run_components)
    account = run.named("lake-account").inputs
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["networkRuleSet"]["defaultAction"] == "Allow"
    assert run.of_type(PEP) == []


def test_data_lake_rejects_a_blob_endpoint_without_dfs(run_components) -> None:
    with pytest.raises(ValueError, match=r"must be exactly \['blob', 'dfs'\]"):
        _lake(run_components, private_endpoints=_endpoints("blob"))


def test_data_lake_protects_account_and_containers_when_asked(run_components) -> None:
    run = _lake(run_components, protect=True)
    protected = [run.named("lake-account"), *run.of_type(CONTAINER)]
    assert all((r.protect, r.retain_on_delete) == (True, True) for r in protected)
    assert run.named("lake-blob-service").protect is False


def test_data_lake_leaves_everything_unprotected_by_default(run_components) -> None:
    run = _lake(run_components)
    assert not any(r.protect or r.retain_on_delete for r in run.resources)
