"""Readable one-line settings per resource type, for the offline plan's summary.

Only what a reviewer needs to judge a change (sizes, counts, exposure, tiers); the full
inputs are in ``build/<stack>/plan.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.shared import BUILT_IN_ROLES
from infra.offline import RecordedResource

_ROLE_NAMES = {guid: name for name, guid in BUILT_IN_ROLES.items()}

Summarizer = Callable[[Mapping[str, Any]], list[str]]


def _count(value: Any) -> str:
    return str(int(value)) if isinstance(value, int | float) else "?"


def _zones(inputs: Mapping[str, Any]) -> str:
    zones = inputs.get("availabilityZones") or []
    return "zones " + ",".join(zones) if zones else "regional"


def _pool(p: Mapping[str, Any]) -> list[str]:
    out = [
        f"{p.get('vmSize')}",
        f"{_count(p.get('minCount'))}..{_count(p.get('maxCount'))} nodes",
        _zones(p),
    ]
    if p.get("scaleSetPriority") == "Spot":
        out.append("SPOT")
    taints = p.get("nodeTaints") or []
    if taints:
        out.append("taint " + ";".join(taints))
    if p.get("gpuInstanceProfile"):
        out.append(f"MIG {p['gpuInstanceProfile']}")
    if p.get("gpuProfile"):
        out.append(f"driver {p['gpuProfile'].get('driver')}")
    return out


def _cluster(i: Mapping[str, Any]) -> list[str]:
    api = i.get("apiServerAccessProfile") or {}
    net = i.get("networkProfile") or {}
    sec = i.get("securityProfile") or {}
    exposure = (
        "API private" + (" (VNet-integrated)" if api.get("enableVnetIntegration") else "")
        if api.get("enablePrivateCluster")
        else "API public, allow " + ",".join(api.get("authorizedIPRanges") or ["-"])
    )
    system = (i.get("agentPoolProfiles") or [{}])[0]
    return [
        f"k8s {i.get('kubernetesVersion')}",
        f"tier {(i.get('sku') or {}).get('tier')}",
        exposure,
        f"system pool {' '.join(_pool(system)[:3])}",
        f"{net.get('networkPluginMode')}+{net.get('networkDataplane')}",
        "local accounts " + ("off" if i.get("disableLocalAccounts") else "ON"),
        "workload identity " + ("on" if (sec.get("workloadIdentity") or {}).get("enabled") else "off"),
        "KEDA " + ("on" if ((i.get("workloadAutoScalerProfile") or {}).get("keda") or {}).get("enabled") else "off"),
    ]


def _registry(i: Mapping[str, Any]) -> list[str]:
    policies = i.get("policies") or {}
    retention = (policies.get("retentionPolicy") or {}).get("days")
    return [
        f"sku {(i.get('sku') or {}).get('name')}",
        f"public access {i.get('publicNetworkAccess')}",
        "admin user " + ("ON" if i.get("adminUserEnabled") else "off"),
        f"zone redundancy {i.get('zoneRedundancy')}",
        f"untagged retention {_count(retention)}d" if retention is not None else "no retention",
    ]


def _role(i: Mapping[str, Any]) -> list[str]:
    guid = str(i.get("roleDefinitionId", "")).rsplit("/", 1)[-1]
    scope = str(i.get("scope", ""))
    return [_ROLE_NAMES.get(guid, guid), "on " + "/".join(scope.split("/")[-2:])]


def _vnet(i: Mapping[str, Any]) -> list[str]:
    space = ",".join((i.get("addressSpace") or {}).get("addressPrefixes") or [])
    subnets = ", ".join(f"{s.get('name')} {s.get('addressPrefix')}" for s in i.get("subnets") or [])
    return [space, subnets]


SUMMARIZERS: dict[str, Summarizer] = {
    "azure-native:resources:ResourceGroup": lambda i: [str(i.get("location"))],
    "azure-native:network:VirtualNetwork": _vnet,
    "azure-native:containerservice:ManagedCluster": _cluster,
    "azure-native:containerservice:AgentPool": _pool,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:authorization:RoleAssignment": _role,
    "azure-native:network:PrivateEndpoint": lambda i: [
        "group " + ",".join(
            g for c in i.get("privateLinkServiceConnections") or [] for g in c.get("groupIds", [])
        )
    ],
    "azure-native:managedidentity:FederatedIdentityCredential": lambda i: [str(i.get("subject"))],
}


def azure_name(record: RecordedResource) -> str:
    """The resource's own name in Azure/Kubernetes, if its inputs carry one."""
    i = record.inputs
    for key in ("resourceName", "agentPoolName", "registryName", "virtualNetworkName",
                "networkSecurityGroupName", "privateEndpointName", "privateZoneName",
                "resourceGroupName"):
        if isinstance(i.get(key), str):
            return str(i[key])
    meta = i.get("metadata")
    if isinstance(meta, Mapping) and meta.get("name"):
        return str(meta["name"])
    return ""


def settings_of(record: RecordedResource) -> str:
    """The one-line settings summary of a resource (empty when nothing stands out)."""
    summarize = SUMMARIZERS.get(record.type)
    parts = summarize(record.inputs) if summarize else []
    flags = []
    if record.protect:
        flags.append("protect")
    if record.retain_on_delete:
        flags.append("retain")
    return " | ".join([p for p in parts if p] + flags)
