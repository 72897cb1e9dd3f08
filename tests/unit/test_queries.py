"""The retraining triggers' PromQL: parses, names the contract's series, rejects bad input."""

from __future__ import annotations

import promql_parser
import pytest

from contract.queries import drift_query, quality_breach_query


def test_drift_query_is_the_max_of_the_models_drift_share() -> None:
    query = drift_query("churn")
    assert query == 'max(data_drift_share_ratio{model="churn"})'
    promql_parser.parse(query)


def test_quality_query_compares_the_champion_with_the_floor_as_bool() -> None:
    query = quality_breach_query("churn", 0.7)
    assert query == 'max(model_quality_score_ratio{model="churn",alias="champion"} < bool 0.7)'
    promql_parser.parse(query)


@pytest.mark.parametrize("floor", [0.0, 1.0, -0.1, 1.5])
def test_quality_floor_outside_the_open_unit_interval_is_refused(floor: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        quality_breach_query("churn", floor)


@pytest.mark.parametrize("model", ['a"}', "", "x" * 64, "a b"])
def test_a_model_name_that_would_break_the_selector_is_refused(model: str) -> None:
    with pytest.raises(ValueError, match="PromQL label value"):
        drift_query(model)
