"""Monthly cost of a stack from its offline run: idle (pools at min) and full scale (at max).

Reads the recorded resources' wire-name inputs (what would be sent to Azure) and prices them
with the table in ``offline/prices.yaml``: every row there names its source. A priced item
without a row is *unknown* and stays unknown through every sum (a total with an unknown part
reads ``>= $X + unknown``); it is never counted as $0. A quantity of zero (a GPU pool at min 0)
costs exactly $0 whatever its price. Usage-based items (GB stored, operations) are priced at
the table's stated assumptions. It is an estimate of list prices, not a bill: no discounts,
no egress, and nothing Azure creates on its own (the AKS load balancer and its public IP).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.runner import OfflineRun, RecordedResource
from offline.summary import azure_name

PRICES_FILE = Path(__file__).resolve().parent / "prices.yaml"
UNITS = ("hour", "day", "month", "gb-month", "10k-operations")


class PriceTableError(ValueError):
    """The price table file breaks its format."""


@dataclass(frozen=True, kw_only=True)
class Price:
    """One row of the price table."""

    item: str
    region: str
    unit: str
    usd: float
    source: str
    official: bool
    as_of: str | None
    read: str | None
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class PriceTable:
    """The price rows plus the assumptions usage-based items are priced at."""

    hours_per_month: float
    assumptions: Mapping[str, float]
    prices: tuple[Price, ...]

    def lookup(self, item: str, region: str) -> Price | None:
        """The row for ``item`` in ``region``, else its all-regions (``*``) row."""
        rows = [p for p in self.prices if p.item == item and p.region in (region, "*")]
        # A row for the stack's own region wins over the all-regions row.
        rows.sort(key=lambda p: p.region == "*")
        return rows[0] if rows else None

    def per_month(self, unit: str) -> float:
        """How many ``unit``s a month holds (an hour-priced item runs all month)."""
        return {
            "hour": self.hours_per_month,
            "day": self.hours_per_month / 24,
        }.get(unit, 1.0)


def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    """Read and check the price table."""
    doc = yaml.safe_load(path.read_text())
    rows = []
    for n, row in enumerate(doc.get("prices") or []):
        where = f"{path.name}: prices[{n}]"
        missing = {"item", "region", "unit", "usd", "source", "official"} - set(row)
        if missing:
            raise PriceTableError(f"{where} lacks {', '.join(sorted(missing))}")
        if row["unit"] not in UNITS:
            raise PriceTableError(f"{where}.unit ({row['unit']}) must be one of {UNITS}")
        usd = row["usd"]
        if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
            raise PriceTableError(f"{where}.usd ({usd}) must be a number >= 0")
        if not str(row["source"]).startswith("https://"):
            raise PriceTableError(f"{where}.source must be an https URL")
        rows.append(
            Price(
                item=str(row["item"]),
                region=str(row["region"]),
                unit=str(row["unit"]),
                usd=float(usd),
                source=str(row["source"]),
                official=bool(row["official"]),
                as_of=None if row.get("asOf") is None else str(row["asOf"]),
                read=None if row.get("read") is None else str(row["read"]),
                note=str(row.get("note") or ""),
            )
        )
    keys = [(p.item, p.region) for p in rows]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise PriceTableError(f"{path.name}: duplicate rows for {dupes}")
    return PriceTable(
        hours_per_month=float(doc.get("hoursPerMonth", 730)),
        assumptions={k: float(v) for k, v in (doc.get("assumptions") or {}).items()},
        prices=tuple(rows),
    )


@dataclass(frozen=True)
class Amount:
    """A monthly USD amount whose unknown parts are kept, never zeroed."""

    known: float = 0.0
    unknown: tuple[str, ...] = ()

    def __add__(self, other: Amount) -> Amount:
        return Amount(self.known + other.known, self.unknown + other.unknown)

    @property
    def complete(self) -> bool:
        """True when no part of the amount is unknown."""
        return not self.unknown

    def render(self) -> str:
        """``$1,234.56``, ``>= $12.00 + unknown``, or ``unknown``."""
        if self.complete:
            return f"${self.known:,.2f}"
        return f">= ${self.known:,.2f} + unknown" if self.known else "unknown"

    def as_json(self) -> dict[str, Any]:
        """Machine-readable: ``usd`` is null when any part is unknown."""
        return {
            "usd": round(self.known, 2) if self.complete else None,
            "knownUsd": round(self.known, 2),
            "unknownItems": sorted(set(self.unknown)),
        }


@dataclass(frozen=True, kw_only=True)
class LineItem:
    """One priced quantity of one resource."""

    component: str
    resource: str
    item: str
    idle_quantity: float
    full_quantity: float
    price: Price | None
    note: str = ""

    def _amount(self, quantity: float, table: PriceTable) -> Amount:
        if quantity == 0:
            return Amount()  # nothing runs: $0 exactly, whatever the price
        if self.price is None or math.isnan(quantity):
            return Amount(unknown=(self.item,))
        return Amount(quantity * self.price.usd * table.per_month(self.price.unit))

    def idle(self, table: PriceTable) -> Amount:
        """Monthly cost with every pool at its minimum."""
        return self._amount(self.idle_quantity, table)

    def full(self, table: PriceTable) -> Amount:
        """Monthly cost with every pool at its maximum."""
        return self._amount(self.full_quantity, table)


@dataclass(frozen=True, kw_only=True)
class CostReport:
    """The cost of one stack, per top-level component."""

    stack: str
    region: str
    items: tuple[LineItem, ...]
    table: PriceTable
    budget_usd: float | None = None
    components: tuple[str, ...] = field(default=())

    def component_totals(self) -> dict[str, tuple[Amount, Amount]]:
        """Component -> (idle, full scale)."""
        totals: dict[str, tuple[Amount, Amount]] = {}
        for c in self.components:
            mine = [i for i in self.items if i.component == c]
            totals[c] = (
                sum((i.idle(self.table) for i in mine), Amount()),
                sum((i.full(self.table) for i in mine), Amount()),
            )
        return totals

    def idle(self) -> Amount:
        """The stack's monthly cost at idle."""
        return sum((i.idle(self.table) for i in self.items), Amount())

    def full(self) -> Amount:
        """The stack's monthly cost at full scale."""
        return sum((i.full(self.table) for i in self.items), Amount())

    def unknown_items(self) -> list[str]:
        """Priced items the table has no row for."""
        return sorted({i.item for i in self.items if i.price is None})

    def over_budget(self) -> bool:
        """True when the idle cost's known part alone exceeds the budget."""
        return self.budget_usd is not None and self.idle().known > self.budget_usd

    def budget_warning(self) -> str | None:
        """The warning ``make plan`` prints when idle cost exceeds the budget."""
        if not self.over_budget():
            return None
        return (
            f"warning: stack {self.stack}: idle cost {self.idle().render()}/month exceeds "
            f"cost.monthlyBudgetUsd ${self.budget_usd:,.2f}"
        )

    def assumptions(self) -> list[str]:
        """The assumptions the estimate rests on, as sentences."""
        a = self.table.assumptions
        return [
            f"{self.table.hours_per_month:g} hours/month; pay-as-you-go list prices in USD, "
            f"region {self.region}",
            "idle: every node pool at its min count; full scale: every pool at its max count",
            f"data lake: {a.get('dataLakeGb', 0):g} GB stored (hot tier)",
            f"Key Vault: {a.get('keyVaultOperationsPerMonth', 0):g} operations/month",
            f"Log Analytics: {a.get('logAnalyticsGbPerDay', 0):g} GB/day ingested",
            "not estimated: egress, data processed by private endpoints, AKS's own load "
            "balancer and public IP, backups beyond the free allowance",
        ]

    def as_json(self) -> dict[str, Any]:
        """The report as a JSON document."""
        return {
            "stack": self.stack,
            "region": self.region,
            "currency": "USD",
            "period": "month",
            "idle": self.idle().as_json(),
            "fullScale": self.full().as_json(),
            "budgetUsd": self.budget_usd,
            "overBudget": self.over_budget(),
            "components": {
                c: {"idle": idle.as_json(), "fullScale": full.as_json()}
                for c, (idle, full) in self.component_totals().items()
            },
            "items": [
                {
                    "component": i.component,
                    "resource": i.resource,
                    "item": i.item,
                    "idleQuantity": i.idle_quantity,
                    "fullQuantity": i.full_quantity,
                    "unit": i.price.unit if i.price else None,
                    "unitUsd": i.price.usd if i.price else None,
                    "source": i.price.source if i.price else None,
                    "idle": i.idle(self.table).as_json(),
                    "fullScale": i.full(self.table).as_json(),
                    "note": i.note,
                }
                for i in self.items
            ],
            "unknownItems": self.unknown_items(),
            "assumptions": self.assumptions(),
        }


# --- what each resource type costs -------------------------------------------------------

Quantity = tuple[str, float, float, str]  # (price item, idle quantity, full quantity, note)
Rule = Callable[[Mapping[str, Any], Mapping[str, float]], list[Quantity]]


def _num(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _pool(pool: Mapping[str, Any]) -> list[Quantity]:
    size = str(pool.get("vmSize"))
    count = _num(pool.get("count"))
    if pool.get("enableAutoScaling"):
        low, high = _num(pool.get("minCount"), count), _num(pool.get("maxCount"), count)
    else:
        low = high = count
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


def _statefulset(i: Mapping[str, Any], _: Mapping[str, float]) -> list[Quantity]:
    spec = i.get("spec") or {}
    replicas = _num(spec.get("replicas"), 1)
    out: list[Quantity] = []
    for claim in spec.get("volumeClaimTemplates") or []:
        c = claim.get("spec") or {}
        size = str(((c.get("resources") or {}).get("requests") or {}).get("storage", ""))
        gib = float(size[:-2]) if size.endswith("Gi") and size[:-2].isdigit() else math.nan
        item = f"k8s-volume-gb:{c.get('storageClassName')}"
        out.append((item, gib * replicas, gib * replicas, f"{replicas:g} x {size}"))
    return out


def _vault(i: Mapping[str, Any], a: Mapping[str, float]) -> list[Quantity]:
    sku = ((i.get("properties") or {}).get("sku") or {}).get("name")
    ops = a.get("keyVaultOperationsPerMonth", 0)
    return [(f"key-vault-10k-operations:{sku}", ops / 10_000, ops / 10_000, f"{ops:g} operations")]


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
    "azure-native:operationalinsights:Workspace": lambda i, a: [
        (
            "log-analytics-gb",
            a.get("logAnalyticsGbPerDay", 0) * 730 / 24,
            a.get("logAnalyticsGbPerDay", 0) * 730 / 24,
            f"{a.get('logAnalyticsGbPerDay', 0):g} GB/day assumed",
        )
    ],
    "kubernetes:apps/v1:StatefulSet": _statefulset,
    "azure-native:dashboard:Grafana": lambda i, _: [
        (f"grafana-instance-hour:{(i.get('sku') or {}).get('name')}", 1, 1, "")
    ],
    # Billed per metric sample ingested: no volume is assumed, so it stays unknown.
    "azure-native:monitor:AzureMonitorWorkspace": lambda i, _: [
        ("amw-metric-samples-10m", math.nan, math.nan, "usage not estimated")
    ],
}


def _top_components(resources: Iterable[RecordedResource]) -> dict[str, str]:
    by_urn = {r.urn: r for r in resources}
    tops: dict[str, str] = {}
    for urn, start in by_urn.items():
        top = start
        while top.parent and top.parent in by_urn:
            top = by_urn[top.parent]
        tops[urn] = top.name
    return tops


def _region(run: OfflineRun) -> str:
    for r in run.resources:
        if r.type == "azure-native:resources:ResourceGroup" and r.inputs.get("location"):
            return str(r.inputs["location"])
    return "*"


def estimate(
    run: OfflineRun, table: PriceTable | None = None, budget_usd: float | None = None
) -> CostReport:
    """Price every recorded resource of ``run``."""
    table = table or load_prices()
    region = _region(run)
    tops = _top_components(run.resources)
    items: list[LineItem] = []
    for r in run.resources:
        rule = RULES.get(r.type)
        if not r.custom or rule is None:
            continue
        for item, idle, full, note in rule(r.inputs, table.assumptions):
            items.append(
                LineItem(
                    component=tops[r.urn],
                    resource=azure_name(r) or r.name,
                    item=item,
                    idle_quantity=idle,
                    full_quantity=full,
                    price=table.lookup(item, region),
                    note=note,
                )
            )
    return CostReport(
        stack=run.stack,
        region=region,
        items=tuple(items),
        table=table,
        budget_usd=budget_usd,
        components=tuple(sorted({i.component for i in items})),
    )
