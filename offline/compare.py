"""Side-by-side comparison of two stacks: what promoting from one to the other changes.

Two views, both from the real program run offline for each stack:

- **settings**: every config setting after validation and defaults (the typed model), grouped
  by section (``cluster``, ``gpuPools``, ``registry``, ``alerts`` …), where the two differ;
- **resources**: resources that exist in one stack only (matched by type and logical name),
  and, for those in both, the plan summary's settings line where it differs.

``make diff FROM=dev TO=prod``; a stack against itself prints ``no differences``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.config import PlatformConfig
from offline.cost import estimate
from offline.runner import OfflineRun
from offline.summary import settings_of


@dataclass(frozen=True)
class SettingDiff:
    """One config setting that differs (``None`` where a stack does not set it)."""

    section: str
    key: str
    left: Any
    right: Any

    @property
    def path(self) -> str:
        """``section.key`` as a stack file would spell it (``gpuPools[gput4].vmSize``)."""
        if not self.key:
            return self.section
        return self.section + ("" if self.key.startswith("[") else ".") + self.key


@dataclass(frozen=True)
class ResourceDiff:
    """A resource in one stack only, or whose summary settings differ."""

    key: str
    """``<type>::<logical name>``."""
    left: str | None
    """Settings in the first stack; None where the resource is absent."""
    right: str | None


@dataclass
class StackDiff:
    """Everything that differs between two stacks."""

    left: str
    right: str
    settings: list[SettingDiff] = field(default_factory=list)
    resources: list[ResourceDiff] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.settings or self.resources)

    def as_json(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "from": self.left,
            "to": self.right,
            "differences": bool(self),
            "settings": [{"key": s.path, "from": s.left, "to": s.right} for s in self.settings],
            "resources": [
                {"resource": r.key, "from": r.left, "to": r.right} for r in self.resources
            ],
        }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys for nested mappings; list items by their ``name`` where they have one (a
    pool is the same pool whatever its position: ``gpuPools[gput4].vmSize``), else by index."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        named = all(isinstance(v.get("name"), str) for v in value)
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{v['name'] if named else i}]"))
    else:
        out[prefix] = value
    return out


def _section_items(config: PlatformConfig) -> dict[str, dict[str, Any]]:
    dumped = config.model_dump(mode="json", by_alias=True)
    sections: dict[str, dict[str, Any]] = {}
    for section, value in dumped.items():
        if isinstance(value, Mapping | list):
            flat = flatten(value)
            sections[section] = {k: v for k, v in flat.items()}
        else:
            sections[section] = {"": value}
    return sections


def compare_settings(left: PlatformConfig, right: PlatformConfig) -> list[SettingDiff]:
    """Config settings that differ, section by section."""
    a, b = _section_items(left), _section_items(right)
    diffs: list[SettingDiff] = []
    for section in sorted(set(a) | set(b)):
        sa, sb = a.get(section, {}), b.get(section, {})
        for key in sorted(set(sa) | set(sb)):
            if sa.get(key) != sb.get(key):
                diffs.append(SettingDiff(section, key, sa.get(key), sb.get(key)))
    return diffs


def _resource_key(urn: str) -> str:
    # urn:pulumi:<stack>::<project>::<type chain>::<name> -> last type and name, stack-free.
    type_chain, name = urn.split("::")[2:4]
    return f"{type_chain.rsplit('$', 1)[-1]}::{name}"


def compare_resources(left: OfflineRun, right: OfflineRun) -> list[ResourceDiff]:
    """Resources present in one stack only, and summary settings that differ."""
    a = {_resource_key(r.urn): settings_of(r) for r in left.resources if r.custom}
    b = {_resource_key(r.urn): settings_of(r) for r in right.resources if r.custom}
    return [
        ResourceDiff(key, a.get(key), b.get(key))
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def compare(
    left: tuple[OfflineRun, PlatformConfig], right: tuple[OfflineRun, PlatformConfig]
) -> StackDiff:
    """Everything that differs between two planned stacks."""
    return StackDiff(
        left=left[0].stack,
        right=right[0].stack,
        settings=compare_settings(left[1], right[1]) + compare_costs(left[0], right[0]),
        resources=compare_resources(left[0], right[0]),
    )


def compare_costs(left: OfflineRun, right: OfflineRun) -> list[SettingDiff]:
    """The estimated monthly cost (offline/cost.py), idle and full scale, where it differs."""
    a, b = estimate(left), estimate(right)
    pairs = (("idle", a.idle(), b.idle()), ("fullScale", a.full(), b.full()))
    return [
        SettingDiff("estimatedMonthlyCost", key, x.render(), y.render())
        for key, x, y in pairs
        if x.render() != y.render()
    ]
