"""The monitor's drift test and its choice of recent data (no services)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from workloads.common.storage import SettingsError
from workloads.data.generate import degraded_batch, good_batch
from workloads.monitor.drift import ALPHA, drift
from workloads.monitor.service import Settings, newest_data_blob


def test_drift_same_population_no_feature_drifted() -> None:
    result = drift(good_batch(2000, 1), good_batch(600, 2))

    assert result.share == 0.0
    assert result.drifted == ()
    assert min(result.p_values.values()) >= ALPHA


def test_drift_degraded_population_every_feature_drifted() -> None:
    result = drift(good_batch(2000, 1), degraded_batch(600, 2))

    assert result.share == 1.0
    assert len(result.drifted) == 5


def test_drift_one_shifted_feature_counts_one_fifth() -> None:
    current = good_batch(600, 2)
    current["monthly_charges"] = current["monthly_charges"] + 25.0

    result = drift(good_batch(2000, 1), current)

    assert result.drifted == ("monthly_charges",)
    assert result.share == pytest.approx(0.2)


def test_drift_no_features_raises() -> None:
    with pytest.raises(ValueError, match="at least one feature"):
        drift(good_batch(200, 1), good_batch(200, 2), features=())


@dataclass
class _Blob:
    name: str
    last_modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class _Container:
    blobs: list[_Blob]

    def list_blobs(self, name_starts_with: str, include: list[str]) -> list[_Blob]:
        return [b for b in self.blobs if b.name.startswith(name_starts_with)]


def _at(hour: int) -> datetime:
    return datetime(2026, 11, 27, hour, tzinfo=UTC)


def test_newest_data_blob_latest_modified_data_file() -> None:
    container: Any = _Container(
        [
            _Blob("labelled/2026-11-27.csv", _at(9)),
            _Blob("labelled/2026-11-26.parquet", _at(11)),
            _Blob("labelled/notes.txt", _at(12)),
            _Blob("labelled/dir", _at(13), {"hdi_isfolder": "true"}),
            _Blob("other/new.csv", _at(14)),
        ]
    )

    assert newest_data_blob(container) == "labelled/2026-11-26.parquet"
    assert newest_data_blob(_Container([])) is None  # type: ignore[arg-type]


def test_monitor_settings_interval_and_documents_from_env() -> None:
    env = {"MODEL_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow:5000"}

    assert Settings.from_env(env).interval_seconds == 300.0
    assert Settings.from_env(env).documents_container is None
    custom = Settings.from_env(
        {**env, "MONITOR_INTERVAL_SECONDS": "15", "DOCUMENTS_CONTAINER": "documents"}
    )
    assert custom.interval_seconds == 15.0
    assert custom.documents_container == "documents"


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_monitor_settings_bad_interval_names_the_variable(value: str) -> None:
    env = {"MODEL_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow:5000"}

    with pytest.raises(SettingsError, match="MONITOR_INTERVAL_SECONDS"):
        Settings.from_env({**env, "MONITOR_INTERVAL_SECONDS": value})
