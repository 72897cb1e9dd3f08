"""Readable one-line settings per resource type, for the offline plan's summary.

Only what a reviewer needs to judge a change (sizes, counts, exposure, tiers); the full
inputs are in ``build/<stack>/plan.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bootstrap.roles import CI_ROLES
from components.kit.shared import BUILT_IN_ROLES
from offline.monitoring_summary import MONITORING_SUMMARIZERS
from offline.runner import MASK, RecordedResource
from offline.serving_summary import SERVING_SUMMARIZERS
from offline.workflows_summary import WORKFLOWS_SUMMARIZERS

# The platform's roles and the bootstrap's CI roles, by role definition GUID.
_ROLE_NAMES = {guid: name for name, guid in {**CI_ROLES, **BUILT_IN_ROLES}.items()}

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
        f"egress {net.get('outboundType')}",
        "local accounts " + ("off" if i.get("disableLocalAccounts") else "ON"),
        "workload identity "
        + ("on" if (sec.get("workloadIdentity") or {}).get("enabled") else "off"),
        "KEDA "
        + (
            "on"
            if ((i.get("workloadAutoScalerProfile") or {}).get("keda") or {}).get("enabled")
            else "off"
        ),
        "Container Insights "
        + _on(((i.get("addonProfiles") or {}).get("omsagent") or {}).get("enabled")),
        "managed Prometheus "
        + _on(((i.get("azureMonitorProfile") or {}).get("metrics") or {}).get("enabled")),
        "KAITO " + _on((i.get("aiToolchainOperatorProfile") or {}).get("enabled")),
        "app routing "
        + (
            "internal"
            if ((i.get("ingressProfile") or {}).get("webAppRouting") or {}).get("enabled")
            else "off"
        ),
    ]


def _maintenance(i: Mapping[str, Any]) -> list[str]:
    window = i.get("maintenanceWindow") or {}
    schedule = window.get("schedule") or {}
    weekly = schedule.get("weekly")
    monthly = schedule.get("absoluteMonthly")
    if weekly:
        when = f"every {_count(weekly.get('intervalWeeks'))} week(s) on {weekly.get('dayOfWeek')}"
    elif monthly:
        when = (
            f"every {_count(monthly.get('intervalMonths'))} month(s) on day "
            f"{_count(monthly.get('dayOfMonth'))}"
        )
    else:
        when = "?"
    out = [
        when,
        f"{window.get('startTime')} UTC{window.get('utcOffset', '+00:00')}",
        f"{_count(window.get('durationHours'))}h",
    ]
    blocked = window.get("notAllowedDates") or []
    if blocked:
        out.append("not " + ", ".join(f"{d.get('start')}..{d.get('end')}" for d in blocked))
    return out


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


def _on(value: Any) -> str:
    return "on" if value else "off"


def _storage(i: Mapping[str, Any]) -> list[str]:
    rules = i.get("networkRuleSet") or {}
    return [
        f"{(i.get('sku') or {}).get('name')} {i.get('kind')}",
        "ADLS Gen2 (HNS)" if i.get("isHnsEnabled") else "flat namespace",
        f"public access {i.get('publicNetworkAccess')}",
        f"firewall default {rules.get('defaultAction')}",
        "shared keys " + ("ON" if i.get("allowSharedKeyAccess") is not False else "off"),
        "anonymous blobs " + ("ON" if i.get("allowBlobPublicAccess") else "off"),
        f"TLS {str(i.get('minimumTlsVersion', '')).replace('TLS', '').replace('_', '.')}+",
    ]


def _blob_service(i: Mapping[str, Any]) -> list[str]:
    blobs = i.get("deleteRetentionPolicy") or {}
    containers = i.get("containerDeleteRetentionPolicy") or {}
    return [
        f"versioning {_on(i.get('isVersioningEnabled'))}",
        f"blob soft delete {_count(blobs.get('days'))}d" if blobs.get("enabled") else "",
        f"container soft delete {_count(containers.get('days'))}d"
        if containers.get("enabled")
        else "",
    ]


def _vault(i: Mapping[str, Any]) -> list[str]:
    p = i.get("properties") or {}
    acls = p.get("networkAcls") or {}
    return [
        f"sku {(p.get('sku') or {}).get('name')}",
        "RBAC" if p.get("enableRbacAuthorization") else "ACCESS POLICIES",
        f"soft delete {_count(p.get('softDeleteRetentionInDays'))}d",
        f"purge protection {_on(p.get('enablePurgeProtection'))}",
        f"public access {p.get('publicNetworkAccess')}",
        f"firewall default {acls.get('defaultAction')}",
    ]


def _postgres(i: Mapping[str, Any]) -> list[str]:
    sku = i.get("sku") or {}
    net = i.get("network") or {}
    backup = i.get("backup") or {}
    auth = i.get("authConfig") or {}
    access = (
        "private (VNet-integrated)"
        if net.get("delegatedSubnetResourceId")
        else f"public access {net.get('publicNetworkAccess')}, no firewall rule"
    )
    return [
        f"PostgreSQL {i.get('version')}",
        f"{sku.get('name')} ({sku.get('tier')})",
        f"{_count((i.get('storage') or {}).get('storageSizeGB'))} GB",
        f"HA {(i.get('highAvailability') or {}).get('mode')}",
        f"backup {_count(backup.get('backupRetentionDays'))}d"
        f" geo {str(backup.get('geoRedundantBackup', '')).lower()}",
        access,
        "auth Entra" + (" + password" if auth.get("passwordAuth") == "Enabled" else " only")
        if auth.get("activeDirectoryAuth") == "Enabled"
        else "auth PASSWORD ONLY",
    ]


def _secret(i: Mapping[str, Any]) -> list[str]:
    props = i.get("properties")
    # A secret value makes the whole properties object secret on the wire.
    value = props.get("value") if isinstance(props, Mapping) else props
    return ["value secret (masked)" if value == MASK else "value NOT A SECRET"]


def _pod_template(spec: Mapping[str, Any]) -> list[str]:
    pod = ((spec.get("template") or {}).get("spec")) or {}
    containers = pod.get("containers") or [{}]
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    out = [str(c.get("image")) for c in containers]
    if limits:
        out.append("limits " + ",".join(f"{k}={v}" for k, v in sorted(limits.items())))
    if pod.get("nodeSelector"):
        out.append("on " + ",".join(f"{k}={v}" for k, v in pod["nodeSelector"].items()))
    return out


def _workload(i: Mapping[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    out = _pod_template(spec)
    if "replicas" in spec:
        out.insert(0, f"{_count(spec['replicas'])} replica(s)")
    for claim in spec.get("volumeClaimTemplates") or []:
        c = claim.get("spec") or {}
        size = ((c.get("resources") or {}).get("requests") or {}).get("storage")
        out.append(f"volume {size} {c.get('storageClassName')}")
    return out


SUMMARIZERS: dict[str, Summarizer] = {
    "kubernetes:apps/v1:Deployment": _workload,
    "kubernetes:apps/v1:StatefulSet": _workload,
    "kubernetes:apps/v1:DaemonSet": _workload,
    "kubernetes:batch/v1:Job": _workload,
    "kubernetes:policy/v1:PodDisruptionBudget": lambda i: [
        f"minAvailable {(i.get('spec') or {}).get('minAvailable')}"
    ],
    "azure-native:storage:StorageAccount": _storage,
    "azure-native:storage:BlobServiceProperties": _blob_service,
    "azure-native:storage:BlobContainer": lambda i: [f"public access {i.get('publicAccess')}"],
    "azure-native:keyvault:Vault": _vault,
    "azure-native:keyvault:Secret": _secret,
    "azure-native:dbforpostgresql:Server": _postgres,
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": lambda i: [
        f"Entra admin {i.get('principalType')} {i.get('principalName')}"
    ],
    "azure-native:dbforpostgresql:Configuration": lambda i: [
        f"{i.get('configurationName')} = {i.get('value')}"
    ],
    "azure-native:dbforpostgresql:Database": lambda i: [f"{i.get('charset')} {i.get('collation')}"],
    "random:index/randomPassword:RandomPassword": lambda i: [
        f"length {_count(i.get('length'))}, kept in Key Vault"
    ],
    "azure-native:resources:ResourceGroup": lambda i: [str(i.get("location"))],
    "azure-native:network:VirtualNetwork": _vnet,
    "azure-native:containerservice:ManagedCluster": _cluster,
    "azure-native:containerservice:AgentPool": _pool,
    "azure-native:containerservice:MaintenanceConfiguration": _maintenance,
    "azure-native:containerregistry:Registry": _registry,
    "azure-native:authorization:RoleAssignment": _role,
    "azure-native:network:PrivateEndpoint": lambda i: [
        "group "
        + ",".join(
            g for c in i.get("privateLinkServiceConnections") or [] for g in c.get("groupIds", [])
        )
    ],
    "azure-native:managedidentity:FederatedIdentityCredential": lambda i: [str(i.get("subject"))],
    "azure-native:network:NatGateway": lambda i: [
        f"sku {(i.get('sku') or {}).get('name')}",
        "zone " + (",".join(i.get("zones") or []) or "chosen by Azure"),
    ],
    "azure-native:network:PublicIPAddress": lambda i: [
        f"{(i.get('sku') or {}).get('name')} {i.get('publicIPAllocationMethod')}",
        "zones " + (",".join(i.get("zones") or []) or "none"),
    ],
    "azure-native:network:RouteTable": lambda i: [
        f"{r.get('addressPrefix')} -> {r.get('nextHopType')} {r.get('nextHopIpAddress', '')}"
        for r in i.get("routes") or []
    ],
    "azure-native:network:VirtualNetworkPeering": lambda i: [
        "peered to " + str((i.get("remoteVirtualNetwork") or {}).get("id", "")).rsplit("/", 1)[-1]
    ],
    "pulumi:providers:grafana": lambda i: [f"url {i.get('url')}", "auth Entra token (secret)"],
    **MONITORING_SUMMARIZERS,
    **WORKFLOWS_SUMMARIZERS,
    **SERVING_SUMMARIZERS,
}


def azure_name(record: RecordedResource) -> str:
    """The resource's own name in Azure/Kubernetes, if its inputs carry one."""
    i = record.inputs
    # A child's own name first: its inputs also name its parent (a node pool names its
    # cluster in resourceName, a DNS link names its zone, a container its account).
    for key in (
        "agentPoolName",
        "configName",
        "federatedIdentityCredentialResourceName",
        "privateDnsZoneGroupName",
        "virtualNetworkLinkName",
        "virtualNetworkPeeringName",
        "workspaceName",
        "azureMonitorWorkspaceName",
        "dataCollectionEndpointName",
        "dataCollectionRuleName",
        "associationName",
        "actionGroupName",
        "ruleGroupName",
        "containerName",
        "blobServicesName",
        "secretName",
        "databaseName",
        "configurationName",
        "principalName",
        "resourceName",
        "registryName",
        "virtualNetworkName",
        "networkSecurityGroupName",
        "privateEndpointName",
        "privateZoneName",
        "accountName",
        "vaultName",
        "serverName",
    ):
        if isinstance(i.get(key), str):
            return str(i[key])
    for key, value in i.items():
        if key.endswith("Name") and key != "resourceGroupName" and isinstance(value, str):
            return value
    if record.type == "azure-native:resources:ResourceGroup":
        return str(i.get("resourceGroupName", ""))
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
