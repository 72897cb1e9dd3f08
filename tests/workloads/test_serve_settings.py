"""The model server's settings: names from the contract, an exact version, checked ports."""

from __future__ import annotations

import pytest

from workloads.common.storage import SettingsError
from workloads.serve import settings

BASE = {
    "SERVE_MODEL_NAME": "churn",
    "SERVE_MODEL_VERSION": "7",
    "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc.cluster.local:5000",
}


def test_serve_settings_model_uri_names_exact_version_when_read() -> None:
    s = settings.from_environ(BASE)

    assert s.model_uri == "models:/churn/7"
    assert s.port == 8080
    assert settings.metrics_port(BASE) == 9100


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"SERVE_MODEL_VERSION": "champion"},
            "SERVE_MODEL_VERSION ('champion') must be a positive",
        ),
        ({"SERVE_MODEL_VERSION": "0"}, "SERVE_MODEL_VERSION ('0') must be a positive"),
        ({"SERVE_MODEL_NAME": ""}, "SERVE_MODEL_NAME is required"),
        ({"MLFLOW_TRACKING_URI": " "}, "MLFLOW_TRACKING_URI is required"),
        ({"SERVE_PORT": "80a"}, "SERVE_PORT ('80a') must be a TCP port"),
        ({"SERVE_PORT": "70000"}, "SERVE_PORT ('70000') must be a TCP port"),
    ],
    ids=["alias", "zero", "no-name", "no-tracking", "port-text", "port-range"],
)
def test_serve_settings_rejects_bad_value_naming_the_variable(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(
        SettingsError,
        match="environment variable " + message.replace("(", r"\(").replace(")", r"\)"),
    ):
        settings.from_environ({**BASE, **changes})


def test_serve_settings_rejects_bad_metrics_port() -> None:
    with pytest.raises(SettingsError, match="METRICS_PORT"):
        settings.metrics_port({"METRICS_PORT": "0"})
