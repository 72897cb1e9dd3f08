"""Documentation placeholders: listed with key, value and what to put there; fatal for real."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import mocks

from infra.config import parse_config
from infra.config import placeholders as ph
from infra.config.placeholders import (
    OFFLINE_PLAN_ENV,
    PlaceholderError,
    enforce_no_placeholders,
    find_placeholders,
    is_placeholder_digest,
    is_placeholder_guid,
    offline_plan_active,
)
from offline.runner import OfflineMocks
from tests.conftest import encode, stack_values
from tests.unit.test_config import _set

ADMINS = (
    "is a documentation placeholder: put the object id of your Entra group of cluster admins "
    "there (az ad group show --group <name> --query id -o tsv)"
)
PG_ADMIN = (
    "is a documentation placeholder: put the object id of the Entra group that administers "
    "PostgreSQL there (and its name in postgres.entraAdmin.principalName)"
)
RANGE = (
    "is a documentation placeholder: a documentation range (RFC 5737); put the public CIDRs "
    "your admins and CI reach the API server from there"
)
RUNNERS = (
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-mlops-runners/"
    "providers/Microsoft.Network/virtualNetworks/vnet-mlops-runners"
)
VNET = (
    "is a documentation placeholder: the VNet is in a made-up subscription; put the resource "
    "id of your CI runners' VNet there"
)
DIGEST = (
    "is a documentation placeholder: a made-up digest; put the digest CI pushed to this "
    "stack's registry there (make promote writes it)"
)
PLACEHOLDER_IMAGE = "aks-mlops/workloads@sha256:" + "0" * 64
REAL_IMAGE = "aks-mlops/workloads@sha256:" + "3f9a1c0e7b52d6848e1f0a9c2b7d3e56" * 2
ONES = "11111111-1111-4111-8111-111111111111"
TWOS = "22222222-2222-4222-8222-222222222222"

SHIPPED: dict[str, list[str]] = {
    "dev": [
        f'cluster.adminGroupObjectIds[0] ("{ONES}") {ADMINS}',
        f'postgres.entraAdmin.objectId ("{ONES}") {PG_ADMIN}',
        f'cluster.apiServer.authorizedIpRanges[0] ("203.0.113.0/24") {RANGE}',
        f'release.images.workloads ("{PLACEHOLDER_IMAGE}") {DIGEST}',
    ],
    "test": [
        f'cluster.adminGroupObjectIds[0] ("{ONES}") {ADMINS}',
        f'postgres.entraAdmin.objectId ("{ONES}") {PG_ADMIN}',
        f'network.peerings.runners ("{RUNNERS}") {VNET}',
        f'release.images.workloads ("{PLACEHOLDER_IMAGE}") {DIGEST}',
    ],
    "prod": [
        f'cluster.adminGroupObjectIds[0] ("{TWOS}") {ADMINS}',
        f'postgres.entraAdmin.objectId ("{TWOS}") {PG_ADMIN}',
        f'network.peerings.runners ("{RUNNERS}") {VNET}',
        f'release.images.workloads ("{PLACEHOLDER_IMAGE}") {DIGEST}',
    ],
}
REAL_GROUP = "5f0c7a1e-93d2-4b8e-a6c4-2e9d81b07f35"
REAL_RUNNERS = RUNNERS.replace(
    "00000000-0000-4000-8000-000000000001", "7d3e0f52-8a41-4c6b-9e27-b15f4a90c8d3"
)


def _real(stack: str) -> dict[str, Any]:
    """The shipped stack file with every placeholder replaced by a plausible real value."""
    values = stack_values(stack)
    _set(values, "cluster.adminGroupObjectIds", [REAL_GROUP])
    _set(values, "postgres.entraAdmin.objectId", REAL_GROUP)
    if "authorizedIpRanges" in values["aks-mlops:cluster"]["apiServer"]:
        _set(values, "cluster.apiServer.authorizedIpRanges", ["20.50.60.0/28"])
    if "peerings" in values["aks-mlops:network"]:
        _set(values, "network.peerings", {"runners": REAL_RUNNERS})
    _set(values, "release.images.workloads", REAL_IMAGE)
    return values


@pytest.mark.parametrize("stack", sorted(SHIPPED))
def test_placeholders_listed_for_each_shipped_stack(stack: str) -> None:
    assert find_placeholders(parse_config(encode(stack_values(stack)))) == SHIPPED[stack]


@pytest.mark.parametrize("stack", sorted(SHIPPED))
def test_placeholders_none_once_replaced(stack: str) -> None:
    assert find_placeholders(parse_config(encode(_real(stack)))) == []


@pytest.mark.parametrize("cidr", ["192.0.2.0/24", "198.51.100.128/25", "203.0.113.7/32"])
def test_placeholders_documentation_ranges_are_flagged(cidr: str) -> None:
    values = _real("dev")
    _set(values, "cluster.apiServer.authorizedIpRanges", ["20.50.60.0/28", cidr])
    assert find_placeholders(parse_config(encode(values))) == [
        f'cluster.apiServer.authorizedIpRanges[1] ("{cidr}") {RANGE}'
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (ONES, True),
        (TWOS, True),
        ("00000000-0000-0000-0000-000000000000", True),
        ("00000000-0000-4000-8000-000000000001", True),
        (REAL_GROUP, False),
        ("9c2e4b71-0d8f-4a36-b5e1-7f4c2a9d6e08", False),
        # Three distinct random digits, one of them right after the variant nibble.
        ("22222222-2222-4222-8322-222222222227", False),
        ("not-a-guid", False),
    ],
)
def test_placeholders_guid_shape(value: str, expected: bool) -> None:
    assert is_placeholder_guid(value) is expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (PLACEHOLDER_IMAGE, True),
        ("aks-mlops/workloads@sha256:" + "f" * 64, True),
        (REAL_IMAGE, False),
        ("aks-mlops/workloads:1.4.0", False),
    ],
)
def test_placeholders_digest_shape(image: str, expected: bool) -> None:
    assert is_placeholder_digest(image) is expected


def test_placeholders_stop_a_real_deployment_naming_each(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_PLAN_ENV, raising=False)
    with pytest.raises(PlaceholderError) as info:
        enforce_no_placeholders(parse_config(encode(stack_values("test"))))
    assert info.value.problems == SHIPPED["test"]
    assert str(info.value).startswith(
        "the stack file still has 4 documentation placeholder(s); replace them before a real "
        "deployment:\n  - cluster.adminGroupObjectIds[0]"
    )
    # One problem per line, each a bullet.
    assert str(info.value).splitlines()[1:] == [f"  - {p}" for p in SHIPPED["test"]]


def test_placeholders_warned_in_the_offline_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OFFLINE_PLAN_ENV, "1")
    monkeypatch.setattr(ph.settings, "get_monitor", lambda: mocks.MockMonitor(OfflineMocks()))
    warned: list[str] = []
    monkeypatch.setattr(ph.pulumi.log, "warn", lambda msg, *a, **k: warned.append(msg))
    found = enforce_no_placeholders(parse_config(encode(stack_values("dev"))))
    assert found == SHIPPED["dev"]
    assert warned == [
        "offline plan: 4 documentation placeholder(s) a real deployment refuses: "
        "cluster.adminGroupObjectIds[0], postgres.entraAdmin.objectId, "
        "cluster.apiServer.authorizedIpRanges[0], release.images.workloads"
    ]


def test_placeholders_nothing_to_enforce_on_real_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OFFLINE_PLAN_ENV, raising=False)
    assert enforce_no_placeholders(parse_config(encode(_real("prod")))) == []


@pytest.mark.parametrize(
    ("env", "mocked", "expected"),
    [("1", True, True), ("1", False, False), (None, True, False), ("yes", True, False)],
)
def test_placeholders_offline_plan_needs_the_flag_and_the_mock_runtime(
    monkeypatch: pytest.MonkeyPatch, env: str | None, mocked: bool, expected: bool
) -> None:
    if env is None:
        monkeypatch.delenv(OFFLINE_PLAN_ENV, raising=False)
    else:
        monkeypatch.setenv(OFFLINE_PLAN_ENV, env)
    monitor = mocks.MockMonitor(OfflineMocks()) if mocked else object()
    monkeypatch.setattr(ph.settings, "get_monitor", lambda: monitor)
    assert offline_plan_active() is expected
