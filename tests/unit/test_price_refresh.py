"""``make prices``: fetch, page, pick, convert and write, against a local Retail Prices API.

No network: a ``http.server`` on 127.0.0.1 answers in the API's documented shape (``Items[]``
with ``retailPrice``, ``unitOfMeasure``, ``currencyCode``..., ``NextPageLink``, ``Count``;
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices), and
the opener sends the table's https://prices.azure.com queries there through urllib. Expected
prices are computed by hand in the comment beside them.
"""

from __future__ import annotations

import datetime
import difflib
import http.server
import io
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from offline import price_refresh
from offline.cli import main
from offline.cost import PRICES_FILE, load_prices
from offline.price_pick import Pick
from offline.price_refresh import RefreshError, convert, refresh, select, urlopen_bytes, wire_url

API = "https://prices.azure.com/api/retail/prices"
VM = f"{API}?$filter=serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_D4ds_v5'"
PG = f"{API}?$filter=serviceName eq 'Azure Database for PostgreSQL' and armRegionName eq 'x'"
DISK = f"{API}?$filter=productName eq 'Premium SSD Managed Disks' and skuName eq 'P3 ZRS'"
TODAY = datetime.date(2026, 11, 27)

TABLE = f"""# Price table under test.
hoursPerMonth: 730

prices:
  - item: acr:Basic
    region: "*"
    unit: day
    usd: 0.167
    source: https://example.test/acr
    official: false
    asOf: null
    read: 2026-11-27
    note: a priced row the refresher leaves alone
  # --- unknown rows -----
  - item: vm:Standard_D4ds_v5
    region: "westeurope"
    unit: hour
    usd: null
    lookup: "{VM}"
    read: 2026-11-27
    note: "the Linux regular row"  # why this row
    pick:
      equals: {{unitOfMeasure: "1 Hour", type: Consumption}}
      notContains: {{productName: Windows, skuName: [Spot, Low Priority]}}
  - item: postgres-compute:Standard_D4ds_v5
    region: "westeurope"
    unit: hour
    usd: null
    lookup: "{PG}"
    read: 2026-11-27
    note: "4 x the per-vCore meter"
    pick:
      equals: {{unitOfMeasure: "1 Hour", type: Consumption, meterName: vCore}}
      times: 4
  - item: k8s-volume-gb:qdrant-premium-zrs
    region: "westeurope"
    unit: gb-month
    usd: null
    lookup: "{DISK}"
    read: 2026-11-27
    note: "a 16 GiB tier, per GiB"
    pick:
      equals: {{unitOfMeasure: "1/Month", type: Consumption, meterName: P3 ZRS Disk}}
      per: 16
"""


def item(**kw: Any) -> dict[str, Any]:
    """One API item in the documented shape."""
    base: dict[str, Any] = {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": 1.0,
        "unitPrice": 1.0,
        "armRegionName": "westeurope",
        "location": "EU West",
        "effectiveStartDate": "2025-03-01T00:00:00Z",
        "meterId": "00000000-0000-0000-0000-000000000000",
        "meterName": "D4ds v5",
        "productId": "DZH318Z0TEST",
        "skuId": "DZH318Z0TEST/000X",
        "productName": "Virtual Machines Ddsv5 Series",
        "skuName": "D4ds v5",
        "serviceName": "Virtual Machines",
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": "Standard_D4ds_v5",
    }
    base.update(kw)
    return base


def page(items: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    """One API answer page."""
    return {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": next_link,
        "Count": len(items),
    }


VM_PAGE_1 = page(
    [
        item(productName="Virtual Machines Ddsv5 Series Windows", retailPrice=0.376),
        item(skuName="D4ds v5 Spot", meterName="D4ds v5 Spot", retailPrice=0.0398),
    ],
    # The API's own next links carry the :443 port and a $skip.
    f"https://prices.azure.com:443/api/retail/prices?{VM.split('?')[1]}&$skip=100",
)
VM_PAGE_2 = page(
    [
        item(retailPrice=0.192, effectiveStartDate="2024-07-01T00:00:00Z"),
        item(skuName="D4ds v5 Low Priority", meterName="D4ds v5 Low Priority", retailPrice=0.04),
    ]
)
PG_PAGE = page(
    [
        item(
            productName="Azure Database for PostgreSQL Flexible Server General Purpose Ddsv5 "
            "Series Compute",
            skuName="vCore",
            meterName="vCore",
            retailPrice=0.123,
        ),
        item(
            productName="Azure Database for PostgreSQL Flexible Server Burstable BS Series Compute",
            skuName="B1MS",
            meterName="B1MS",
            retailPrice=0.0207,
        ),
    ]
)
DISK_PAGE = page(
    [
        item(meterName="P3 ZRS Disk", skuName="P3 ZRS", unitOfMeasure="1/Month", retailPrice=3.65),
        item(
            meterName="P3 ZRS Disk Mount",
            skuName="P3 ZRS",
            unitOfMeasure="1/Month",
            retailPrice=0.5,
        ),
    ]
)


@dataclass
class FakeApi:
    """What the local server answers: unquoted path+query -> (JSON body or raw bytes, delay)."""

    port: int = 0
    routes: dict[str, tuple[Any, float]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)

    def opener(self, url: str, timeout: float) -> bytes:
        """The real urllib opener, sent to this server instead of prices.azure.com."""
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname == "prices.azure.com", url
        local = parts._replace(scheme="http", netloc=f"127.0.0.1:{self.port}").geturl()
        return urlopen_bytes(local, timeout)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.seen.append(self.path)
            body, delay = fake.routes.get(urllib.parse.unquote(self.path), (None, 0.0))
            time.sleep(delay)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:  # keep pytest's output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _serve_all(api: FakeApi) -> None:
    api.routes[_path(VM)] = (VM_PAGE_1, 0.0)
    api.routes[_path(VM) + "&$skip=100"] = (VM_PAGE_2, 0.0)
    api.routes[_path(PG)] = (PG_PAGE, 0.0)
    api.routes[_path(DISK)] = (DISK_PAGE, 0.0)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "prices.yaml"
    path.write_text(TABLE)
    return path


def test_price_refresh_writes_prices_sources_and_dates_keeping_comments(
    api: FakeApi, table: Path
) -> None:
    _serve_all(api)
    changes = refresh(table, opener=api.opener, today=TODAY)
    assert [c.item for c in changes] == [
        "vm:Standard_D4ds_v5",
        "postgres-compute:Standard_D4ds_v5",
        "k8s-volume-gb:qdrant-premium-zrs",
    ]
    text = table.read_text()
    # Only the three `usd: null` lines went; every other line (comments, quotes, the untouched
    # row's `asOf: null`) is still there, in order.
    diff = list(difflib.ndiff(TABLE.splitlines(), text.splitlines()))
    assert [d for d in diff if d.startswith("- ")] == ["-     usd: null"] * 3
    assert "&" not in text  # no YAML anchors
    assert f'    source: "{VM}"' in text
    for kept in ("# Price table under test.", "# --- unknown rows -----", "# why this row"):
        assert kept in text
    prices = {p.item: p for p in load_prices(table).prices}
    assert list(prices) == [
        "acr:Basic",
        "vm:Standard_D4ds_v5",
        "postgres-compute:Standard_D4ds_v5",
        "k8s-volume-gb:qdrant-premium-zrs",
    ]
    # The Linux regular row is on page 2: 0.192 per hour, effective 2024-07-01.
    vm = prices["vm:Standard_D4ds_v5"]
    assert (vm.usd, vm.source, vm.official, vm.as_of, vm.read) == (
        0.192,
        VM,
        True,
        "2024-07-01",
        "2026-11-27",
    )
    # 4 vCores x 0.123 per vCore-hour = 0.492 per hour.
    assert prices["postgres-compute:Standard_D4ds_v5"].usd == 0.492
    # A P3 ZRS disk (16 GiB) at 3.65 per month = 3.65 / 16 = 0.228125 per GiB-month.
    assert prices["k8s-volume-gb:qdrant-premium-zrs"].usd == 0.228125
    # The priced row is untouched; the refreshed rows keep their lookup and pick.
    assert prices["acr:Basic"].usd == 0.167
    assert prices["acr:Basic"].source == "https://example.test/acr"
    assert vm.lookup == VM
    assert vm.pick is not None
    raw = YAML(typ="safe").load(text)["prices"][1]
    # New keys follow usd in the table's column order; keys the row had keep their place.
    assert list(raw) == [
        "item", "region", "unit", "usd", "source", "official", "asOf", "lookup", "read", "note",
        "pick",
    ]  # fmt: skip
    # Four GETs (two pages for the VM), each sent with its spaces encoded.
    assert len(api.seen) == 4
    assert all(" " not in p and "%20eq%20" in p for p in api.seen)


def test_price_refresh_dry_run_writes_nothing(api: FakeApi, table: Path) -> None:
    _serve_all(api)
    changes = refresh(table, opener=api.opener, dry_run=True, today=TODAY)
    assert len(changes) == 3
    assert table.read_text() == TABLE
    assert changes[0].describe().startswith("vm:Standard_D4ds_v5 (westeurope): usd null -> 0.192")


def test_price_refresh_all_rereads_rows_that_already_have_a_price(
    api: FakeApi, table: Path
) -> None:
    _serve_all(api)
    refresh(table, opener=api.opener, today=TODAY)
    api.routes[_path(PG)] = (page([{**PG_PAGE["Items"][0], "retailPrice": 0.2}]), 0.0)
    assert refresh(table, opener=api.opener, today=TODAY) == []  # nothing unknown is left
    changes = refresh(table, opener=api.opener, all_rows=True, today=TODAY)
    # The priced row without a pick is not read; the others are, 0.2 x 4 = 0.8 now.
    assert [c.item for c in changes] == [
        "vm:Standard_D4ds_v5",
        "postgres-compute:Standard_D4ds_v5",
        "k8s-volume-gb:qdrant-premium-zrs",
    ]
    assert changes[1].old_usd == 0.492
    assert {p.item: p.usd for p in load_prices(table).prices}[
        "postgres-compute:Standard_D4ds_v5"
    ] == 0.8


@pytest.mark.parametrize(
    ("pg_items", "message"),
    [
        ([], r"prices\[2\] \(postgres-compute:Standard_D4ds_v5\): pick matches none of the 0"),
        (
            [PG_PAGE["Items"][1]],
            r"pick matches none of the 1 items .*meterName: 'B1MS'",
        ),
        (
            [PG_PAGE["Items"][0], {**PG_PAGE["Items"][0], "skuName": "1 vCore"}],
            r"pick matches 2 items, expected exactly one: .*skuName: 'vCore'.*skuName: '1 vCore'",
        ),
        (
            [{**PG_PAGE["Items"][0], "currencyCode": "EUR"}],
            r"postgres-compute:Standard_D4ds_v5\): the picked item is priced in 'EUR', not USD",
        ),
        (
            [{**PG_PAGE["Items"][0], "retailPrice": "0.1"}],
            r"retailPrice '0.1' is not a price",
        ),
        (
            [{**PG_PAGE["Items"][0], "effectiveStartDate": "soon"}],
            r"effectiveStartDate 'soon' is not a date",
        ),
    ],
)
def test_price_refresh_refuses_an_answer_without_one_usd_item_and_writes_nothing(
    api: FakeApi, table: Path, pg_items: list[dict[str, Any]], message: str
) -> None:
    _serve_all(api)
    api.routes[_path(PG)] = (page(pg_items), 0.0)
    with pytest.raises(RefreshError, match=message) as caught:
        refresh(table, opener=api.opener, today=TODAY)
    assert str(caught.value).startswith("1 row(s) failed, nothing written")
    assert table.read_text() == TABLE  # the two good rows were not written either


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ((b"<html>busy</html>", 0.0), r"did not answer JSON"),
        (({"items": []}, 0.0), r"answered without an Items list"),
        (None, r"GET https://prices.azure.com/.* failed: HTTP Error 404"),
        ((PG_PAGE, 2.0), r"no answer from https://prices.azure.com/.* within 0.3s"),
        (
            (page([], "https://elsewhere.example/api/retail/prices?$skip=100"), 0.0),
            r"NextPageLink https://elsewhere.example/.* leaves https://prices.azure.com/",
        ),
        # A next link back to itself: the page cap stops it.
        ((page([], PG), 0.0), r"the lookup returns more than 10 pages; narrow its \$filter"),
    ],
)
def test_price_refresh_reports_transport_and_paging_failures(
    api: FakeApi, table: Path, route: tuple[Any, float] | None, message: str
) -> None:
    _serve_all(api)
    if route is None:
        del api.routes[_path(PG)]
    else:
        api.routes[_path(PG)] = route
    with pytest.raises(RefreshError, match=message):
        refresh(table, opener=api.opener, timeout=0.3, today=TODAY)
    assert table.read_text() == TABLE


def test_price_refresh_refuses_a_lookup_that_is_not_the_retail_prices_api(
    api: FakeApi, table: Path
) -> None:
    table.write_text(TABLE.replace(DISK, "https://example.test/prices?x=1"))
    with pytest.raises(RefreshError, match=r"lookup \(https://example.test/prices\?x=1\) is not"):
        refresh(table, opener=api.opener, today=TODAY)


def _pick(unit: str, **extra: Any) -> Pick:
    return Pick(equals={"unitOfMeasure": unit}, contains={}, not_contains={}, **extra)


@pytest.mark.parametrize(
    ("api_unit", "row_unit", "retail", "extra", "expected"),
    [
        ("1 Hour", "hour", 0.192, {}, 0.192),
        ("100 Hours", "hour", 12.5, {}, 0.125),  # 12.5 / 100
        ("1 Hour", "day", 0.1, {}, 2.4),  # 0.1 x 24
        ("1 Hour", "vcore-hour", 0.007, {}, 0.007),
        ("1/Month", "month", 19.71, {}, 19.71),
        ("1 GB/Month", "gb-month", 0.0208, {}, 0.0208),
        ("1 GB", "gb", 2.99, {}, 2.99),
        ("10K", "10k-operations", 0.03, {}, 0.03),
        ("10M", "10m-samples", 0.16, {}, 0.16),
        ("1 Hour", "hour", 0.1, {"times": 3}, 0.3),  # 0.1 x 3, exact (not 0.30000000000000004)
        ("1/Month", "gb-month", 19.71, {"per": 128}, 0.153984375),  # 19.71 / 128
    ],
)
def test_price_refresh_converts_the_api_unit_to_the_row_unit_exactly(
    api_unit: str, row_unit: str, retail: float, extra: dict[str, Any], expected: float
) -> None:
    pick = _pick(api_unit, **{k: Fraction(v) for k, v in extra.items()})
    got = convert("row", item(unitOfMeasure=api_unit, retailPrice=retail), pick, row_unit)
    assert got == expected


def test_price_refresh_refuses_a_unit_it_cannot_convert() -> None:
    pick = _pick("1 Hour")
    with pytest.raises(RefreshError, match=r"row: the picked item's unitOfMeasure '1 GB'"):
        convert("row", item(unitOfMeasure="1 GB"), pick, "hour")


def test_price_refresh_pick_rules_all_must_hold() -> None:
    pick = Pick(
        equals={"unitOfMeasure": "1 Hour", "tierMinimumUnits": 0, "isPrimaryMeterRegion": True},
        contains={"productName": ("Ddsv5", "Series")},
        not_contains={"skuName": ("Spot", "Low Priority")},
    )
    assert pick.matches(item())
    assert not pick.matches(item(unitOfMeasure="1/Month"))
    assert not pick.matches(item(tierMinimumUnits=50.0))
    assert not pick.matches(item(isPrimaryMeterRegion=1))  # 1 is not True
    assert not pick.matches(item(productName="Virtual Machines Ddsv5"))  # lacks "Series"
    assert not pick.matches(item(skuName="D4ds v5 Low Priority"))
    assert not pick.matches({k: v for k, v in item().items() if k != "skuName"})
    assert select("row", [item(skuName="x Spot"), item()], pick)["skuName"] == "D4ds v5"


def test_price_refresh_wire_url_encodes_spaces_and_keeps_odata() -> None:
    assert wire_url(f"{API}?$filter=serviceName eq 'Key Vault'&$skip=100") == (
        f"{API}?$filter=serviceName%20eq%20'Key%20Vault'&$skip=100"
    )


def test_price_refresh_cli_summary_and_failure_exit_codes(
    api: FakeApi, table: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prices", "--file", str(table)]) == 0
    out = capsys.readouterr().out
    assert "1 priced rows, 3 unknown" in out
    assert "vm:Standard_D4ds_v5" in out
    _serve_all(api)
    monkeypatch.setattr(price_refresh, "urlopen_bytes", api.opener)
    assert main(["prices", "--refresh", "--dry-run", "--file", str(table)]) == 0
    assert "would change 3 row(s)" in capsys.readouterr().out
    assert table.read_text() == TABLE
    del api.routes[_path(DISK)]
    assert main(["prices", "--refresh", "--file", str(table)]) == 1
    assert "k8s-volume-gb:qdrant-premium-zrs" in capsys.readouterr().err
    assert table.read_text() == TABLE
    assert main(["prices", "--dry-run", "--file", str(table)]) == 2
    assert "--dry-run apply to --refresh only" in capsys.readouterr().err
    table.write_text("prices:\n  - {item: x}\n")
    assert main(["prices", "--file", str(table)]) == 2
    assert "lacks region, unit, usd" in capsys.readouterr().err


def test_price_refresh_shipped_table_has_a_pick_for_every_unknown_row() -> None:
    for p in load_prices().prices:
        if p.usd is None:
            assert p.pick is not None, p.item
            assert urllib.parse.urlsplit(p.lookup).hostname == "prices.azure.com", p.item


def test_price_refresh_round_trips_the_shipped_table_unchanged() -> None:
    # What make prices rewrites differs from the shipped file only in the rows it prices.
    text = PRICES_FILE.read_text()
    rt = price_refresh._yaml()
    out = io.StringIO()
    rt.dump(rt.load(text), out)
    assert out.getvalue() == text
