"""The retrain's data validation: what a bad batch is rejected for, what a good one gives."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from workloads.data.generate import bad_batch, good_batch, to_csv_bytes
from workloads.data.schema import read_table, validate
from workloads.retrain.batch import Batch, BatchFile, batch_id, check


def _checks(frame: pd.DataFrame) -> set[tuple[str | None, str]]:
    return {(p.column, p.check) for p in validate(frame).problems}


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    return read_table("batch.csv", to_csv_bytes(frame))


def _file(name: str, data: bytes) -> BatchFile:
    return BatchFile(name=f"incoming/{name}", data=data, sha256="0" * 64)


def test_validate_good_batch_typed_when_valid() -> None:
    result = validate(_csv(good_batch(300, 1)))

    assert result.ok
    assert result.frame is not None
    assert result.frame.dtypes.astype(str).to_dict() == {
        "tenure_months": "int64",
        "monthly_charges": "float64",
        "support_calls": "int64",
        "data_usage_gb": "float64",
        "contract_months": "int64",
        "churned": "int64",
    }


def test_validate_bad_batch_reports_missing_types_and_ranges() -> None:
    found = _checks(_csv(bad_batch(300, 1)))

    assert ("monthly_charges", "not_nullable") in found
    assert ("data_usage_gb", "not_nullable") in found
    assert ("support_calls", "coerce_dtype('int64')") in found
    assert ("tenure_months", "in_range(0, 120)") in found
    assert ("monthly_charges", "in_range(0.0, 1000.0)") in found
    assert ("contract_months", "isin([1, 12, 24])") in found
    assert ("churned", "isin([0, 1])") in found


def test_validate_bad_batch_examples_name_rows_and_values() -> None:
    problems = {(p.column, p.check): p for p in validate(_csv(bad_batch(300, 1))).problems}

    wrong_type = problems[("support_calls", "coerce_dtype('int64')")]
    assert wrong_type.failures == 1
    assert wrong_type.examples == [{"index": 7, "value": "many"}]
    assert problems[("tenure_months", "in_range(0, 120)")].examples == [{"index": 11, "value": 480}]


def test_validate_one_label_value_fails_label_balance() -> None:
    found = _checks(_csv(good_batch(300, 1).assign(churned=0)))

    assert found == {(None, "each churned value >= 0.05 of the rows")}


def test_validate_few_rows_fails_row_count() -> None:
    assert (None, ">= 100 rows") in _checks(_csv(good_batch(60, 1)))


def test_validate_unknown_and_missing_columns_fail_schema() -> None:
    frame = _csv(good_batch(300, 1)).drop(columns=["data_usage_gb"]).assign(region="north")
    found = _checks(frame)

    assert (None, "column_in_schema") in found
    assert (None, "column_in_dataframe") in found


def test_validate_float_text_in_integer_column_is_a_type_error() -> None:
    frame = _csv(good_batch(300, 1))
    frame.loc[4, "tenure_months"] = "12.5"

    assert ("tenure_months", "coerce_dtype('int64')") in _checks(frame)


def test_validation_report_is_json_ready_when_invalid() -> None:
    report = validate(_csv(bad_batch(300, 1))).as_dict()

    assert report["valid"] is False
    assert report["rows"] == 300
    assert json.loads(json.dumps(report)) == report


def test_check_unsupported_and_unreadable_files_are_problems() -> None:
    batch = Batch(
        id="x",
        files=[
            _file("notes.txt", b"hello"),
            _file("broken.parquet", b"not parquet"),
            _file("ok.csv", to_csv_bytes(good_batch(300, 1))),
        ],
    )
    result = check(batch)

    assert result.frame is None
    assert [p.check for p in result.problems] == ["file type in ('.csv', '.parquet')", "readable"]
    assert result.problems[1].examples[0]["file"] == "broken.parquet"


def test_check_several_files_validated_together() -> None:
    rows = good_batch(400, 2)
    batch = Batch(
        id="x",
        files=[
            _file("a/part-1.csv", to_csv_bytes(rows.iloc[:200])),
            _file("a/part-2.parquet", rows.iloc[200:].to_parquet(index=False)),
        ],
    )
    result = check(batch)

    assert result.ok
    assert result.frame is not None
    assert len(result.frame) == 400


def test_batch_id_same_content_same_id_whatever_the_order() -> None:
    digests = {"a.csv": "1" * 64, "b.csv": "2" * 64}

    assert batch_id(digests) == batch_id(dict(reversed(digests.items())))
    assert batch_id(digests) != batch_id({"a.csv": "1" * 64, "b.csv": "3" * 64})
    assert batch_id(digests) != batch_id({"a.csv": "2" * 64, "b.csv": "1" * 64})
    assert len(batch_id(digests)) == 16


@pytest.mark.parametrize("rows", [100, 1000])
def test_generator_same_seed_same_rows(rows: int) -> None:
    pd.testing.assert_frame_equal(good_batch(rows, 5), good_batch(rows, 5))
    assert not good_batch(rows, 5).equals(good_batch(rows, 6))
