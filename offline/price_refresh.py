"""``make prices``: fill the price table's unknown rows from the Azure Retail Prices API.

For every row with ``usd: null`` (every row with a ``pick`` when ``--all``), GET its ``lookup``
query, follow ``NextPageLink`` (a bounded number of pages), apply its ``pick`` and require
exactly one item; that item must be in USD and in the unit the pick names. Its
``retailPrice`` converted to the row's unit becomes ``usd``; ``source`` is the query,
``official: true`` (Microsoft's own price list), ``asOf`` the item's ``effectiveStartDate``
(its date) and ``read`` today.

All rows are read first: one failing row (network, zero or several matches, another currency)
fails the run and nothing is written. The file is rewritten in ruamel.yaml's round-trip mode
(comments, order and quotes stay), checked with the cost estimate's own loader, and replaced
atomically. API: https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices
(unauthenticated; ``Items[]``, ``NextPageLink``, ``Count``; USD unless another currency is asked).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from offline.cost import PRICES_FILE, load_prices
from offline.price_pick import UNIT_FACTORS, Pick, PriceTableError, parse_pick

# A GET returns the body; it raises on any transport failure (the refresher words the error).
Opener = Callable[[str, float], bytes]
TIMEOUT_S = 15.0
# The shipped lookups each return well under 1,000 items (the API pages by 1,000 at most); more
# pages mean the filter is too wide to be the one right item's query.
MAX_PAGES = 10
API_HOST = "prices.azure.com"
# Characters left as they are when a lookup is put on the wire: OData's own ($, quotes,
# parentheses, commas) and already-escaped sequences; spaces become %20.
_URL_SAFE = ":/?&=$'(),%@+"
# The table's layout (offline/prices.yaml): mappings by 2, list dashes 2 in from their key.
_MAPPING_INDENT = 2
_SEQUENCE_INDENT = 4
_SEQUENCE_DASH_OFFSET = 2
_NO_WRAP = 4096


class RefreshError(RuntimeError):
    """A row could not be priced from the API (the message names the row and the reason)."""


@dataclass(frozen=True, kw_only=True)
class Change:
    """What the refresher writes into one row."""

    item: str
    region: str
    unit: str
    old_usd: float | None
    usd: float
    source: str
    as_of: datetime.date
    meter: str
    api_price: float
    api_unit: str

    def describe(self) -> str:
        """One line for the terminal."""
        old = "null" if self.old_usd is None else f"{self.old_usd:g}"
        return (
            f"{self.item} ({self.region}): usd {old} -> {self.usd:g} per {self.unit} "
            f"(API {self.api_price:g} per {self.api_unit}, meter {self.meter!r}, "
            f"asOf {self.as_of.isoformat()})"
        )


def urlopen_bytes(url: str, timeout: float) -> bytes:
    """The default opener: a plain HTTPS GET with a timeout."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
    return body


def wire_url(url: str) -> str:
    """``url`` with the characters HTTP refuses (spaces in ``$filter``) percent-encoded."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


def _same_api(url: str, lookup: str) -> bool:
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(lookup)
    return (a.scheme, a.hostname, a.path) == (b.scheme, b.hostname, b.path)


def fetch_items(
    row: str, lookup: str, opener: Opener, timeout: float = TIMEOUT_S, max_pages: int = MAX_PAGES
) -> list[dict[str, Any]]:
    """Every item the ``lookup`` query returns, page after page."""
    items: list[dict[str, Any]] = []
    url: str | None = lookup
    pages = 0
    while url:
        if pages == max_pages:
            raise RefreshError(
                f"{row}: the lookup returns more than {max_pages} pages; narrow its $filter"
            )
        # A next page must be the same API: a link elsewhere is not followed.
        if not _same_api(url, lookup):
            api = lookup.split("?", maxsplit=1)[0]
            raise RefreshError(f"{row}: NextPageLink {url} leaves {api}")
        try:
            body = opener(wire_url(url), timeout)
        except TimeoutError as exc:
            raise RefreshError(f"{row}: no answer from {url} within {timeout:g}s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise RefreshError(f"{row}: no answer from {url} within {timeout:g}s") from exc
            raise RefreshError(f"{row}: GET {url} failed: {exc}") from exc
        except OSError as exc:
            raise RefreshError(f"{row}: GET {url} failed: {exc}") from exc
        try:
            page = json.loads(body)
        except ValueError as exc:
            raise RefreshError(f"{row}: {url} did not answer JSON: {exc}") from exc
        if not isinstance(page, dict) or not isinstance(page.get("Items"), list):
            raise RefreshError(f"{row}: {url} answered without an Items list")
        items.extend(i for i in page["Items"] if isinstance(i, dict))
        pages += 1
        link = page.get("NextPageLink")
        url = link if isinstance(link, str) and link else None
    return items


def _describe(item: Mapping[str, Any]) -> str:
    keys = ("productName", "skuName", "meterName", "unitOfMeasure", "retailPrice", "type")
    return "{" + ", ".join(f"{k}: {item.get(k)!r}" for k in keys) + "}"


def select(row: str, items: Sequence[Mapping[str, Any]], pick: Pick) -> Mapping[str, Any]:
    """The one item ``pick`` matches; zero or several is an error that shows what was there."""
    hits = [i for i in items if pick.matches(i)]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        shown = "; ".join(_describe(i) for i in items[:10])
        more = f" (and {len(items) - 10} more)" if len(items) > 10 else ""
        raise RefreshError(
            f"{row}: pick matches none of the {len(items)} items the lookup returned: "
            f"{shown or 'no items'}{more}"
        )
    raise RefreshError(
        f"{row}: pick matches {len(hits)} items, expected exactly one: "
        + "; ".join(_describe(i) for i in hits)
    )


def convert(row: str, item: Mapping[str, Any], pick: Pick, unit: str) -> float:
    """The item's ``retailPrice`` per the row's ``unit`` (exact decimal arithmetic)."""
    currency = item.get("currencyCode")
    if currency != "USD":
        raise RefreshError(f"{row}: the picked item is priced in {currency!r}, not USD")
    api_unit = item.get("unitOfMeasure")
    factor = UNIT_FACTORS.get((str(api_unit), unit))
    if api_unit != pick.unit_of_measure or factor is None:
        raise RefreshError(
            f"{row}: the picked item's unitOfMeasure {api_unit!r} does not convert to {unit}"
        )
    price = item.get("retailPrice")
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        raise RefreshError(f"{row}: the picked item's retailPrice {price!r} is not a price")
    exact = Fraction(Decimal(str(price))) * factor * pick.times / pick.per
    # Twelve significant digits: exact for every conversion above but a repeating fraction.
    return float(f"{float(exact):.12g}")


def _as_of(row: str, item: Mapping[str, Any]) -> datetime.date:
    start = item.get("effectiveStartDate")
    try:
        return datetime.date.fromisoformat(str(start)[:10])
    except ValueError as exc:
        raise RefreshError(f"{row}: effectiveStartDate {start!r} is not a date") from exc


def price_row(row: Mapping[str, Any], where: str, opener: Opener, timeout: float) -> Change:
    """Read one row's price from the API."""
    unit = str(row["unit"])
    try:
        pick = parse_pick(f"{where}.pick", row.get("pick"), unit)
    except PriceTableError as exc:
        raise RefreshError(str(exc)) from exc
    lookup = str(row.get("lookup") or "")
    if not urllib.parse.urlsplit(lookup).hostname == API_HOST:
        raise RefreshError(f"{where}.lookup ({lookup}) is not a {API_HOST} query")
    items = fetch_items(where, lookup, opener, timeout)
    item = select(where, items, pick)
    old = row.get("usd")
    return Change(
        item=str(row["item"]),
        region=str(row["region"]),
        unit=unit,
        old_usd=None if old is None else float(old),
        usd=convert(where, item, pick, unit),
        source=lookup,
        as_of=_as_of(where, item),
        meter=str(item.get("meterName")),
        api_price=float(item["retailPrice"]),
        api_unit=str(item.get("unitOfMeasure")),
    )


def _yaml() -> Any:
    # Imported here: ruamel.yaml is the `prices` extra (make prices), not a plan dependency.
    from ruamel.yaml import YAML  # noqa: PLC0415

    rt = YAML(typ="rt")
    # The table spells null as `null` (ruamel would write nothing) and never uses aliases (one
    # date object written into several rows would become an anchor and *references).
    rt.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    rt.representer.ignore_aliases = lambda _data: True
    rt.preserve_quotes = True
    rt.width = _NO_WRAP
    rt.indent(mapping=_MAPPING_INDENT, sequence=_SEQUENCE_INDENT, offset=_SEQUENCE_DASH_OFFSET)
    return rt


def _set_after(row: Any, key: str, value: Any, after: str) -> None:
    """Set ``row[key]``; a new key goes right after ``after`` (the table's column order)."""
    if key in row:
        row[key] = value
    else:
        row.insert(list(row).index(after) + 1, key, value)


def apply(row: Any, change: Change, today: datetime.date) -> None:
    """Write ``change`` into a round-trip row (order: usd, source, official, asOf, read)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString  # noqa: PLC0415

    row["usd"] = change.usd
    # Quoted like `lookup`: the query's quotes and `$` read best inside double quotes.
    _set_after(row, "source", DoubleQuotedScalarString(change.source), "usd")
    _set_after(row, "official", True, "source")
    _set_after(row, "asOf", change.as_of, "official")
    _set_after(row, "read", today, "asOf")


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # The estimate's own loader must accept the new table before it replaces the old one.
        load_prices(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refresh(
    path: Path = PRICES_FILE,
    *,
    all_rows: bool = False,
    dry_run: bool = False,
    opener: Opener | None = None,
    timeout: float = TIMEOUT_S,
    today: datetime.date | None = None,
) -> list[Change]:
    """Price the table's unknown rows (every row with a pick when ``all_rows``) and write them.

    Raises :class:`RefreshError` listing every row that failed; then nothing is written.
    """
    load_prices(path)  # the table as it is must be valid before anything is read online
    get = opener or urlopen_bytes
    rt = _yaml()
    doc = rt.load(path.read_text())
    changes: list[tuple[Any, Change]] = []
    errors: list[str] = []
    for n, row in enumerate(doc.get("prices") or []):
        wanted = row.get("pick") is not None if all_rows else row.get("usd") is None
        if not wanted:
            continue
        where = f"{path.name}: prices[{n}] ({row.get('item')})"
        try:
            changes.append((row, price_row(row, where, get, timeout)))
        except RefreshError as exc:
            errors.append(str(exc))
    if errors:
        raise RefreshError(
            f"{len(errors)} row(s) failed, nothing written:\n  " + "\n  ".join(errors)
        )
    if not dry_run and changes:
        day = today or datetime.datetime.now(datetime.UTC).date()
        for row, change in changes:
            apply(row, change, day)
        out = io.StringIO()
        rt.dump(doc, out)
        _replace(path, out.getvalue())
    return [c for _, c in changes]
