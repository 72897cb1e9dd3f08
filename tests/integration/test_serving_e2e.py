"""The model server exactly as the serving component deploys it, run for real.

The dev stack's serving Deployment is rendered under the mocks; its container's command and
environment are run on this machine, substituting only endpoints:

- the in-cluster MLflow URI (``mlflow.mlflow.svc.cluster.local:5000``) -> a local MLflow
  server on 127.0.0.1 and a free port, with the registry and artifact proxying
  (``--serve-artifacts``: the model's artifacts are ``mlflow-artifacts:`` URIs, so the model
  server gets no storage credential at all);
- ``SERVE_PORT`` / ``METRICS_PORT`` -> free ports; the pod's ``/tmp`` -> a temp dir.

The local tracking server is a plain ``mlflow server`` (SQLite registry, local artifact
directory) of the same MLflow version: the stack's own server command, on PostgreSQL and
Azurite, is proven by test_mlflow_server.py. A linear model is registered as the release
block's ``churn`` version 1; the served version answers a prediction request with the model's
answer, and its metrics endpoint exports the contract's request counter and latency histogram.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pytest
from clients import MLFLOW_HTTP_ENV
from mlflow.tracking import MlflowClient
from services import free_port, log_tail
from sklearn.linear_model import LinearRegression

from contract.metrics import LATENCY_BUCKETS_SECONDS
from offline.runner import OfflineRun, run_callable
from tests.manifests.serving_inputs import TRACKING_URI, render_serving
from tests.manifests.workload_inputs import one, stack_config

# Seconds: the tracking server's first start (SQLite migrations) and the model server's start
# (imports, model download through the proxy) on a busy two-core machine; a request's budget.
START_TIMEOUT = 150.0
REQUEST_TIMEOUT = 10
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2 * START_TIMEOUT + 120)]
VENV_BIN = Path(sys.executable).parent
MODEL, VERSION = "churn", "1"


@dataclass
class Process:
    """A started server: its process, ports and log."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    metrics_port: int = 0
    env: dict[str, str] | None = None


def _get(port: int, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request("POST" if body is not None else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _wait(process: Process, path: str, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.proc.poll() is not None:
            pytest.fail(f"{what} exited with {process.proc.returncode}:\n{log_tail(process.log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _get(process.port, path)[0] == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(
                f"{what} not answering {path} in {START_TIMEOUT:.0f} s:\n{log_tail(process.log)}"
            )
        time.sleep(0.5)


def _start(
    command: list[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def rendered() -> OfflineRun:
    """The dev stack's serving objects, rendered under the mocks."""
    return render_serving(stack_config("dev"), lambda body: run_callable(body, stack="unit"))


@pytest.fixture(scope="module")
def deployed(rendered: OfflineRun) -> dict[str, Any]:
    """The model server container as the Deployment has it."""
    deployment = one(rendered, "Deployment", MODEL)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """A local MLflow tracking server with the registry and artifact proxying."""
    base = tmp_path_factory.mktemp("tracking")
    port = free_port()
    command = [
        str(VENV_BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{base / 'mlflow.db'}",
        "--artifacts-destination",
        str(base / "artifacts"),
        "--serve-artifacts",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = {**os.environ, **MLFLOW_HTTP_ENV, "HOME": str(base), "TMPDIR": str(base)}
    process = Process(
        proc=_start(command, env, base, base / "server.log"), port=port, log=base / "server.log"
    )
    try:
        _wait(process, "/health", "mlflow server")
        yield process
    finally:
        _stop(process.proc)


@pytest.fixture(scope="module")
def registered(tracking: Process) -> str:
    """``churn`` version 1 in the local registry: y = 2x + 1. Returns the run's artifact URI."""
    uri = f"http://127.0.0.1:{tracking.port}"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**MLFLOW_HTTP_ENV, "MLFLOW_TRACKING_URI": uri}.items():
            patch.setenv(key, value)
        features = np.array([[0.0], [1.0], [2.0], [4.0]])
        model = LinearRegression().fit(features, 2 * features[:, 0] + 1)
        mlflow.set_tracking_uri(uri)
        with mlflow.start_run() as run:
            mlflow.sklearn.log_model(model, name="model", registered_model_name=MODEL)
        version = MlflowClient(tracking_uri=uri).get_model_version(MODEL, VERSION)
    assert version.version == VERSION
    return str(run.info.artifact_uri)


@pytest.fixture(scope="module")
def model_server(
    deployed: dict[str, Any],
    tracking: Process,
    registered: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Process]:
    """The deployed command and environment, with the endpoints made local."""
    base = tmp_path_factory.mktemp("model-server")
    scratch = base / "tmp"
    scratch.mkdir()
    deployed_env = {e["name"]: e["value"] for e in deployed["env"]}
    port, metrics_port = free_port(), free_port()
    local = {
        "MLFLOW_TRACKING_URI": deployed_env["MLFLOW_TRACKING_URI"].replace(
            "mlflow.mlflow.svc.cluster.local:5000", f"127.0.0.1:{tracking.port}"
        ),
        "SERVE_PORT": str(port),
        "METRICS_PORT": str(metrics_port),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
    }
    # Only the deployed variables, the local substitutions and what any process needs (the
    # image's `python` is this virtualenv's): no storage credential reaches the server.
    env = {**deployed_env, **local, "PATH": f"{VENV_BIN}:/usr/bin:/bin", **MLFLOW_HTTP_ENV}
    log = base / "server.log"
    process = Process(
        proc=_start(deployed["command"], env, base, log),
        port=port,
        log=log,
        metrics_port=metrics_port,
        env=env,
    )
    try:
        _wait(process, "/ready", "model server")
        yield process
    finally:
        _stop(process.proc)


def test_serving_deployed_env_points_at_in_cluster_mlflow(deployed: dict[str, Any]) -> None:
    env = {e["name"]: e["value"] for e in deployed["env"]}

    assert env["MLFLOW_TRACKING_URI"] == TRACKING_URI
    assert (env["SERVE_MODEL_NAME"], env["SERVE_MODEL_VERSION"]) == (MODEL, VERSION)
    assert deployed["command"] == ["python", "-m", "workloads.serve"]


def test_serving_loads_registered_version_through_artifact_proxy(
    model_server: Process, registered: str
) -> None:
    assert registered.startswith("mlflow-artifacts:/")
    assert model_server.env is not None
    assert not any(k.startswith("AZURE_") for k in model_server.env)
    assert _get(model_server.port, "/ready") == (200, b"ready\n")
    assert _get(model_server.port, "/live")[0] == 200


def test_serving_answers_prediction_with_models_answer(model_server: Process) -> None:
    body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[3.0], [10.0]]}}).encode()

    status, answer = _get(model_server.port, "/invocations", body)

    assert status == 200, answer
    assert json.loads(answer)["predictions"] == pytest.approx([7.0, 21.0])


def test_serving_metrics_endpoint_exports_latency_histogram(model_server: Process) -> None:
    body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}).encode()
    assert _get(model_server.port, "/invocations", body)[0] == 200
    assert _get(model_server.port, "/invocations", b"not json")[0] == 400

    status, text = _get(model_server.metrics_port, "/metrics")
    lines = text.decode().splitlines()

    assert status == 200
    labels = f'model="{MODEL}",version="{VERSION}"'
    buckets = [
        line for line in lines if line.startswith("serving_request_duration_seconds_bucket{")
    ]
    assert len(buckets) == len(LATENCY_BUCKETS_SECONDS) + 1  # the contract's bounds and +Inf
    assert all(labels in line for line in buckets)
    count = next(
        line for line in lines if line.startswith("serving_request_duration_seconds_count{")
    )
    assert float(count.rsplit(" ", 1)[1]) >= 2
    ok = next(
        line
        for line in lines
        if line.startswith("serving_requests_total{") and 'code="200"' in line
    )
    bad = next(
        line
        for line in lines
        if line.startswith("serving_requests_total{") and 'code="400"' in line
    )
    assert float(ok.rsplit(" ", 1)[1]) >= 1
    assert float(bad.rsplit(" ", 1)[1]) == 1
