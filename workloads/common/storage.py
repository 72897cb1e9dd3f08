"""Blob access for the workloads, signed in with ``azure-identity``.

In the cluster a workload reaches the data lake's blob endpoint
(:data:`contract.workloads.STORAGE_ACCOUNT_URL`) with ``DefaultAzureCredential``, which picks
up the federated token the workload identity webhook mounts: no account key anywhere. Tests
against Azurite set :data:`contract.workloads.STORAGE_CONNECTION_STRING` instead (Azurite
cannot check Entra tokens); the cluster never sets it.

A data-lake "move" is a copy then a delete of the source. ADLS Gen2's rename would be atomic,
but it needs the DFS endpoint, which Azurite does not serve; the copy is done through the
client (download, upload) so it needs no SAS for the source, and the delete only happens once
the copy is complete, so a crash leaves a duplicate (re-processed idempotently), never a loss.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from azure.core.exceptions import ResourceNotFoundError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient, ContainerClient

from contract import workloads as env

# Seconds: a blob call that hangs must fail the run, not hold the job until its deadline.
CONNECTION_TIMEOUT_S = 10
READ_TIMEOUT_S = 60


class SettingsError(ValueError):
    """A workload was started without a setting it needs (names the variable)."""


def require(environ: Mapping[str, str], name: str) -> str:
    """The value of ``name`` or a :class:`SettingsError` naming it."""
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required")
    return value


def blob_service(environ: Mapping[str, str] | None = None) -> BlobServiceClient:
    """The data lake's blob service: connection string (tests) or account URL + Entra."""
    environ = os.environ if environ is None else environ
    connection_string = environ.get(env.STORAGE_CONNECTION_STRING, "").strip()
    if connection_string:
        return BlobServiceClient.from_connection_string(
            connection_string,
            connection_timeout=CONNECTION_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
        )
    account_url = require(environ, env.STORAGE_ACCOUNT_URL)
    return BlobServiceClient(
        account_url,
        credential=DefaultAzureCredential(),
        connection_timeout=CONNECTION_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def list_names(container: ContainerClient, prefix: str) -> Iterator[str]:
    """Names of the blobs under ``prefix``, oldest name first; ADLS directory markers (empty
    blobs with ``hdi_isfolder=true``, listed by accounts with a hierarchical namespace) skipped."""
    for blob in container.list_blobs(name_starts_with=prefix, include=["metadata"]):
        if (blob.metadata or {}).get("hdi_isfolder") != "true":
            yield blob.name


def read_bytes(container: ContainerClient, name: str) -> bytes:
    """The whole content of one blob."""
    return container.download_blob(name).readall()


def move(container: ContainerClient, source: str, target: str) -> None:
    """Copy ``source`` to ``target`` (overwriting), then delete ``source``."""
    data = read_bytes(container, source)
    container.upload_blob(target, data, overwrite=True)
    # Another run may have moved it first: the copy above is the same content, nothing is lost.
    with contextlib.suppress(ResourceNotFoundError):
        container.delete_blob(source)
