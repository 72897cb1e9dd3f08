"""Clients of the local services, each with a short timeout and at most one retry.

Every service here runs on loopback and answers in milliseconds, so a client that waits longer
is looking at a broken configuration. The clients' defaults wait minutes before they give up
(MLflow: 120 s per request and 7 retries with exponential back-off; azure-storage-blob: 10
retries), which turned a broken artifact destination into an 11-minute ``make test``. With
these limits it fails in seconds; pytest-timeout (see conftest.py) is the backstop.
"""

from __future__ import annotations

from azure.storage.blob import BlobServiceClient
from services import CONNECT_TIMEOUT_S

READ_TIMEOUT_S = 30

# Read by MLflow's REST client (mlflow.environment_variables) on every request: the test
# process's client and the MLflow server's own outbound calls (artifact proxying) both use them.
MLFLOW_HTTP_ENV = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": str(READ_TIMEOUT_S),
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}
# libpq (psycopg 2 and 3, psql) reads it when a connection string sets no connect_timeout.
LIBPQ_ENV = {"PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_S)}


def blob_service(connection_string: str) -> BlobServiceClient:
    """A blob client of Azurite that gives up after one retry and short timeouts."""
    return BlobServiceClient.from_connection_string(
        connection_string,
        connection_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retry_total=1,
    )
