"""The ASGI application in front of MLflow's scoring server: probes, gating and metrics.

Plain ASGI (no web framework of its own): MLflow's scoring app is itself an ASGI app, so the
wrapper only routes the probe paths, answers 503 until the model is loaded, and times each
prediction request from its arrival to the last byte of the response.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import Counter, Histogram

from contract import metrics
from contract import workloads as env
from workloads.common.metrics import Exporter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

# Requests MLflow's scoring app answers that are predictions (counted and timed); its /ping,
# /health and /version are plumbing and stay out of the request rate KEDA scales on.
PREDICTION_PATHS = frozenset({env.SERVE_PREDICT_PATH})


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ServingApp:
    """Routes probes, holds requests until the model is loaded, records the contract series."""

    def __init__(self, *, model_name: str, model_version: int, exporter: Exporter) -> None:
        self.model_name = model_name
        self.model_version = str(model_version)
        self.scoring: Asgi | None = None
        requests = exporter.metric(metrics.SERVING_REQUESTS)
        latency = exporter.metric(metrics.SERVING_LATENCY)
        if not isinstance(requests, Counter) or not isinstance(latency, Histogram):
            raise TypeError("the contract's serving series must be a counter and a histogram")
        self._requests: Counter = requests
        self._latency: Histogram = latency

    @property
    def ready(self) -> bool:
        """The model is loaded and predictions are served."""
        return self.scoring is not None

    def loaded(self, scoring: Asgi) -> None:
        """Start serving predictions with ``scoring`` (MLflow's app for the loaded model)."""
        self.scoring = scoring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Lifespan and websockets: nothing to set up or serve.
            return
        path = scope.get("path", "")
        if path == env.SERVE_LIVE_PATH:
            await _plain(send, 200, b"alive\n")
            return
        if path == env.SERVE_READY_PATH:
            if self.ready:
                await _plain(send, 200, b"ready\n")
            else:
                await _plain(send, 503, b"model not loaded yet\n")
            return
        scoring = self.scoring
        predicting = path in PREDICTION_PATHS
        if not predicting:
            await (scoring(scope, receive, send) if scoring else _plain(send, 503, b"loading\n"))
            return
        await self._predict(scoring, scope, receive, send)

    async def _predict(
        self, scoring: Asgi | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        started = time.perf_counter()
        status = 500
        recorded = False

        async def recording_send(message: Message) -> None:
            nonlocal status, recorded
            if message["type"] == "http.response.start":
                status = int(message["status"])
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Counted before the last byte leaves: a client that scrapes /metrics right
                # after its answer must already see its own request.
                recorded = True
                self._record(status, started)
            await send(message)

        if scoring is None:
            self._record(503, started)
            await _plain(send, 503, b"model not loaded yet\n")
            return
        try:
            await scoring(scope, receive, recording_send)
        except Exception:
            # The scoring app failed before finishing its answer: the client sees a 500.
            if not recorded:
                self._record(500, started)
            raise

    def _record(self, status: int, started: float) -> None:
        self._requests.labels(
            model=self.model_name, version=self.model_version, code=str(status)
        ).inc()
        self._latency.labels(model=self.model_name, version=self.model_version).observe(
            time.perf_counter() - started
        )
