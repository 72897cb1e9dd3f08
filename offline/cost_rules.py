"""What each resource type of a stack is priced by (the quantities offline/cost.py prices).

A rule reads a recorded resource's wire-name inputs and returns price items with their
quantity at idle (every node pool at its min count) and at full scale (at its max). Azure types
with no charge of their own are listed; any other Azure type without a rule is priced as
``unpriced:<type>``: unknown, never $0. Kubernetes objects cost nothing by themselves (they run
on the priced node pools), except the Azure disks their volume claims create.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from infra.config.vm_sizes import vcpus
from offline.runner import OfflineRun, RecordedResource

# Read by the rules next to the price table's assumptions: the node pools' vCores (idle and
# full scale), which per-vCore items (Defender for Containers) are priced by.
POOL_VCORES_IDLE = "_poolVcoresIdle"
POOL_VCORES_FULL = "_poolVcoresFull"

Quantity = tuple[str, float, float, str]  # (price item, idle quantity, full quantity, note)
Rule = Callable[[Mapping[str, Any], Mapping[str, float]], list[Quantity]]


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _node_counts(pool: Mapping[str, Any]) -> tuple[float, float]:
    """(idle, full scale) node count: min and max when autoscaling, else the fixed count."""
    count = _num(pool.get("count"))
    if pool.get("enableAutoScaling"):
        return _num(pool.get("minCount"), count), _num(pool.get("maxCount"), count)
    return count, count


def _pool(pool: Mapping[str, Any]) -> list[Quantity]:
    size = str(pool.get("vmSize"))
    low, high = _node_counts(pool)
    spot = pool.get("scaleSetPriority") == "Spot"
    item = f"{'vm-spot' if spot else 'vm'}:{size}"
    # The OS disk: ephemeral disks live on the VM's own storage (no separate charge); a
    # managed OS disk (AKS's choice when the size's cache is too small) is billed per node.
    disk = (
        []
        if pool.get("osDiskType") == "Ephemeral"
        else [(f"os-disk:{size}", low, high, "OS disk type chosen by AKS for the size")]
    )
    return [(item, low, high, f"{low:g}-{high:g} nodes"), *disk]


def _cluster(i: Mapping[str, Any], _: Mapping[str, float]) -> list[Quantity]:
    tier = str((i.get("sku") or {}).get("tier") or "Free")
    out: list[Quantity] = [(f"aks-tier:{tier}", 1, 1, "cluster management")]
    for pool in i.get("agentPoolProfiles") or []:
        out.extend(_pool(pool))
    return out


def _postgres(i: Mapping[str, Any], _: Mapping[str, float]) -> list[Quantity]:
    sku = str((i.get("sku") or {}).get("name"))
    gb = _num((i.get("storage") or {}).get("storageSizeGB"))
    out: list[Quantity] = [
        (f"postgres-compute:{sku}", 1, 1, ""),
        ("postgres-storage-gb", gb, gb, f"{gb:g} GB provisioned"),
    ]
    if (i.get("highAvailability") or {}).get("mode") not in (None, "", "Disabled"):
        out.append((f"postgres-ha-standby:{sku}", 1, 1, "high-availability standby"))
    if (i.get("backup") or {}).get("geoRedundantBackup") == "Enabled":
        out.append(("postgres-geo-backup-gb", gb, gb, "geo-redundant backup, assumed = storage"))
    return out


def _claim(spec: Mapping[str, Any], replicas: float) -> Quantity:
    size = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", ""))
    gib = float(size[:-2]) if size.endswith("Gi") and size[:-2].isdigit() else math.nan
    item = f"k8s-volume-gb:{spec.get('storageClassName')}"
    return (item, gib * replicas, gib * replicas, f"{replicas:g} x {size}")


def _statefulset(i: Mapping[str, Any], _: Mapping[str, float]) -> list[Quantity]:
    spec = i.get("spec") or {}
    replicas = _num(spec.get("replicas"), 1)
    return [_claim(c.get("spec") or {}, replicas) for c in spec.get("volumeClaimTemplates") or []]


def _vault(i: Mapping[str, Any], a: Mapping[str, float]) -> list[Quantity]:
    sku = ((i.get("properties") or {}).get("sku") or {}).get("name")
    ops = a.get("keyVaultOperationsPerMonth", 0)
    return [(f"key-vault-10k-operations:{sku}", ops / 10_000, ops / 10_000, f"{ops:g} operations")]


def _log_analytics(_: Mapping[str, Any], a: Mapping[str, float]) -> list[Quantity]:
    per_day = a.get("logAnalyticsGbPerDay", 0)
    gb = per_day * a.get("hoursPerMonth", 730) / 24
    return [("log-analytics-gb", gb, gb, f"{per_day:g} GB/day assumed")]


def _defender(i: Mapping[str, Any], a: Mapping[str, float]) -> list[Quantity]:
    # Defender for Containers is charged per vCore of the cluster's nodes: the pools' vCores.
    if str(i.get("pricingName")) != "Containers" or str(i.get("pricingTier")) != "Standard":
        return []
    low, high = a.get(POOL_VCORES_IDLE, math.nan), a.get(POOL_VCORES_FULL, math.nan)
    return [("defender-containers-vcore-hour", low, high, f"{low:g}-{high:g} vCores")]


def pool_vcores(run: OfflineRun) -> tuple[float, float]:
    """The node pools' vCores with every pool at min and at max (NaN if a size is unreadable)."""
    pools: list[Mapping[str, Any]] = []
    for r in run.resources:
        if r.type == "azure-native:containerservice:ManagedCluster":
            pools.extend(r.inputs.get("agentPoolProfiles") or [])
        elif r.type == "azure-native:containerservice:AgentPool":
            pools.append(r.inputs)
    low = high = 0.0
    for pool in pools:
        found = vcpus(str(pool.get("vmSize")))
        cores = math.nan if found is None else float(found)
        idle, full = _node_counts(pool)
        # Zero nodes are zero vCores whatever the size.
        low += idle * cores if idle else 0.0
        high += full * cores if full else 0.0
    return low, high


RULES: dict[str, Rule] = {
    "azure-native:containerservice:ManagedCluster": _cluster,
    "azure-native:containerservice:AgentPool": lambda i, _: _pool(i),
    "azure-native:containerregistry:Registry": lambda i, _: [
        (f"acr:{(i.get('sku') or {}).get('name')}", 1, 1, "")
    ],
    "azure-native:storage:StorageAccount": lambda i, a: [
        (
            f"storage:{(i.get('sku') or {}).get('name')}:hot-gb",
            a.get("dataLakeGb", 0),
            a.get("dataLakeGb", 0),
            f"{a.get('dataLakeGb', 0):g} GB assumed",
        )
    ],
    "azure-native:keyvault:Vault": _vault,
    "azure-native:dbforpostgresql:Server": _postgres,
    "azure-native:network:PrivateEndpoint": lambda i, _: [("private-endpoint-hour", 1, 1, "")],
    "azure-native:privatedns:PrivateZone": lambda i, _: [("private-dns-zone", 1, 1, "")],
    "azure-native:operationalinsights:Workspace": _log_analytics,
    "azure-native:dashboard:Grafana": lambda i, _: [
        (f"grafana-instance-hour:{(i.get('sku') or {}).get('name')}", 1, 1, "")
    ],
    # Billed per metric sample ingested: no volume is assumed, so it stays unknown.
    "azure-native:monitor:AzureMonitorWorkspace": lambda i, _: [
        ("amw-metric-samples-10m", math.nan, math.nan, "usage not estimated")
    ],
    "azure-native:security:Pricing": _defender,
    "azure-native:network:NatGateway": lambda i, _: [("nat-gateway-hour", 1, 1, "")],
    "azure-native:network:PublicIPAddress": lambda i, _: [
        (f"public-ip:{(i.get('sku') or {}).get('name')}", 1, 1, "")
    ],
    # Kubernetes objects cost nothing by themselves (they run on the pools priced above),
    # except the Azure disks their volume claims create.
    "kubernetes:apps/v1:StatefulSet": _statefulset,
    "kubernetes:core/v1:PersistentVolumeClaim": lambda i, _: [_claim(i.get("spec") or {}, 1)],
}
# Azure types with no charge of their own: configuration of a priced resource (its charge is
# on that resource's row), identity and access objects, or routing through the VNet (whose
# traffic charges are listed as not estimated). Any other Azure type without a rule is listed
# as `unpriced:<type>` and is unknown, never $0.
NO_CHARGE_OF_THEIR_OWN = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:PolicyAssignment",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:containerservice:MaintenanceConfiguration",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:Subnet",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:RouteTable",
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:network:VirtualNetworkPeering",
        "azure-native:keyvault:Secret",
        "azure-native:dbforpostgresql:Database",
        "azure-native:dbforpostgresql:Configuration",
        "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
        "azure-native:dbforpostgresql:FirewallRule",
        "azure-native:storage:BlobContainer",
        "azure-native:storage:BlobServiceProperties",
        "azure-native:storage:ManagementPolicy",
        "azure-native:monitor:DiagnosticSetting",
        "azure-native:monitor:DataCollectionEndpoint",
        "azure-native:monitor:DataCollectionRule",
        "azure-native:monitor:DataCollectionRuleAssociation",
    }
)
UNPRICED_PREFIX = "unpriced:"


def quantities(r: RecordedResource, context: Mapping[str, float]) -> list[Quantity]:
    """What ``r`` is priced by: (price item, idle quantity, full-scale quantity, note)."""
    rule = RULES.get(r.type)
    if rule is not None:
        return rule(r.inputs, context)
    if r.type.startswith("azure-native:") and r.type not in NO_CHARGE_OF_THEIR_OWN:
        # A type nobody has priced yet (a new resource): unknown with its type, never free.
        return [(f"{UNPRICED_PREFIX}{r.type}", 1, 1, "no price rule for this Azure type")]
    return []
