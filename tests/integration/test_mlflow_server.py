"""MLflow's migration Job and server exactly as the Mlflow component deploys them, run for real.

The dev stack's migration Job and Deployment are rendered under the mocks and their
containers' command, args and environment are run on this machine, substituting only
endpoints:

- the flexible server's FQDN and port -> a local PostgreSQL on 127.0.0.1 (TLS off: the local
  server has none) whose ``mlflow`` database and ``mlflow_app`` role were made by the dev
  stack's roles Job (``flexible_server``); no administrator password is given to MLflow;
- the password file the CSI driver mounts -> a temp file with the role's password, which
  needs URL-encoding, for a login that must present it (scram-sha-256);
- the workload identity -> ``AZURE_STORAGE_CONNECTION_STRING`` of Azurite (the ``wasbs://``
  destination is unchanged: with a connection string MLflow ignores the account in the URI);
- ``--host``/``--port`` -> 127.0.0.1 and a free port; the pod's ``/tmp`` emptyDir -> a temp dir.

The migration runs first (twice: the second run is the upgrade path), then the server starts
on the migrated database without creating tables itself. The MLflow client logs a run with a
metric and an artifact, registers a model version and loads it back. The working directory
stands in for the read-only root filesystem: the server must leave it untouched.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import psycopg
import pytest
from azure.core.exceptions import ResourceExistsError
from clients import LIBPQ_ENV, MLFLOW_HTTP_ENV, blob_service
from db_roles_local import (
    FlexibleServer,
    connect,
    dev_workloads,
    login,
    port_of,
    with_database,
)
from mlflow.tracking import MlflowClient
from services import free_port, log_tail

from components.mlflow.server import ARTIFACTS_CONTAINER, MLFLOW_PORT
from offline.runner import OfflineRun
from tests.manifests.workload_inputs import (
    MLFLOW_LOGIN,
    container,
    env_of,
    in_namespace,
    one,
)

Runner = Callable[[Callable[[], object]], OfflineRun]
# Deadlines of the module's set-up steps: the migration (run twice) and the server's start take
# ~100 s each on a two-core machine shared by several test runs, ~20 s on an idle one.
MIGRATION_TIMEOUT = 180
START_TIMEOUT = 180.0
# A test's timeout covers its set-up: the longest set-up step's deadline plus a test's budget.
TEST_TIMEOUT = max(2 * MIGRATION_TIMEOUT, START_TIMEOUT) + 120.0

pytestmark = [pytest.mark.integration, pytest.mark.timeout(TEST_TIMEOUT)]
VENV_BIN = Path(sys.executable).parent


class AddN(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    """A tiny model: adds ``n`` to column ``x``."""

    def __init__(self, n: int) -> None:
        self.n = n

    # Unannotated on purpose: MLflow would try to derive a signature from type hints; the
    # input example gives it one.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        return [float(x) + self.n for x in model_input["x"]]


@dataclass
class Server:
    """The running server and what it was started with."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    workdir: Path
    scratch: Path
    database: str
    args: list[str]


def _replace_arg(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


def _health(port: int, host_header: str | None = None, path: str = "/health") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host_header} if host_header else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # Uvicorn workers are in the server's process group; make sure none is left behind.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def rendered() -> OfflineRun:
    """The dev stack's workloads, as rendered under the mocks."""
    return dev_workloads()


@pytest.fixture(scope="module")
def deployed(rendered: OfflineRun) -> dict[str, Any]:
    """The dev stack's MLflow container spec."""
    return container(one(rendered, "Deployment", "mlflow"), "mlflow")


@pytest.fixture(scope="module")
def migration(rendered: OfflineRun) -> dict[str, Any]:
    """The dev stack's migration Job container spec."""
    (job,) = in_namespace(rendered, "Job", "mlflow")
    return container(job, "db-upgrade")


def _local_env(
    spec: dict[str, Any], flexible_server: FlexibleServer, base: Path, scratch: Path
) -> dict[str, str]:
    """A container's environment with only the endpoints and mounted paths made local."""
    password_file = base / "postgres-password"
    password_file.write_text(flexible_server.server.role_passwords["mlflow"])
    return {
        **env_of(spec),
        "MLFLOW_DB_HOST": "127.0.0.1",
        "MLFLOW_DB_PORT": port_of(flexible_server.server.dsn),
        "MLFLOW_DB_SSLMODE": "disable",  # the local server has no TLS; Azure's requires it
        "MLFLOW_DB_PASSWORD_FILE": str(password_file),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        # The image's `python` and `mlflow` are this virtualenv's.
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        # Test-only: MLflow's own outbound calls (artifact proxying) and libpq give up in
        # seconds, so a broken destination fails the test instead of retrying for minutes.
        **MLFLOW_HTTP_ENV,
        **LIBPQ_ENV,
    }


@pytest.fixture(scope="module")
def migrated(
    migration: dict[str, Any],
    flexible_server: FlexibleServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[subprocess.CompletedProcess[str]]:
    """The migration Job's exact command run twice on the empty ``mlflow`` database, signed
    in as MLflow's own role (no administrator password anywhere)."""
    base = tmp_path_factory.mktemp("mlflow-migration")
    scratch = base / "tmp"
    scratch.mkdir()
    env = _local_env(migration, flexible_server, base, scratch)
    return [
        subprocess.run(
            migration["command"],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=MIGRATION_TIMEOUT,
            check=False,
        )
        for _ in range(2)
    ]


@pytest.fixture(scope="module")
def server(
    deployed: dict[str, Any],
    migrated: list[subprocess.CompletedProcess[str]],
    flexible_server: FlexibleServer,
    azurite_connection_string: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """The deployed command running against the migrated database and Azurite."""
    assert [m.returncode for m in migrated] == [0, 0], migrated[0].stderr + migrated[1].stderr
    base = tmp_path_factory.mktemp("mlflow-server")
    workdir, scratch = base / "workdir", base / "tmp"
    workdir.mkdir()
    scratch.mkdir()
    # Another module's MLflow server may have created it already in this session's Azurite.
    with contextlib.suppress(ResourceExistsError):
        blob_service(azurite_connection_string).create_container(ARTIFACTS_CONTAINER)
    port = free_port()
    args = _replace_arg(_replace_arg(deployed["args"], "--host", "127.0.0.1"), "--port", str(port))
    env = {
        **_local_env(deployed, flexible_server, base, scratch),
        "AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string,
    }
    log = base / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*deployed["command"], *args],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n{log_tail(log)}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if _health(port) == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not healthy in {START_TIMEOUT:.0f} s:\n{log_tail(log)}")
            time.sleep(0.5)
        yield Server(
            url=f"http://localhost:{port}",
            port=port,
            proc=proc,
            log=log,
            workdir=workdir,
            scratch=scratch,
            database=env["MLFLOW_DB_NAME"],
            args=args,
        )
    finally:
        _stop(proc)


def test_mlflow_migration_job_creates_the_schema_as_mlflow_role_then_reruns(
    migrated: list[subprocess.CompletedProcess[str]], flexible_server: FlexibleServer
) -> None:
    first, second = migrated
    server = flexible_server.server
    with login(server.dsn, MLFLOW_LOGIN, server.role_passwords["mlflow"], "mlflow") as conn:
        owners = set(
            conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
        )
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "Creating initial MLflow database tables" in first.stderr
    assert "Creating initial MLflow database tables" not in second.stderr
    assert owners == {(MLFLOW_LOGIN,)}
    assert len(revision) == 1
    assert {"experiments", "runs", "metrics", "registered_models"} <= tables


def test_mlflow_server_starts_on_migrated_database_without_creating_tables(
    server: Server,
) -> None:
    assert server.proc.poll() is None, log_tail(server.log)
    assert "Creating initial MLflow database tables" not in server.log.read_text()


def test_mlflow_server_logs_registers_and_loads_model_when_run_as_deployed(
    server: Server,
    postgres_dsn: str,
    azurite_connection_string: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    client = MlflowClient(tracking_uri=server.url)
    experiment_id = client.create_experiment(f"aks-mlops-it-{uuid.uuid4().hex[:8]}")
    model_name = f"aks-mlops-it-model-{uuid.uuid4().hex[:8]}"
    notes = tmp_path / "notes.txt"
    notes.write_text("trained offline\n")

    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metric("rmse", 0.42)
        mlflow.log_artifact(str(notes))
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=AddN(5),
            registered_model_name=model_name,
            pip_requirements=[f"mlflow=={mlflow.__version__}"],
            input_example=pd.DataFrame({"x": [1.0]}),
        )
    version = client.get_model_version(model_name, "1")
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}/1")
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="notes.txt", dst_path=str(tmp_path / "dl")
    )
    blobs = [
        b.name
        for b in blob_service(azurite_connection_string)
        .get_container_client(ARTIFACTS_CONTAINER)
        .list_blobs()
    ]
    with connect(with_database(postgres_dsn, server.database)) as conn:
        stored = conn.execute(
            "SELECT key, value FROM metrics WHERE run_uuid = %s", (run.info.run_id,)
        ).fetchall()

    assert client.get_run(run.info.run_id).data.metrics["rmse"] == pytest.approx(0.42)
    assert stored == [("rmse", pytest.approx(0.42))]
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert Path(downloaded).read_text() == "trained offline\n"
    assert f"{experiment_id}/{run.info.run_id}/artifacts/notes.txt" in blobs
    assert any(name.endswith("MLmodel") for name in blobs)
    assert version.status == "READY"
    assert str(info.registered_model_version) == "1"
    assert loaded.predict(pd.DataFrame({"x": [1.0, 2.0]})) == [6.0, 7.0]


def test_mlflow_server_accepts_service_dns_and_rejects_other_hosts_when_run(
    server: Server,
) -> None:
    search = "/api/2.0/mlflow/experiments/search?max_results=1"

    assert _health(server.port, f"mlflow.mlflow.svc.cluster.local:{MLFLOW_PORT}", search) == 200
    assert _health(server.port, f"mlflow:{MLFLOW_PORT}", search) == 200
    assert _health(server.port, "evil.example:5000", search) in (400, 403)
    # Kubelet probes address the pod IP; /health must pass whatever the Host header.
    assert _health(server.port, "10.244.1.17:5000", "/health") == 200


def test_mlflow_server_rejects_wrong_password_when_login_requires_one(
    server: Server, flexible_server: FlexibleServer
) -> None:
    local = flexible_server.server

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(local.dsn, MLFLOW_LOGIN, "wrong", server.database).close()
    with login(local.dsn, MLFLOW_LOGIN, local.role_passwords["mlflow"], server.database) as conn:
        assert conn.execute("SELECT count(*) FROM experiments").fetchone()[0] >= 1  # type: ignore[index]


def test_mlflow_server_writes_nothing_outside_tmp_when_serving(server: Server) -> None:
    assert server.proc.poll() is None, log_tail(server.log)
    assert list(server.workdir.iterdir()) == []
    assert "--serve-artifacts" in server.args
