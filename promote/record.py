"""The promotion record: what the last promotion pinned in a stack, to detect edits by hand.

``promotions/<stack>.json`` (beside the stack files, committed with them) holds the sha256 of
the stack's model pins — ``release.models[].name`` and ``.version``, read through the config
model, sorted by name — as the last promotion wrote them, and that promotion's lineage. Before
a promotion the target's current pins must hash to the recorded value: a pin changed by hand
since (or a pin with no record at all) is refused, so a promotion never silently overwrites a
version someone set without the tool.

Only the pins the tool owns are hashed: serving settings of an entry and image digests in the
same block are configuration other tools and people edit, not promoted state.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from infra.config.release import ReleaseModel

RECORD_DIR = "promotions"
RECORD_VERSION = 1


def record_path(root: Path, stack: str) -> Path:
    """Where the promotion record of ``stack`` lives."""
    return root / RECORD_DIR / f"{stack}.json"


def pins_of(models: Iterable[ReleaseModel]) -> list[dict[str, Any]]:
    """The model pins, as ``{"name", "version"}`` sorted by name."""
    return [{"name": m.name, "version": m.version} for m in sorted(models, key=lambda m: m.name)]


def pins_digest(pins: list[dict[str, Any]]) -> str:
    """sha256 of the pins' canonical JSON."""
    canonical = json.dumps(pins, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_record(root: Path, stack: str) -> dict[str, Any] | None:
    """The stack's promotion record, or None when it was never promoted into."""
    path = record_path(root, stack)
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def hand_edit_problem(
    stack: str, current: list[dict[str, Any]], record: Mapping[str, Any] | None
) -> str | None:
    """Why the current pins do not match the last promotion, or None when they do."""
    where = f"{RECORD_DIR}/{stack}.json"
    if record is None:
        if not current:
            return None
        return (
            f"Pulumi.{stack}.yaml pins {current} in release.models but {where} records no "
            "promotion: the pins were written by hand (remove them: pins are set by promoting)"
        )
    if record.get("pinsSha256") == pins_digest(current):
        return None
    return (
        f"release.models of Pulumi.{stack}.yaml was edited by hand since its last promotion: "
        f"it pins {current}, {where} recorded {record.get('pins')} "
        "(restore the recorded pins: pins are changed by promoting)"
    )


def new_record(stack: str, pins: list[dict[str, Any]], lineage: Mapping[str, str]) -> str:
    """The record's text after a promotion that left ``pins`` in the stack."""
    body = {
        "recordVersion": RECORD_VERSION,
        "stack": stack,
        "pins": pins,
        "pinsSha256": pins_digest(pins),
        "lastPromotion": dict(sorted(lineage.items())),
    }
    return json.dumps(body, indent=2) + "\n"
