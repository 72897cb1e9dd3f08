"""Hand-made registrations for tests of the checks that read them (negative cases)."""

from __future__ import annotations

from typing import Any

from offline.runner import RecordedResource


def recorded(
    typ: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    parent: str = "",
    provider: str = "",
    custom: bool = True,
) -> RecordedResource:
    """A registration as the mock monitor records it (URN as the engine forms it)."""
    return RecordedResource(
        urn=f"urn:pulumi:unit::aks-mlops::{typ}::{name}",
        type=typ,
        name=name,
        custom=custom,
        parent=parent,
        dependencies=[],
        protect=False,
        retain_on_delete=False,
        ignore_changes=[],
        provider=provider,
        aliases=[],
        inputs=inputs or {},
    )
