"""Monthly cost of a stack from its offline run: idle (pools at min) and full scale (at max).

Reads the recorded resources' wire-name inputs (what would be sent to Azure), turns them into
price items (``offline/cost_rules.py``) and prices them with the table in
``offline/prices.yaml``: a row there either names the source of its number or, with
``usd: null``, says where the number is read. An item without a number (no row, a null row,
an Azure type nobody has a rule for) is *unknown* and stays unknown through every sum (a total
with an unknown part reads ``>= $X + unknown``); it is never counted as $0. A quantity of
zero (a GPU pool at min 0) costs exactly $0 whatever its price. Usage-based items (GB stored,
operations) are priced at the table's stated assumptions. It is an estimate of list prices,
not a bill: no discounts, no egress, and nothing Azure creates on its own (the AKS load
balancer and its public IP).
"""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.cost_rules import POOL_VCORES_FULL, POOL_VCORES_IDLE, pool_vcores, quantities
from offline.price_pick import Pick, PriceTableError, parse_pick
from offline.runner import OfflineRun, RecordedResource
from offline.summary import azure_name

PRICES_FILE = Path(__file__).resolve().parent / "prices.yaml"
UNITS = (
    "hour",
    "day",
    "month",
    "gb",
    "gb-month",
    "10k-operations",
    "vcore-hour",
    "10m-samples",
)


@dataclass(frozen=True, kw_only=True)
class Price:
    """One row of the price table."""

    item: str
    region: str
    unit: str
    usd: float | None
    """None: no source gave the number (the row says where to look); priced as unknown."""
    source: str | None
    official: bool
    as_of: str | None
    read: str | None
    note: str = ""
    lookup: str = ""
    """Where to read the number (an Azure Retail Prices API query) when ``usd`` is None."""
    pick: Pick | None = None
    """Which item of the ``lookup`` answer is the price (``make prices`` applies it)."""


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
            "vcore-hour": self.hours_per_month,
            "day": self.hours_per_month / 24,
        }.get(unit, 1.0)


def _row(n: int, row: Mapping[str, Any], name: str) -> Price:
    where = f"{name}: prices[{n}]"
    missing = {"item", "region", "unit", "usd"} - set(row)
    if missing:
        raise PriceTableError(f"{where} lacks {', '.join(sorted(missing))}")
    if row["unit"] not in UNITS:
        raise PriceTableError(f"{where}.unit ({row['unit']}) must be one of {UNITS}")
    usd = row["usd"]
    if usd is None:
        # An unknown price: the row documents the item and where its price is read.
        if not str(row.get("lookup", "")).startswith("https://"):
            raise PriceTableError(f"{where}.lookup must be an https URL when usd is null")
        if row.get("source") is not None:
            raise PriceTableError(f"{where}: a source without a price (usd is null)")
        if row.get("pick") is None:
            raise PriceTableError(
                f"{where}.pick is required when usd is null: which API item is the price"
            )
    else:
        if isinstance(usd, bool) or not isinstance(usd, int | float) or usd < 0:
            raise PriceTableError(f"{where}.usd ({usd}) must be a number >= 0 or null")
        absent = {"source", "official"} - set(row)
        if absent:
            raise PriceTableError(f"{where} lacks {', '.join(sorted(absent))}")
        if not str(row["source"]).startswith("https://"):
            raise PriceTableError(f"{where}.source must be an https URL")
    pick = row.get("pick")
    if pick is not None and not str(row.get("lookup", "")).startswith("https://"):
        raise PriceTableError(f"{where}.pick without a lookup (an https URL) to apply it to")
    return Price(
        item=str(row["item"]),
        region=str(row["region"]),
        unit=str(row["unit"]),
        usd=None if usd is None else float(usd),
        source=None if row.get("source") is None else str(row["source"]),
        official=bool(row.get("official", False)),
        as_of=None if row.get("asOf") is None else str(row["asOf"]),
        read=None if row.get("read") is None else str(row["read"]),
        note=str(row.get("note") or ""),
        lookup=str(row.get("lookup") or ""),
        pick=None if pick is None else parse_pick(f"{where}.pick", pick, str(row["unit"])),
    )


def load_prices(path: Path = PRICES_FILE) -> PriceTable:
    """Read and check the price table (parsed once per file and modification time)."""
    return _load_prices(path.resolve(), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_prices(path: Path, _mtime_ns: int) -> PriceTable:
    # The C loader when PyYAML has it: the table is read for every plan, cost and diff.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(path.read_text(), Loader=loader)
    rows = [_row(n, row, path.name) for n, row in enumerate(doc.get("prices") or [])]
    keys = [(p.item, p.region) for p in rows]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise PriceTableError(f"{path.name}: duplicate rows for {dupes}")
    return PriceTable(
        hours_per_month=float(doc.get("hoursPerMonth", 730)),
        assumptions=types.MappingProxyType(
            {k: float(v) for k, v in (doc.get("assumptions") or {}).items()}
        ),
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
        if self.price is None or self.price.usd is None or math.isnan(quantity):
            return Amount(unknown=(self.item,))
        return Amount(quantity * self.price.usd * table.per_month(self.price.unit))

    @property
    def priced(self) -> bool:
        """True when the table gives this item a number."""
        return self.price is not None and self.price.usd is not None

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
        """Priced items the table gives no number for (no row, or a row with ``usd: null``)."""
        return sorted({i.item for i in self.items if not i.priced})

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
            "Defender for Containers (when a stack enables it): the pools' vCores, idle and "
            "full scale",
            "not estimated: egress, data processed by private endpoints and NAT gateways, VNet "
            "peering transfer, private DNS queries, AKS's own load balancer and public IP, "
            "backups beyond the free allowance, Grafana active users",
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
                    "lookup": i.price.lookup if i.price else None,
                    "idle": i.idle(self.table).as_json(),
                    "fullScale": i.full(self.table).as_json(),
                    "note": i.note,
                }
                for i in self.items
            ],
            "unknownItems": self.unknown_items(),
            "assumptions": self.assumptions(),
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
    low, high = pool_vcores(run)
    context = {
        **table.assumptions,
        "hoursPerMonth": table.hours_per_month,
        POOL_VCORES_IDLE: low,
        POOL_VCORES_FULL: high,
    }
    items: list[LineItem] = []
    for r in run.resources:
        if not r.custom:
            continue
        for item, idle, full, note in quantities(r, context):
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
