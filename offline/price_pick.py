"""The ``pick`` of a price-table row: which item of an Azure Retail Prices API answer is its price.

A row whose number no stored page gave (``usd: null``) names a Retail Prices API query
(``lookup``) and a ``pick``: rules every field of the one right item passes (``equals``,
``contains``, ``notContains``; case-sensitive), plus how the API's price becomes the row's
(``unitOfMeasure`` converted exactly to the row's unit, ``times`` API units per row unit, ``per``
row units per API price). ``make prices`` (``offline/price_refresh.py``) applies it online;
the table's loader (``offline/cost.py``) checks it offline, so a mistyped rule fails here, not
after a network round trip.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

# The fields of an Azure Retail Prices API item a row's `pick` may test
# (https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices).
ITEM_FIELDS = (
    "currencyCode",
    "tierMinimumUnits",
    "retailPrice",
    "unitPrice",
    "armRegionName",
    "location",
    "effectiveStartDate",
    "meterId",
    "meterName",
    "productId",
    "skuId",
    "productName",
    "skuName",
    "serviceName",
    "serviceId",
    "serviceFamily",
    "unitOfMeasure",
    "type",
    "isPrimaryMeterRegion",
    "armSkuName",
)
PICK_KEYS = ("equals", "contains", "notContains", "times", "per")
# How many of a row's units one API `unitOfMeasure` is: the API's price per its unit times this
# factor is the price per the row's unit. Only exact conversions; anything else is refused.
UNIT_FACTORS: Mapping[tuple[str, str], Fraction] = types.MappingProxyType(
    {
        ("1 Hour", "hour"): Fraction(1),
        ("100 Hours", "hour"): Fraction(1, 100),
        ("1 Hour", "vcore-hour"): Fraction(1),
        ("1 Hour", "day"): Fraction(24),
        ("1/Day", "day"): Fraction(1),
        ("1/Month", "month"): Fraction(1),
        # A managed disk tier is priced per disk-month; `per` (the tier's GiB) makes it per GiB.
        ("1/Month", "gb-month"): Fraction(1),
        ("1 GB/Month", "gb-month"): Fraction(1),
        ("1 GB", "gb"): Fraction(1),
        ("10K", "10k-operations"): Fraction(1),
        ("10M", "10m-samples"): Fraction(1),
    }
)


class PriceTableError(ValueError):
    """The price table file breaks its format."""


@dataclass(frozen=True, kw_only=True)
class Pick:
    """Which item of a row's Retail Prices API answer is the row's price (all rules must hold)."""

    equals: Mapping[str, str | float | bool]
    """Item field -> the value it must have (``unitOfMeasure`` is always among them)."""
    contains: Mapping[str, tuple[str, ...]]
    """Item field -> strings its value must each contain (case-sensitive)."""
    not_contains: Mapping[str, tuple[str, ...]]
    """Item field -> strings its value must not contain (case-sensitive)."""
    times: Fraction = Fraction(1)
    """The row's price is this many API units (e.g. 4 vCores of a per-vCore meter)."""
    per: Fraction = Fraction(1)
    """The API price covers this many of the row's units (e.g. a 16 GiB disk tier, per GiB)."""

    @property
    def unit_of_measure(self) -> str:
        """The API ``unitOfMeasure`` the picked item has."""
        return str(self.equals["unitOfMeasure"])

    def matches(self, item: Mapping[str, Any]) -> bool:
        """True when ``item`` (one API item) passes every rule."""
        for key, want in self.equals.items():
            have = item.get(key)
            # bool is an int in Python: True must not equal 1, nor 1.0 equal True.
            if isinstance(have, bool) != isinstance(want, bool) or have != want:
                return False
        for key, parts in self.contains.items():
            text = item.get(key)
            if not isinstance(text, str) or not all(p in text for p in parts):
                return False
        for key, parts in self.not_contains.items():
            text = item.get(key)
            if not isinstance(text, str) or any(p in text for p in parts):
                return False
        return True


def _strings(where: str, value: Any) -> tuple[str, ...]:
    parts = [value] if isinstance(value, str) else value
    if not isinstance(parts, list) or not parts:
        raise PriceTableError(f"{where} ({value!r}) must be a string or a non-empty list of them")
    for part in parts:
        if not isinstance(part, str) or not part:
            raise PriceTableError(f"{where} ({part!r}) must be a non-empty string")
    return tuple(parts)


def _fields(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PriceTableError(f"{where} ({value!r}) must be a mapping of API item fields")
    for key in value:
        if key not in ITEM_FIELDS:
            raise PriceTableError(
                f"{where}.{key}: not a Retail Prices API item field (one of {ITEM_FIELDS})"
            )
    return value


def _factor(where: str, value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise PriceTableError(f"{where} ({value!r}) must be a number > 0")
    return Fraction(str(value))


def parse_pick(where: str, raw: Any, unit: str) -> Pick:
    """A row's ``pick``: checked so ``make prices`` can apply it without guessing."""
    if not isinstance(raw, Mapping):
        raise PriceTableError(f"{where} ({raw!r}) must be a mapping")
    for key in raw:
        if key not in PICK_KEYS:
            raise PriceTableError(f"{where}.{key}: unknown rule (one of {PICK_KEYS})")
    equals = dict(_fields(f"{where}.equals", raw.get("equals") or {}))
    for key, value in equals.items():
        if not isinstance(value, str | int | float | bool):
            raise PriceTableError(f"{where}.equals.{key} ({value!r}) must be a scalar")
    api_unit = equals.get("unitOfMeasure")
    if not isinstance(api_unit, str):
        raise PriceTableError(
            f"{where}.equals.unitOfMeasure is required: the API unit the price is converted from"
        )
    if (api_unit, unit) not in UNIT_FACTORS:
        known = sorted(a for a, u in UNIT_FACTORS if u == unit)
        raise PriceTableError(
            f"{where}.equals.unitOfMeasure ({api_unit}) does not convert exactly to the row's "
            f"unit {unit} (known: {known})"
        )
    per = _factor(f"{where}.per", raw.get("per", 1))
    if (api_unit, unit) == ("1/Month", "gb-month") and "per" not in raw:
        raise PriceTableError(
            f"{where}.per is required: a per-month (disk tier) price is per GB only divided by "
            "the tier's size"
        )
    contains = {
        k: _strings(f"{where}.contains.{k}", v)
        for k, v in _fields(f"{where}.contains", raw.get("contains") or {}).items()
    }
    not_contains = {
        k: _strings(f"{where}.notContains.{k}", v)
        for k, v in _fields(f"{where}.notContains", raw.get("notContains") or {}).items()
    }
    return Pick(
        equals=types.MappingProxyType(equals),
        contains=types.MappingProxyType(contains),
        not_contains=types.MappingProxyType(not_contains),
        times=_factor(f"{where}.times", raw.get("times", 1)),
        per=per,
    )
