"""KEDA triggers of the workflows (pure): ``azure-blob`` for waiting blobs, ``prometheus`` for
the degradation queries.

Metadata keys are KEDA 2.16's, the version the AKS add-on runs
(https://keda.sh/docs/2.16/scalers/azure-storage-blob/,
https://keda.sh/docs/2.16/scalers/prometheus/). Every value is a string: KEDA's trigger
metadata is a ``map[string]string``.

Activation: a scaler is active only while its metric is *above* its activation value, and a
ScaledJob starts ``ceil(metric / target)`` Jobs, capped by ``maxReplicaCount``
(https://keda.sh/docs/2.16/concepts/scaling-jobs/). So a blob threshold of N means
``blobCount: N`` and ``activationBlobCount: N-1``: nothing runs while fewer than N blobs wait.
A prometheus threshold T means ``threshold: T`` and ``activationThreshold: T``: nothing runs
until the query's value exceeds T.
"""

from __future__ import annotations

from typing import Any

import pulumi

AZURE_BLOB = "azure-blob"
PROMETHEUS = "prometheus"
INCOMING_PREFIX = "incoming/"
"""New blobs wait here; the workloads move each processed blob elsewhere, so the count drops."""
AZURE_PUBLIC_CLOUD = "AzurePublicCloud"


def azure_blob_trigger(
    *,
    account_name: pulumi.Input[str],
    container: str,
    threshold: int,
    auth_name: str,
    name: str,
) -> dict[str, Any]:
    """Count the blobs under ``<container>/incoming/`` (all depths) as the account's workload
    identity sees them; start a Job per ``threshold`` waiting blobs, none below it."""
    if threshold < 1:
        raise ValueError(f"blob threshold {threshold} must be >= 1")
    return {
        "type": AZURE_BLOB,
        "name": name,
        "metadata": {
            "accountName": account_name,
            "blobContainerName": container,
            "blobPrefix": INCOMING_PREFIX,
            # A batch or a document set may be a folder: count every blob below the prefix.
            "recursive": "true",
            "blobCount": str(threshold),
            "activationBlobCount": str(threshold - 1),
            "cloud": AZURE_PUBLIC_CLOUD,
        },
        "authenticationRef": {"name": auth_name},
    }


def prometheus_trigger(
    *,
    server_address: pulumi.Input[str],
    query: str,
    threshold: float,
    auth_name: str,
    name: str,
) -> dict[str, Any]:
    """Run ``query`` against the Azure Monitor workspace; start a Job once it exceeds
    ``threshold``. No ``authModes``: with Azure workload identity KEDA takes no other
    authentication (KEDA 2.16 prometheus scaler, "Azure Monitor Managed Service for
    Prometheus")."""
    value = f"{threshold:g}"
    return {
        "type": PROMETHEUS,
        "name": name,
        "metadata": {
            "serverAddress": server_address,
            "query": query,
            "threshold": value,
            "activationThreshold": value,
            # A series nobody exports yet reads as 0: a fresh stack does not retrain.
            "ignoreNullValues": "true",
        },
        "authenticationRef": {"name": auth_name},
    }


def trigger_authentication_spec(client_id: pulumi.Input[str]) -> dict[str, Any]:
    """Workload identity for KEDA's own calls (no keys, no connection strings): the operator
    exchanges its token for ``client_id``'s, which must be federated with the operator's
    service account."""
    return {"podIdentity": {"provider": "azure-workload", "identityId": client_id}}
