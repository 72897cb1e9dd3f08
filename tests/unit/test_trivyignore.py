"""``.trivyignore.yaml``: every accepted finding has a reason and an expiry that has not passed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from offline.trivyignore import IGNORE_FILE, load, problems

TODAY = dt.date(2026, 11, 27)


def test_shipped_ignore_file_is_acceptable_today() -> None:
    assert problems(load(), dt.datetime.now(dt.UTC).date()) == []


def test_shipped_ignore_file_is_trivy_yaml_format() -> None:
    # Trivy reads the YAML format only for a .yaml/.yml extension (pkg/result/ignore.go).
    assert IGNORE_FILE.name == ".trivyignore.yaml"
    assert isinstance(load(), dict)


def _doc(**entry: Any) -> Any:
    return {"vulnerabilities": [{"id": "CVE-2026-1234", **entry}]}


GOOD = {"statement": "not reachable (issue #1)", "expired_at": dt.date(2027, 1, 31)}


def test_a_reasoned_entry_with_a_future_expiry_passes() -> None:
    assert problems(_doc(**GOOD), TODAY) == []
    assert problems(yaml.safe_load("vulnerabilities:\n"), TODAY) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_doc(expired_at=dt.date(2027, 1, 31)), "statement (the reason) is missing"),
        (_doc(statement="  ", expired_at=dt.date(2027, 1, 31)), "statement (the reason)"),
        (_doc(statement="ok"), "expired_at is missing"),
        (_doc(statement="ok", expired_at=dt.date(2026, 11, 27)), "has passed"),
        (_doc(statement="ok", expired_at=dt.date(2025, 1, 1)), "has passed"),
        (_doc(statement="ok", expired_at="next year"), "is not a YYYY-MM-DD date"),
        (_doc(statement="ok", expired_at=dt.date(2028, 1, 1)), "more than 180 days"),
        ({"vulnerabilities": [{**GOOD}]}, "id is missing"),
        (_doc(**GOOD, reason="x"), "unknown key 'reason'"),
        ({"vulns": []}, "unknown section 'vulns'"),
        ({"misconfigurations": {"id": "X"}}, "misconfigurations: must be a list"),
        (["CVE-2026-1234"], "must be a mapping of sections"),
    ],
)
def test_bad_entries_are_rejected(document: Any, message: str) -> None:
    found = problems(document, TODAY)
    assert any(message in p for p in found), found


def test_yaml_dates_parse_as_dates() -> None:
    # What a reviewer writes in the file (unquoted YAML date) is what the rule checks.
    doc = yaml.safe_load(
        "vulnerabilities:\n  - id: CVE-2026-1\n    statement: x\n    expired_at: 2026-12-01\n"
    )
    assert problems(doc, TODAY) == []
    assert problems(doc, dt.date(2026, 12, 2)) != []
