"""The churn dataset: the reference model's schema, validated with pandera.

A team replaces this module with its own dataset; the retrain job and the monitor only use
:data:`FEATURES`, :data:`LABEL`, :func:`validate` and :func:`read_table`.

Schema (one row per customer and month; CSV with a header row, or Parquet):

========================  =======  ==============  ============================================
column                    type     allowed         meaning
========================  =======  ==============  ============================================
``tenure_months``         int64    0 .. 120        months since the customer signed up
``monthly_charges``       float64  0 .. 1000       amount billed last month (EUR)
``support_calls``         int64    0 .. 100        support tickets opened in the last 90 days
``data_usage_gb``         float64  0 .. 5000       mobile data used last month (GB)
``contract_months``       int64    1, 12 or 24     commitment of the current contract
``churned``               int64    0 or 1          the label: left within the next month
========================  =======  ==============  ============================================

No column may be missing or empty, no other column may be present, and a batch must hold at
least :data:`MIN_ROWS` rows with each class at least :data:`MIN_CLASS_SHARE` of them (a batch
of one class cannot train a classifier, nor measure one).

CSV cells are read as text and coerced to the schema's types, so a value of the wrong type
(``"abc"``, ``"3.5"`` in an integer column) is reported as such instead of silently turning a
column into floats or strings.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

FEATURES: tuple[str, ...] = (
    "tenure_months",
    "monthly_charges",
    "support_calls",
    "data_usage_gb",
    "contract_months",
)
"""The model's input columns, in the order the model is trained on."""
LABEL = "churned"
"""The binary label (1 = the customer left)."""
MIN_ROWS = 100
"""Fewer rows cannot give a held-out set worth comparing two models on."""
MIN_CLASS_SHARE = 0.05
"""Each label value must be at least this share of a batch's rows."""
DATA_SUFFIXES = (".csv", ".parquet")
"""File types a batch may contain."""
_EXAMPLES_PER_CHECK = 5


def _class_share(frame: pd.DataFrame) -> float:
    """Share of the rarer label value (0 when only one value, or the label is unusable)."""
    labels = pd.to_numeric(frame.get(LABEL), errors="coerce")
    labels = labels[labels.isin([0, 1])]  # other values are the isin check's failures
    if labels.empty:
        return 0.0
    counts = labels.value_counts()
    if len(counts) < 2:
        return 0.0
    return float(counts.min() / len(labels))


SCHEMA = pa.DataFrameSchema(
    {
        "tenure_months": pa.Column("int64", pa.Check.in_range(0, 120)),
        "monthly_charges": pa.Column("float64", pa.Check.in_range(0.0, 1000.0)),
        "support_calls": pa.Column("int64", pa.Check.in_range(0, 100)),
        "data_usage_gb": pa.Column("float64", pa.Check.in_range(0.0, 5000.0)),
        "contract_months": pa.Column("int64", pa.Check.isin([1, 12, 24])),
        LABEL: pa.Column("int64", pa.Check.isin([0, 1])),
    },
    checks=[
        pa.Check(lambda df: len(df) >= MIN_ROWS, name="min_rows", error=f">= {MIN_ROWS} rows"),
        pa.Check(
            lambda df: _class_share(df) >= MIN_CLASS_SHARE,
            name="label_balance",
            error=f"each {LABEL} value >= {MIN_CLASS_SHARE:g} of the rows",
        ),
    ],
    strict=True,
    coerce=True,
    name="churn",
)
"""Every column required, non-null (pandera's default), typed, in range; nothing else."""


class BatchReadError(ValueError):
    """A file of a batch could not be parsed at all (not CSV/Parquet, or unreadable)."""


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One failed check of a validation, as written into the report."""

    column: str | None
    """Column checked, or None for a check of the whole table."""
    check: str
    """pandera's name of the check (``not_nullable``, ``in_range(0, 120)``, ...)."""
    failures: int
    """How many values (or tables) failed it."""
    examples: list[dict[str, Any]] = field(default_factory=list)
    """A few failing values with their row index (JSON-ready)."""


@dataclass(frozen=True, kw_only=True)
class Validation:
    """The outcome of :func:`validate`: the typed table when valid, else the problems."""

    rows: int
    problems: list[Problem]
    frame: pd.DataFrame | None
    """The table coerced to the schema's types (None when invalid)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """The JSON-ready report body."""
        return {
            "schema": SCHEMA.name,
            "valid": self.ok,
            "rows": self.rows,
            "problems": [
                {
                    "column": p.column,
                    "check": p.check,
                    "failures": p.failures,
                    "examples": p.examples,
                }
                for p in self.problems
            ],
        }


def read_table(name: str, data: bytes) -> pd.DataFrame:
    """One batch file as a table of raw values (CSV: all text; Parquet: its own types)."""
    lower = name.lower()
    try:
        if lower.endswith(".csv"):
            return pd.read_csv(io.BytesIO(data), dtype=str, skipinitialspace=True)
        if lower.endswith(".parquet"):
            return pd.read_parquet(io.BytesIO(data))
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas/pyarrow parse errors
        raise BatchReadError(f"{name}: cannot be read ({type(exc).__name__}: {exc})") from exc
    raise BatchReadError(f"{name}: unsupported file type (expected one of {DATA_SUFFIXES})")


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _problems(failure_cases: pd.DataFrame) -> list[Problem]:
    cases = failure_cases.astype(object).where(failure_cases.notna(), None)
    # A column whose values could not be coerced has its value checks run on raw text, which
    # fails with a TypeError per check: that says nothing the coercion failure does not.
    uncoerced = {
        row["column"] for _, row in cases.iterrows() if str(row["check"]).startswith("coerce_dtype")
    }
    problems: list[Problem] = []
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        # pandera names a table-wide check's "column" after the schema.
        blank = column is None or pd.isna(column) or column == SCHEMA.name
        column_name = None if blank else str(column)
        check_name = str(check)
        if column_name in uncoerced and not check_name.startswith(("coerce_dtype", "dtype")):
            continue
        examples = [
            {"index": _json_value(row["index"]), "value": _json_value(row["failure_case"])}
            for _, row in group.head(_EXAMPLES_PER_CHECK).iterrows()
        ]
        problems.append(
            Problem(column=column_name, check=check_name, failures=len(group), examples=examples)
        )
    return problems


def validate(frame: pd.DataFrame) -> Validation:
    """Check ``frame`` against :data:`SCHEMA`, collecting every failure (pandera lazy mode)."""
    try:
        typed = SCHEMA.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return Validation(rows=len(frame), problems=_problems(exc.failure_cases), frame=None)
    return Validation(rows=len(typed), problems=[], frame=typed[[*FEATURES, LABEL]])


def schema_document() -> dict[str, Any]:
    """The schema as pandera serialises it, plus the table-wide rules it cannot serialise
    (recorded beside each training run's data)."""
    with warnings.catch_warnings():
        # pandera warns that the custom table-wide checks are not serialisable: listed below.
        warnings.simplefilter("ignore", UserWarning)
        document: dict[str, Any] = json.loads(str(SCHEMA.to_json()))
    document["table_checks"] = {"min_rows": MIN_ROWS, "min_class_share": MIN_CLASS_SHARE}
    document["features"] = list(FEATURES)
    document["label"] = LABEL
    return document
