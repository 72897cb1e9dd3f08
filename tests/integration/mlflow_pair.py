"""Plain MLflow tracking servers on loopback, one per stand-in stack (promotion tests).

(The single-server helper of the workload tests is mlflow_local.py; this module reuses its
health check and shutdown.)

Each server gets its own PostgreSQL database (on the session's PostgreSQL cluster) and its own
Azurite blob service, so two of them share nothing but the PostgreSQL process: a model version
exists in one registry only until something copies it. Artifacts are proxied (``mlflow server
--artifacts-destination wasbs://...``) as on the platform, so clients only speak HTTP to the
server, never to the blob store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from clients import LIBPQ_ENV, MLFLOW_HTTP_ENV, blob_service
from mlflow_local import MlflowService, _healthy
from services import AzuriteService, free_port, log_tail

VENV_BIN = Path(sys.executable).parent
CONTAINER = "mlflow-artifacts"


@dataclass
class LocalMlflow:
    """A started ``mlflow server`` (maybe not healthy yet: see :func:`wait_healthy`)."""

    stack: str
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    database: str


def _create_database(postgres_dsn: str, database: str) -> str:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
        conn.execute(f'CREATE DATABASE "{database}"')
    parsed = urlparse(postgres_dsn)
    return f"postgresql+psycopg2://{parsed.username}@{parsed.hostname}:{parsed.port}/{database}"


def start_mlflow(stack: str, postgres_dsn: str, azurite: AzuriteService, base: Path) -> LocalMlflow:
    """Start a server for ``stack`` on a free port; its database and container are new."""
    database = f"mlflow_promote_{stack}"
    backend = _create_database(postgres_dsn, database)
    blob_service(azurite.connection_string).create_container(CONTAINER)
    base.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        **MLFLOW_HTTP_ENV,
        **LIBPQ_ENV,
        "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "HOME": str(base),
        "TMPDIR": str(base),
    }
    log = base / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(VENV_BIN / "mlflow"), "server",
                "--backend-store-uri", backend,
                "--artifacts-destination",
                f"wasbs://{CONTAINER}@devstoreaccount1.blob.core.windows.net/{stack}",
                "--host", "127.0.0.1",
                "--port", str(port),
                "--workers", "1",
            ],
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    return LocalMlflow(
        stack=stack, url=f"http://127.0.0.1:{port}", port=port, proc=proc, log=log,
        database=database,
    )  # fmt: skip


def wait_healthy(server: LocalMlflow, timeout: float) -> str | None:
    """None once ``/health`` answers 200; otherwise why not (with the log's tail)."""
    deadline = time.monotonic() + timeout
    while not _healthy(server.port):
        if server.proc.poll() is not None:
            return f"mlflow server ({server.stack}) exited:\n{log_tail(server.log)}"
        if time.monotonic() > deadline:
            return f"mlflow server ({server.stack}) not healthy in {timeout:.0f} s:\n" + log_tail(
                server.log
            )
        time.sleep(0.5)
    return None


def stop(server: LocalMlflow) -> None:
    """SIGTERM the server's process group (uvicorn workers included), then SIGKILL it."""
    MlflowService(url=server.url, proc=server.proc, log=server.log).stop()
