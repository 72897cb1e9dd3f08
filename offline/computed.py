"""Computed outputs the mocks return: what Azure fills in after creating a resource.

Used by :class:`offline.runner.OfflineMocks` so inputs that depend on these values (endpoints,
identities) are realistic in the offline plan and the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

TENANT_ID = "00000000-0000-4000-8000-000000000002"
# Managed Grafana endpoints carry a short region code (e.g. weu for westeurope).
_GRAFANA_REGIONS = {"westeurope": "weu", "northeurope": "neu", "eastus": "eus"}


def stable_uuid(*parts: str) -> str:
    """A UUID derived from ``parts`` (the same inputs always give the same id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def registry_computed(typ: str, name: str, rid: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's login server; a credential set's system-assigned identity."""
    if typ == "azure-native:containerregistry:Registry":
        return {"loginServer": f"{name}.azurecr.io"}
    if typ == "azure-native:containerregistry:CredentialSet":
        # ARM creates the identity with the credential set (it reads the Key Vault secrets).
        return {
            "identity": {
                **dict(inputs.get("identity") or {}),
                "principalId": stable_uuid(rid, "principal"),
                "tenantId": TENANT_ID,
            }
        }
    return {}


def data_layer_computed(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Endpoints Azure computes for the storage account, the vault and the server."""
    if typ == "azure-native:storage:StorageAccount":
        return {
            "primaryEndpoints": {
                service: f"https://{name}.{service}.core.windows.net/"
                for service in ("blob", "dfs", "queue", "table", "file", "web")
            }
        }
    if typ == "azure-native:keyvault:Vault":
        properties = dict(inputs.get("properties") or {})
        return {"properties": {**properties, "vaultUri": f"https://{name}.vault.azure.net/"}}
    if typ == "azure-native:dbforpostgresql:Server":
        return {"fullyQualifiedDomainName": f"{name}.postgres.database.azure.com"}
    if typ == "azure-native:keyvault:Key":
        return {"keyUri": f"https://{inputs.get('vaultName')}.vault.azure.net/keys/{name}"}
    return {}


def monitoring_computed(typ: str, name: str, rid: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Endpoints and identities Azure computes for the monitoring resources."""
    location = inputs.get("location")
    if typ == "azure-native:operationalinsights:Workspace":
        return {"customerId": stable_uuid(rid, "customer")}
    if typ == "azure-native:monitor:AzureMonitorWorkspace":
        return {
            "metrics": {
                "internalId": f"mac_{stable_uuid(rid)}",
                "prometheusQueryEndpoint": f"https://{name}-{stable_uuid(rid)[:8]}"
                f".{location}.prometheus.monitor.azure.com",
            }
        }
    if typ == "azure-native:dashboard:Grafana":
        properties = dict(inputs.get("properties") or {})
        identity = dict(inputs.get("identity") or {})
        region = _GRAFANA_REGIONS.get(str(location), "reg")
        return {
            "properties": {
                **properties,
                "endpoint": f"https://{name}-{stable_uuid(rid)[:8]}.{region}.grafana.azure.com",
            },
            "identity": {
                **identity,
                "principalId": stable_uuid(rid, "principal"),
                "tenantId": TENANT_ID,
            },
        }
    return {}
