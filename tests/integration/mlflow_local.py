"""A throw-away MLflow tracking server for the workload tests (retrain, monitor).

The arguments are the MLflow component's own (``components.mlflow.server.server_args``:
artifact proxying to ``wasbs://mlflow-artifacts@devstoreaccount1...``), with loopback and a
free port; the backend is a fresh database on the session's PostgreSQL (superuser, so the
server creates its tables itself: the migration Job and the roles are test_mlflow_server.py's
subject, not this one's), the artifacts go to Azurite through its connection string.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from clients import LIBPQ_ENV, MLFLOW_HTTP_ENV, blob_service
from services import free_port, log_tail

from components.mlflow.server import ARTIFACTS_CONTAINER, server_args

VENV_BIN = Path(sys.executable).parent
# Creating MLflow's tables on an empty database takes ~15 s on an idle two-core machine.
START_TIMEOUT_S = 120


class MlflowStartError(RuntimeError):
    """The server exited or did not answer /health in time (message has its log tail)."""


@dataclass
class MlflowService:
    """A running server: ``url`` is the tracking URI."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
        # Uvicorn workers share the server's process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _fresh_database(postgres_dsn: str) -> str:
    """A new empty database; its SQLAlchemy URL (psycopg2, as the component's wrapper)."""
    name = f"mlflow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    parts = urlsplit(postgres_dsn)
    return urlunsplit(("postgresql+psycopg2", parts.netloc, f"/{name}", "", ""))


def start_mlflow(postgres_dsn: str, azurite_connection_string: str, base: Path) -> MlflowService:
    """Start the server; raises :class:`MlflowStartError` with its log tail on failure."""
    with contextlib.suppress(Exception):  # another server of the session created it
        blob_service(azurite_connection_string).create_container(ARTIFACTS_CONTAINER)
    port = free_port()
    args = server_args(storage_account="devstoreaccount1", namespace="mlflow", workers=1, port=port)
    args[args.index("--host") + 1] = "127.0.0.1"
    scratch = base / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "MLFLOW_BACKEND_STORE_URI": _fresh_database(postgres_dsn),
        "AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string,
        **MLFLOW_HTTP_ENV,
        **LIBPQ_ENV,
    }
    log = base / "mlflow-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "mlflow"), "server", *args],
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = MlflowService(url=f"http://127.0.0.1:{port}", proc=proc, log=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            service.stop()
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
            raise MlflowStartError(f"mlflow server {state}:\n{log_tail(log)}")
        time.sleep(0.5)
    return service


@contextlib.contextmanager
def running_mlflow(
    postgres_dsn: str, azurite_connection_string: str, base: Path
) -> Iterator[MlflowService]:
    service = start_mlflow(postgres_dsn, azurite_connection_string, base)
    try:
        yield service
    finally:
        service.stop()
