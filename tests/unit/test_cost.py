"""The cost estimate: arithmetic on a hand-built stack, unknowns, budgets, the shipped table.

Every expected amount below is computed by hand in the comment next to it from the fixture
prices written in this file, never by the code under test.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from offline.cli import print_cost
from offline.cost import Amount, PriceTable, PriceTableError, estimate, load_prices
from offline.runner import OfflineRun, RecordedResource
from tests.conftest import STACKS, stack_values

FIXTURE_PRICES = """
hoursPerMonth: 730
assumptions:
  dataLakeGb: 0
  keyVaultOperationsPerMonth: 200000
prices:
  - {item: "aks-tier:Standard", region: "*", unit: hour, usd: 0.10,
     source: "https://example.test/aks", official: false}
  - {item: "vm:Standard_D4ds_v5", region: westeurope, unit: hour, usd: 0.20,
     source: "https://example.test/vm", official: false}
  - {item: "vm:Standard_D4ds_v5", region: eastus, unit: hour, usd: 9.99,
     source: "https://example.test/vm", official: false}
  - {item: "vm-spot:Standard_NC4as_T4_v3", region: westeurope, unit: hour, usd: 0.05,
     source: "https://example.test/spot", official: false}
  - {item: "acr:Basic", region: "*", unit: day, usd: 0.24,
     source: "https://example.test/acr", official: false}
  - {item: "private-endpoint-hour", region: "*", unit: hour, usd: 0.01,
     source: "https://example.test/pe", official: false}
  - {item: "key-vault-10k-operations:standard", region: "*", unit: 10k-operations, usd: 0.03,
     source: "https://example.test/kv", official: false}
  - {item: "defender-containers-vcore-hour", region: "*", unit: vcore-hour, usd: 0.01,
     source: "https://example.test/defender", official: false}
  - {item: "nat-gateway-hour", region: "*", unit: hour, usd: 0.05,
     source: "https://example.test/nat", official: false}
  - {item: "public-ip:Standard", region: "*", unit: hour, usd: 0.005,
     source: "https://example.test/pip", official: false}
  - {item: "postgres-storage-gb", region: "*", unit: gb-month, usd: null,
     lookup: "https://example.test/lookup-pg-storage",
     pick: {equals: {unitOfMeasure: "1 GB/Month"}}}
"""


def _table(tmp_path: Path, text: str = FIXTURE_PRICES) -> PriceTable:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    return load_prices(path)


def _record(name: str, typ: str, inputs: dict[str, Any], parent: str = "") -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:unit::aks-mlops::{typ}::{name}",
        type=typ,
        name=name,
        custom=not typ.startswith("aks-mlops:"),
        parent=parent,
        dependencies=[],
        protect=False,
        retain_on_delete=False,
        ignore_changes=[],
        provider="",
        aliases=[],
        inputs=inputs,
    )


def _small_stack() -> OfflineRun:
    aks = _record("aks", "aks-mlops:cluster:Cluster", {})
    registry = _record("registry", "aks-mlops:registry:ContainerRegistry", {})
    vault = _record("vault", "aks-mlops:secrets:KeyVault", {})
    db = _record("db", "aks-mlops:data:Postgres", {})
    resources = [
        _record("rg", "azure-native:resources:ResourceGroup", {"location": "westeurope"}),
        aks,
        _record(
            "aks-cluster",
            "azure-native:containerservice:ManagedCluster",
            {
                "sku": {"name": "Base", "tier": "Standard"},
                "agentPoolProfiles": [
                    {
                        "name": "system",
                        "vmSize": "Standard_D4ds_v5",
                        "enableAutoScaling": True,
                        "count": 2,
                        "minCount": 2,
                        "maxCount": 3,
                        "osDiskType": "Ephemeral",
                    }
                ],
            },
            aks.urn,
        ),
        _record(
            "aks-gpu",
            "azure-native:containerservice:AgentPool",
            {
                "agentPoolName": "gput4",
                "vmSize": "Standard_NC4as_T4_v3",
                "enableAutoScaling": True,
                "count": 0,
                "minCount": 0,
                "maxCount": 2,
                "scaleSetPriority": "Spot",
                "osDiskType": "Ephemeral",
            },
            aks.urn,
        ),
        registry,
        _record(
            "registry-acr",
            "azure-native:containerregistry:Registry",
            {"sku": {"name": "Basic"}},
            registry.urn,
        ),
        _record("registry-pe", "azure-native:network:PrivateEndpoint", {}, registry.urn),
        vault,
        _record(
            "vault-kv",
            "azure-native:keyvault:Vault",
            {"properties": {"sku": {"family": "A", "name": "standard"}}},
            vault.urn,
        ),
        db,
        _record(
            "db-server",
            "azure-native:dbforpostgresql:Server",
            {
                "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
                "storage": {"storageSizeGB": 32},
                "highAvailability": {"mode": "Disabled"},
            },
            db.urn,
        ),
    ]
    return OfflineRun(stack="unit", resources=resources, outputs={})


def test_cost_arithmetic_matches_hand_computed_small_stack(tmp_path: Path) -> None:
    report = estimate(_small_stack(), _table(tmp_path))
    totals = report.component_totals()
    # aks idle: tier 0.10*730 = 73.00; system 2 nodes * 0.20 * 730 = 292.00; GPU 0 nodes = 0.
    assert totals["aks"][0] == Amount(365.00)
    # aks full: 73.00 + 3 * 0.20 * 730 = 438.00 + 2 spot * 0.05 * 730 = 73.00 -> 584.00
    assert totals["aks"][1].known == pytest.approx(584.00)
    assert totals["aks"][1].complete
    # registry: Basic 0.24/day * 730/24 days = 7.30; private endpoint 0.01 * 730 = 7.30.
    assert totals["registry"][0].known == pytest.approx(14.60)
    assert totals["registry"][1].known == pytest.approx(14.60)
    # vault: 200,000 operations = 20 x 10k at 0.03 = 0.60
    assert totals["vault"][0].known == pytest.approx(0.60)
    # totals: 365.00 + 14.60 + 0.60 = 380.20 and 584.00 + 14.60 + 0.60 = 599.20, plus the db.
    assert report.idle().known == pytest.approx(380.20)
    assert report.full().known == pytest.approx(599.20)
    assert report.idle().render() == ">= $380.20 + unknown"
    assert report.full().render() == ">= $599.20 + unknown"


def test_cost_prices_by_stack_region_before_all_regions(tmp_path: Path) -> None:
    report = estimate(_small_stack(), _table(tmp_path))
    system = next(i for i in report.items if i.item == "vm:Standard_D4ds_v5")
    assert system.price is not None
    assert system.price.region == "westeurope"
    assert system.price.usd == 0.20


def test_cost_unknown_price_is_never_zero(tmp_path: Path) -> None:
    report = estimate(_small_stack(), _table(tmp_path))
    idle, full = report.component_totals()["db"]
    assert idle.render() == full.render() == "unknown"
    assert idle.known == 0
    assert not idle.complete
    assert report.unknown_items() == ["postgres-compute:Standard_B1ms", "postgres-storage-gb"]
    doc = report.as_json()
    assert doc["components"]["db"]["idle"]["usd"] is None
    assert doc["idle"]["usd"] is None
    assert doc["idle"]["knownUsd"] == 380.20
    assert "$0.00" not in idle.render()


def test_cost_gpu_pool_at_min_zero_costs_exactly_zero_at_idle(tmp_path: Path) -> None:
    # No row for this size: unknown at full scale, but zero nodes cost exactly $0.
    run = _small_stack()
    pool = next(r for r in run.resources if r.name == "aks-gpu")
    pool.inputs["vmSize"] = "Standard_NC24ads_A100_v4"
    pool.inputs["scaleSetPriority"] = "Regular"
    report = estimate(run, _table(tmp_path))
    gpu = next(i for i in report.items if i.item == "vm:Standard_NC24ads_A100_v4")
    assert gpu.idle(report.table) == Amount(0.0)
    assert gpu.idle(report.table).render() == "$0.00"
    assert gpu.full(report.table).render() == "unknown"


def test_cost_budget_warns_when_idle_cost_exceeds_it(tmp_path: Path) -> None:
    table = _table(tmp_path)
    over = estimate(_small_stack(), table, budget_usd=300)
    assert over.over_budget()
    warning = over.budget_warning()
    assert warning is not None
    assert "idle cost >= $380.20 + unknown/month exceeds cost.monthlyBudgetUsd $300.00" in warning
    within = estimate(_small_stack(), table, budget_usd=400)
    assert not within.over_budget()
    assert within.budget_warning() is None
    assert estimate(_small_stack(), table).budget_warning() is None


def test_cost_table_prints_components_unknowns_and_assumptions(tmp_path: Path) -> None:
    buffer = io.StringIO()
    report = estimate(_small_stack(), _table(tmp_path), budget_usd=300)
    print_cost(report, Console(file=buffer, width=100, highlight=False))
    text = buffer.getvalue()
    for expected in ("$365.00", "$584.00", "unknown prices", "postgres-compute:Standard_B1ms"):
        assert expected in text
    assert "EXCEEDED" in text
    assert "assumes: 730 hours/month" in text
    assert "200000 operations/month" in text


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{item: x, region: '*', unit: week, usd: 1, source: 'https://a', official: no}", "unit"),
        ("{item: x, region: '*', unit: hour, usd: -1, source: 'https://a', official: no}", "usd"),
        ("{item: x, region: '*', unit: hour, usd: 1, source: 'made up', official: no}", "https"),
        ("{item: x, region: '*', unit: hour, usd: 1, official: no}", "lacks source"),
        ("{item: x, region: '*', unit: hour, usd: null}", "lookup must be an https URL"),
        (
            "{item: x, region: '*', unit: hour, usd: null, lookup: 'https://a', source: 'https://b'}",
            "source without a price",
        ),
        (
            "{item: x, region: '*', unit: hour, usd: '0.1', source: 'https://a', official: no}",
            "usd",
        ),
        # An unknown row says which API item is its price, in rules make prices can apply.
        (
            "{item: x, region: '*', unit: hour, usd: null, lookup: 'https://a'}",
            r"prices\[0\]\.pick is required when usd is null",
        ),
        (
            "{item: x, region: '*', unit: hour, usd: 1, source: 'https://a', official: no, "
            "pick: {equals: {unitOfMeasure: '1 Hour'}}}",
            r"prices\[0\]\.pick without a lookup",
        ),
    ],
)
def test_cost_price_table_rejects_bad_rows(tmp_path: Path, row: str, message: str) -> None:
    with pytest.raises(PriceTableError, match=message):
        _table(tmp_path, f"prices:\n  - {row}\n")


UNKNOWN_ROW = "{item: x, region: '*', unit: %s, usd: null, lookup: 'https://a', pick: %s}"


@pytest.mark.parametrize(
    ("unit", "pick", "message"),
    [
        ("hour", "[a]", r"prices\[0\]\.pick \(\['a'\]\) must be a mapping"),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, startsWith: {skuName: a}}",
            r"prices\[0\]\.pick\.startsWith: unknown rule",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour', sku: a}}",
            r"prices\[0\]\.pick\.equals\.sku: not a Retail Prices API item field",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour', skuName: [a]}}",
            r"prices\[0\]\.pick\.equals\.skuName \(\['a'\]\) must be a scalar",
        ),
        (
            "hour",
            "{equals: {type: Consumption}}",
            r"prices\[0\]\.pick\.equals\.unitOfMeasure is required",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 GB/Month'}}",
            r"pick\.equals\.unitOfMeasure \(1 GB/Month\) does not convert exactly to the row's "
            "unit hour",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, contains: {skuName: []}}",
            r"prices\[0\]\.pick\.contains\.skuName \(\[\]\) must be a string or a non-empty",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, notContains: {skuName: [Spot, 3]}}",
            r"prices\[0\]\.pick\.notContains\.skuName \(3\) must be a non-empty string",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, contains: [skuName]}",
            r"prices\[0\]\.pick\.contains \(\['skuName'\]\) must be a mapping",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, times: 0}",
            r"prices\[0\]\.pick\.times \(0\) must be a number > 0",
        ),
        (
            "hour",
            "{equals: {unitOfMeasure: '1 Hour'}, per: true}",
            r"prices\[0\]\.pick\.per \(True\) must be a number > 0",
        ),
        (
            "gb-month",
            "{equals: {unitOfMeasure: '1/Month'}}",
            r"prices\[0\]\.pick\.per is required",
        ),
    ],
)
def test_cost_price_table_rejects_bad_picks(
    tmp_path: Path, unit: str, pick: str, message: str
) -> None:
    with pytest.raises(PriceTableError, match=message):
        _table(tmp_path, f"prices:\n  - {UNKNOWN_ROW % (unit, pick)}\n")


def test_cost_shipped_table_rows_are_sourced_and_official_flag_is_honest() -> None:
    table = load_prices()
    assert table.hours_per_month == 730
    assert table.prices, "the shipped table has rows"
    for p in table.prices:
        assert p.as_of or p.read, f"{p.item}: when the source was current or read"
        if p.usd is None:
            # Unknown: no source, and a Retail Prices API query saying where to read it.
            assert p.source is None, p.item
            assert p.lookup.startswith("https://prices.azure.com/api/retail/prices?"), p.item
            assert not p.official, p.item
            # ...and the rules that pick its item, so `make prices` can fill it online.
            assert p.pick is not None, p.item
            assert p.pick.equals.get("type") == "Consumption", p.item
            continue
        assert p.source is not None, p.item
        assert p.source.startswith("https://"), p.item
        microsoft = p.source.startswith(
            ("https://learn.microsoft.com/", "https://azure.microsoft.com/")
        )
        # A Microsoft Q&A answer is not a Microsoft pricing statement.
        official = microsoft and "/answers/" not in p.source
        assert p.official == official, p.item


@pytest.mark.parametrize("stack", STACKS)
def test_cost_every_item_of_shipped_stacks_has_a_row(
    stack: str, stack_runs: dict[str, OfflineRun]
) -> None:
    # Every priced item the shipped stacks create is in the table: with a sourced number or
    # as an explicit unknown row that says where to read it. Only types nobody has a rule
    # for yet (`unpriced:<type>`) have no row.
    report = estimate(stack_runs[stack])
    missing = sorted(
        {i.item for i in report.items if i.price is None and not i.item.startswith("unpriced:")}
    )
    assert missing == []


# VM sizes of the shipped stack files that the shipped table has no number for (an unknown
# row, so `make plan` shows them as unknown). Filling a row's `usd` removes a size from here.
UNPRICED_VM_SIZES = {
    "dev": {"vm:Standard_D4ds_v5", "vm-spot:Standard_NC4as_T4_v3"},
    "test": {"vm:Standard_D4ds_v5", "vm:Standard_NC8as_T4_v3"},
    "prod": {"vm:Standard_D4ds_v5", "vm:Standard_D8ds_v5", "vm:Standard_NC24ads_A100_v4"},
}


def _vm_items(values: dict[str, Any]) -> set[str]:
    pools = [values["aks-mlops:systemPool"], values["aks-mlops:cpuPool"]]
    pools += values.get("aks-mlops:gpuPools", [])
    return {f"{'vm-spot' if p.get('spot') else 'vm'}:{p['vmSize']}" for p in pools}


@pytest.mark.parametrize("stack", STACKS)
def test_cost_every_stack_vm_size_is_priced_or_reported_unknown(
    stack: str, stack_runs: dict[str, OfflineRun]
) -> None:
    values = stack_values(stack)
    wanted = _vm_items(values)
    report = estimate(stack_runs[stack])
    priced = {i.item for i in report.items if i.priced}
    unknown = set(report.unknown_items())
    assert wanted <= {i.item for i in report.items}, "every pool's size is a line item"
    assert wanted <= priced | unknown
    assert wanted & unknown == UNPRICED_VM_SIZES[stack]
    # Monitoring the stack creates is listed, never silently free.
    types = {r.type for r in stack_runs[stack].resources}
    if "azure-native:monitor:AzureMonitorWorkspace" in types:
        assert "amw-metric-samples-10m" in unknown
    if "azure-native:operationalinsights:Workspace" in types:
        assert "log-analytics-gb" in {i.item for i in report.items}
    # A stack's full-scale total with an unpriced size is never presented as complete.
    assert not report.full().complete


def _with(run: OfflineRun, *extra: RecordedResource) -> OfflineRun:
    return OfflineRun(stack=run.stack, resources=[*run.resources, *extra], outputs={})


def test_cost_null_price_row_is_unknown_never_zero(tmp_path: Path) -> None:
    # The fixture has a `usd: null` row for postgres-storage-gb: a row, but no number.
    report = estimate(_small_stack(), _table(tmp_path))
    storage = next(i for i in report.items if i.item == "postgres-storage-gb")
    assert storage.price is not None
    assert not storage.priced
    assert storage.idle(report.table).render() == "unknown"
    assert "postgres-storage-gb" in report.unknown_items()
    item = next(i for i in report.as_json()["items"] if i["item"] == "postgres-storage-gb")
    assert item["unitUsd"] is None
    assert item["lookup"] == "https://example.test/lookup-pg-storage"


def test_cost_defender_for_containers_is_priced_per_pool_vcore(tmp_path: Path) -> None:
    defender = _record(
        "defender",
        "azure-native:security:Pricing",
        {"pricingName": "Containers", "pricingTier": "Standard"},
    )
    report = estimate(_with(_small_stack(), defender), _table(tmp_path))
    idle, full = report.component_totals()["defender"]
    # vCores from the size names: system D4ds_v5 = 4, GPU NC4as_T4_v3 = 4.
    # idle: 2 system nodes x 4 + 0 GPU nodes = 8 vCores x 0.01 x 730 = 58.40
    assert idle.known == pytest.approx(58.40)
    assert idle.complete
    # full: 3 x 4 + 2 x 4 = 20 vCores x 0.01 x 730 = 146.00
    assert full.known == pytest.approx(146.00)
    free = _record(
        "defender",
        "azure-native:security:Pricing",
        {"pricingName": "Containers", "pricingTier": "Free"},
    )
    assert "defender" not in estimate(_with(_small_stack(), free), _table(tmp_path)).components


def test_cost_nat_gateway_and_its_public_ip_are_priced_per_hour(tmp_path: Path) -> None:
    net = _record("net", "aks-mlops:network:Network", {})
    nat = _record(
        "net-nat", "azure-native:network:NatGateway", {"sku": {"name": "Standard"}}, net.urn
    )
    ip = _record(
        "net-nat-ip", "azure-native:network:PublicIPAddress", {"sku": {"name": "Standard"}}, net.urn
    )
    report = estimate(_with(_small_stack(), net, nat, ip), _table(tmp_path))
    # NAT 0.05 x 730 = 36.50; public IP 0.005 x 730 = 3.65 -> 40.15
    idle, full = report.component_totals()["net"]
    assert idle.known == full.known == pytest.approx(40.15)
    assert idle.complete


def test_cost_unpriced_azure_type_is_unknown_with_its_type(tmp_path: Path) -> None:
    registry = next(r for r in _small_stack().resources if r.name == "registry")
    new_type = _record(
        "registry-creds",
        "azure-native:containerregistry:CredentialSet",
        {"credentialSetName": "dockerhub"},
        registry.urn,
    )
    free = _record("registry-pull", "azure-native:authorization:RoleAssignment", {}, registry.urn)
    k8s = _record("registry-job", "kubernetes:batch/v1:Job", {}, registry.urn)
    report = estimate(_with(_small_stack(), new_type, free, k8s), _table(tmp_path))
    assert "unpriced:azure-native:containerregistry:CredentialSet" in report.unknown_items()
    idle, _ = report.component_totals()["registry"]
    assert idle.render() == ">= $14.60 + unknown"
    resources = {i.resource for i in report.items}
    # A role assignment has no charge of its own; a Kubernetes object runs on priced pools.
    assert "registry-pull" not in resources
    assert "registry-job" not in resources


def test_cost_standalone_volume_claim_is_priced_as_its_disk(tmp_path: Path) -> None:
    claim = _record(
        "ray-claim",
        "kubernetes:core/v1:PersistentVolumeClaim",
        {
            "spec": {
                "storageClassName": "premium-zrs",
                "resources": {"requests": {"storage": "50Gi"}},
            }
        },
    )
    report = estimate(_with(_small_stack(), claim), _table(tmp_path))
    item = next(i for i in report.items if i.resource == "ray-claim")
    assert (item.item, item.idle_quantity, item.full_quantity) == (
        "k8s-volume-gb:premium-zrs",
        50,
        50,
    )
    assert item.idle(report.table).render() == "unknown"
