"""The model server's ASGI wrapper: probes, gating on the loaded model, contract metrics.

Driven in-process through the ASGI interface with a stand-in scoring app (no MLflow, no
network): what is asserted is what the wrapper adds around MLflow's scoring server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import generate_latest

from contract import metrics
from workloads.common.metrics import Exporter
from workloads.serve.app import Message, Receive, Scope, Send, ServingApp


async def _call(app: ServingApp, method: str, path: str) -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": method, "path": path, "headers": []}
    await app(scope, receive, send)
    status = next(int(m["status"]) for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def call(app: ServingApp, method: str, path: str) -> tuple[int, bytes]:
    return asyncio.run(_call(app, method, path))


def scoring(status: int, body: bytes = b'{"predictions": [1]}') -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


def failing() -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("model exploded")

    return app


def new_app() -> tuple[ServingApp, Exporter]:
    exporter = Exporter()
    return ServingApp(model_name="churn", model_version=3, exporter=exporter), exporter


def sample(exporter: Exporter, name: str, labels: dict[str, str]) -> float | None:
    value = exporter.registry.get_sample_value(name, labels)
    return value


def test_serve_app_ready_probe_fails_when_model_not_loaded() -> None:
    app, _ = new_app()

    assert call(app, "GET", "/ready")[0] == 503
    assert call(app, "GET", "/live") == (200, b"alive\n")
    assert call(app, "GET", "/ping")[0] == 503


def test_serve_app_ready_probe_passes_when_model_loaded() -> None:
    app, _ = new_app()
    app.loaded(scoring(200))

    assert call(app, "GET", "/ready") == (200, b"ready\n")
    assert call(app, "GET", "/live")[0] == 200


def test_serve_app_prediction_counted_and_timed_when_answered() -> None:
    app, exporter = new_app()
    app.loaded(scoring(200))

    assert call(app, "POST", "/invocations") == (200, b'{"predictions": [1]}')
    call(app, "POST", "/invocations")

    labels = {"model": "churn", "version": "3"}
    assert sample(exporter, "serving_requests_total", {**labels, "code": "200"}) == 2
    assert sample(exporter, "serving_request_duration_seconds_count", labels) == 2
    # The contract's buckets, not prometheus_client's defaults.
    text = generate_latest(exporter.registry).decode()
    for bound in metrics.LATENCY_BUCKETS_SECONDS:
        assert f'le="{bound}"' in text
    assert 'le="0.075"' not in text


def seen_when_sent(
    app: ServingApp, exporter: Exporter, code: str, sending: Callable[[Message], bool]
) -> list[float | None]:
    """The request count of ``code`` at the moments the app hands the server a message that
    ``sending`` picks (a client may scrape /metrics as soon as that message reaches it)."""
    labels = {"model": "churn", "version": "3", "code": code}
    seen: list[float | None] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        if sending(message):
            seen.append(sample(exporter, "serving_requests_total", labels))

    scope: Scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": []}
    asyncio.run(app(scope, receive, send))
    return seen


def test_serve_app_prediction_counted_before_last_byte_when_answered() -> None:
    app, exporter = new_app()
    app.loaded(scoring(200))

    def last_byte(message: Message) -> bool:
        return message["type"] == "http.response.body" and not message.get("more_body")

    assert seen_when_sent(app, exporter, "200", last_byte) == [1]


def test_serve_app_503_counted_before_answer_when_model_not_loaded() -> None:
    app, exporter = new_app()

    def start(message: Message) -> bool:
        return bool(message["type"] == "http.response.start")

    assert seen_when_sent(app, exporter, "503", start) == [1]


def test_serve_app_prediction_error_counted_with_its_code_when_rejected() -> None:
    app, exporter = new_app()
    app.loaded(scoring(400, b'{"error_code": "BAD_REQUEST"}'))

    assert call(app, "POST", "/invocations")[0] == 400

    assert (
        sample(
            exporter, "serving_requests_total", {"model": "churn", "version": "3", "code": "400"}
        )
        == 1
    )
    assert (
        sample(
            exporter, "serving_requests_total", {"model": "churn", "version": "3", "code": "200"}
        )
        is None
    )


def test_serve_app_prediction_counted_as_503_when_model_not_loaded() -> None:
    app, exporter = new_app()

    assert call(app, "POST", "/invocations")[0] == 503
    assert (
        sample(
            exporter, "serving_requests_total", {"model": "churn", "version": "3", "code": "503"}
        )
        == 1
    )


def test_serve_app_prediction_counted_as_500_when_scoring_raises() -> None:
    app, exporter = new_app()
    app.loaded(failing())

    with pytest.raises(RuntimeError):
        call(app, "POST", "/invocations")
    assert (
        sample(
            exporter, "serving_requests_total", {"model": "churn", "version": "3", "code": "500"}
        )
        == 1
    )


def test_serve_app_plumbing_paths_not_counted_when_served() -> None:
    app, exporter = new_app()
    app.loaded(scoring(200, b"3.17.2"))

    assert call(app, "GET", "/version") == (200, b"3.17.2")
    call(app, "GET", "/ready")
    call(app, "GET", "/live")

    assert (
        sample(
            exporter, "serving_request_duration_seconds_count", {"model": "churn", "version": "3"}
        )
        is None
    )


def test_serve_app_ignores_lifespan_scope() -> None:
    app, _ = new_app()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == []
