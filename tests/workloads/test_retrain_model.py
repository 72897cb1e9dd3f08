"""The retrain's model, split and settings (no services)."""

from __future__ import annotations

import pytest

from workloads.common.storage import SettingsError
from workloads.data.generate import degraded_batch, good_batch
from workloads.retrain import model as reference
from workloads.retrain.job import Settings, lock_name

ENV = {"MODEL_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow:5000"}


def test_split_stratified_and_deterministic() -> None:
    frame = good_batch(1000, 3)
    first, second = reference.split(frame), reference.split(frame)

    assert len(first.holdout) == 250
    assert list(first.holdout.index) == list(second.holdout.index)
    assert set(first.train.index).isdisjoint(first.holdout.index)
    assert first.holdout["churned"].mean() == pytest.approx(frame["churned"].mean(), abs=0.01)


def test_train_and_score_learns_the_reference_population() -> None:
    parts = reference.split(good_batch(1600, 3))
    fitted, score = reference.train_and_score(reference.DEFAULT_PARAMS, parts.train, parts.holdout)

    assert score > 0.72
    assert reference.score(fitted, good_batch(800, 4)) > 0.72
    # The changed population's churn follows other reasons: the model ranks it worse than
    # guessing would.
    assert reference.score(fitted, degraded_batch(800, 5)) < 0.5


def test_train_and_score_same_data_same_score() -> None:
    parts = reference.split(good_batch(600, 8))
    _, first = reference.train_and_score(reference.DEFAULT_PARAMS, parts.train, parts.holdout)
    _, second = reference.train_and_score(reference.DEFAULT_PARAMS, parts.train, parts.holdout)

    assert first == second


def test_score_one_label_value_raises() -> None:
    parts = reference.split(good_batch(600, 8))
    fitted = reference.fit(reference.DEFAULT_PARAMS, parts.train)

    with pytest.raises(ValueError, match="both label values"):
        reference.score(fitted, parts.holdout.assign(churned=1))


def test_settings_defaults_when_only_required_set() -> None:
    settings = Settings.from_env(ENV)

    assert settings.raw_container == "raw"
    assert settings.margin == 0.01
    assert settings.use_ray is False
    assert settings.code_version == "unknown"
    assert lock_name(settings.model_name) == "locks/retrain-churn"


@pytest.mark.parametrize("missing", ["MODEL_NAME", "MLFLOW_TRACKING_URI"])
def test_settings_missing_required_names_the_variable(missing: str) -> None:
    environ = {k: v for k, v in ENV.items() if k != missing}

    with pytest.raises(SettingsError, match=f"environment variable {missing} is required"):
        Settings.from_env(environ)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHAMPION_MARGIN", "1.5", r"CHAMPION_MARGIN \(1.5\) must be in \[0, 1\)"),
        ("CHAMPION_MARGIN", "-0.1", r"CHAMPION_MARGIN \(-0.1\) must be in \[0, 1\)"),
        ("CHAMPION_MARGIN", "lots", "CHAMPION_MARGIN"),
        ("TUNE_TRIALS", "0", r"TUNE_TRIALS \(0\) must be >= 1"),
    ],
)
def test_settings_bad_value_names_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**ENV, name: value})


def test_settings_ray_path_when_ray_address_or_flag() -> None:
    assert Settings.from_env({**ENV, "RAY_ADDRESS": "http://head:8265"}).use_ray is True
    assert Settings.from_env(ENV, ray=True).use_ray is True
    assert Settings.from_env({**ENV, "TUNE_TRIALS": "3"}).trials == 3
