"""PromQL helpers for the tests: parse with promql-parser, list the series an expression reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
# Grafana's interval variables are not PromQL; a panel query is parsed with a duration in place.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)\b")
LABEL_VALUES = re.compile(r"^label_values\((?P<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*\w+\)$")


def parse(expression: str) -> promql_parser.Expr:
    """Parse ``expression`` (raises ``ValueError`` on a syntax error)."""
    return promql_parser.parse(GRAFANA_INTERVALS.sub("5m", expression))


def series_names(expression: str) -> set[str]:
    """Every metric name the expression selects."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            names.update(m.value for m in node.matchers.matchers if m.name == "__name__")

    promql_parser.walk(parse(expression), pre_visit=visit)
    return names


def dashboards() -> dict[str, dict[str, Any]]:
    """Every dashboard JSON under dashboards/, by file stem."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target."""
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def variable_metrics(dashboard: dict[str, Any]) -> list[str]:
    """The metric of every ``label_values(metric, label)`` template variable."""
    found = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.match(variable["query"]["query"])
        assert match, f"variable {variable['name']}: not a label_values(metric, label) query"
        found.append(match["metric"])
    return found
