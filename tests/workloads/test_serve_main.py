"""``python -m workloads.serve`` exits non-zero when it cannot serve (the kubelet restarts it)."""

from __future__ import annotations

import socket

from workloads.serve.__main__ import run
from workloads.serve.settings import ServeSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_main_exits_2_when_setting_missing() -> None:
    assert run({"SERVE_MODEL_NAME": "churn"}) == 2


def test_serve_main_exits_1_when_model_cannot_be_loaded() -> None:
    asked: list[str] = []

    def loader(settings: ServeSettings) -> object:
        asked.append(settings.model_uri)
        raise RuntimeError("registry says no")

    environ = {
        "SERVE_MODEL_NAME": "churn",
        "SERVE_MODEL_VERSION": "4",
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
        "SERVE_PORT": str(free_port()),
        "METRICS_PORT": str(free_port()),
    }

    assert run(environ, loader=loader, host="127.0.0.1") == 1  # type: ignore[arg-type]
    assert asked == ["models:/churn/4"]
