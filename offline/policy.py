"""The policy pack over an offline run: the same rule functions ``pulumi preview`` runs, fed
with the recorded resources (wire-name inputs and options)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from offline.runner import OfflineRun
from policies.rules import Finding, Level, evaluate, validation_args


def findings(run: OfflineRun, levels: Mapping[str, Level]) -> list[Finding]:
    """Every violation in the stack's custom resources, at the stack's levels."""
    return evaluate(
        (
            validation_args(
                resource_type=r.type,
                props=r.inputs,
                name=r.name,
                urn=r.urn,
                protect=r.protect,
                retain_on_delete=r.retain_on_delete,
                parent=r.parent,
            )
            for r in run.resources
            if r.custom
        ),
        levels,
    )


def pack_config(levels: Mapping[str, Level]) -> dict[str, str]:
    """``--policy-pack-config`` for ``pulumi preview``: each rule's enforcement level."""
    return dict(sorted(levels.items()))


def write_pack_config(levels: Mapping[str, Level], path: Path) -> Path:
    """Write the pack config JSON (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(pack_config(levels), indent=2) + "\n")
    tmp.replace(path)
    return path
