"""Review rules for ``.trivyignore.yaml`` (Trivy's YAML ignore file).

Trivy accepts an entry without a reason or an expiry and ignores the finding for ever; this
project does not: every accepted finding says why and until when. The schema (sections
``vulnerabilities``, ``misconfigurations``, ``secrets``, ``licenses``; entry keys ``id``,
``paths``, ``purls``, ``statement``, ``expired_at``) is Trivy's ``IgnoreConfig``
(pkg/result/ignore.go).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SECTIONS = ("vulnerabilities", "misconfigurations", "secrets", "licenses")
ENTRY_KEYS = frozenset({"id", "paths", "purls", "statement", "expired_at"})
MAX_DAYS = 180
"""Longest accepted exception: a finding is re-reviewed at least twice a year."""
IGNORE_FILE = Path(__file__).resolve().parent.parent / ".trivyignore.yaml"


def problems(document: Any, today: dt.date) -> list[str]:
    """Every rule an ignore document breaks (empty when it is acceptable)."""
    if document is None:
        return []
    if not isinstance(document, Mapping):
        return ["the file must be a mapping of sections"]
    found = [f"unknown section {k!r}" for k in document if k not in SECTIONS]
    for section in SECTIONS:
        entries = document.get(section) or []
        if not isinstance(entries, list):
            found.append(f"{section}: must be a list")
            continue
        for index, entry in enumerate(entries):
            found.extend(f"{section}[{index}]: {p}" for p in _entry_problems(entry, today))
    return found


def _entry_problems(entry: Any, today: dt.date) -> list[str]:
    if not isinstance(entry, Mapping):
        return ["must be a mapping"]
    found = [f"unknown key {k!r}" for k in entry if k not in ENTRY_KEYS]
    if not str(entry.get("id") or "").strip():
        found.append("id is missing")
    if not str(entry.get("statement") or "").strip():
        found.append("statement (the reason) is missing")
    expiry = entry.get("expired_at")
    if expiry is None:
        found.append("expired_at is missing")
    elif not isinstance(expiry, dt.date):
        found.append(f"expired_at {expiry!r} is not a YYYY-MM-DD date")
    else:
        day = expiry.date() if isinstance(expiry, dt.datetime) else expiry
        if day <= today:
            found.append(f"expired_at {day} has passed: re-review the finding or remove it")
        elif (day - today).days > MAX_DAYS:
            found.append(f"expired_at {day} is more than {MAX_DAYS} days away")
    return found


def load(path: Path = IGNORE_FILE) -> Any:
    """The parsed ignore file."""
    return yaml.safe_load(path.read_text())
