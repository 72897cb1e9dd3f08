"""workloads.common.storage against a real blob service (Azurite).

In the cluster the same functions run against the data lake with a workload-identity token;
only the client construction differs (connection string here), and that branch has its own
test below without any service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import ContainerClient

from workloads.common import storage
from workloads.common.storage import SettingsError

pytestmark = pytest.mark.integration


@pytest.fixture
def container(azurite_connection_string: str) -> Iterator[ContainerClient]:
    """A fresh container, reached the way a workload does (``blob_service`` from the env)."""
    service = storage.blob_service({"AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string})
    client = service.create_container(f"storage-{uuid.uuid4().hex[:12]}")
    yield client
    client.delete_container()


def test_list_names_returns_blobs_under_prefix_in_name_order_without_folder_markers(
    container: ContainerClient,
) -> None:
    for name in ("incoming/b.txt", "incoming/a/nested.md", "processed/x.txt", "incoming/c.pdf"):
        container.upload_blob(name, b"data")
    # What an account with a hierarchical namespace lists for a directory.
    container.upload_blob("incoming/a", b"", metadata={"hdi_isfolder": "true"})

    names = list(storage.list_names(container, "incoming/"))

    assert names == ["incoming/a/nested.md", "incoming/b.txt", "incoming/c.pdf"]


def test_read_bytes_returns_exact_content(container: ContainerClient) -> None:
    data = bytes(range(256)) * 1000
    container.upload_blob("incoming/blob.bin", data)

    assert storage.read_bytes(container, "incoming/blob.bin") == data


def test_move_copies_then_deletes_source_overwriting_target(container: ContainerClient) -> None:
    container.upload_blob("incoming/doc.md", b"new")
    container.upload_blob("processed/2026-11-27/doc.md", b"old")

    storage.move(container, "incoming/doc.md", "processed/2026-11-27/doc.md")

    assert list(storage.list_names(container, "incoming/")) == []
    assert storage.read_bytes(container, "processed/2026-11-27/doc.md") == b"new"


def test_move_raises_not_found_when_source_gone(container: ContainerClient) -> None:
    with pytest.raises(ResourceNotFoundError):
        storage.move(container, "incoming/missing.md", "processed/missing.md")

    assert list(storage.list_names(container, "processed/")) == []


def test_blob_service_uses_entra_credential_when_no_connection_string() -> None:
    service = storage.blob_service(
        {"AZURE_STORAGE_ACCOUNT_URL": "https://stmlopsdevweu1a2b.blob.core.windows.net"}
    )

    assert service.account_name == "stmlopsdevweu1a2b"
    assert isinstance(service.credential, DefaultAzureCredential)


def test_blob_service_names_missing_variable_when_neither_set() -> None:
    with pytest.raises(SettingsError, match="AZURE_STORAGE_ACCOUNT_URL is required"):
        storage.blob_service({})
