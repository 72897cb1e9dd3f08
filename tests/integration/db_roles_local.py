"""Run the platform's database Jobs against the local PostgreSQL, as Azure would see them.

The local cluster is made to look like a flexible server: a non-superuser administrator
(``CREATEROLE CREATEDB``, the privileges Azure gives its server admin) owns the ``mlflow`` and
``vectors`` databases, as databases created through Azure Resource Manager are owned by the
server admin. The ``vector`` extension is created up front by the local superuser: Flexible
Server lets its admin create allow-listed extensions, locally only a superuser may (pgvector is
not a trusted extension); the script's ``CREATE EXTENSION IF NOT EXISTS`` then finds it.
Every role of the test signs in with a password (``scram-sha-256``), never by trust.

The Jobs run with their exact command, script and environment as rendered for the dev stack;
only the endpoint (host, port), TLS (the local server has none) and the paths of the mounted
files are substituted.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from clients import LIBPQ_ENV
from psycopg import sql
from services import postgres_bin_dir

from offline.runner import OfflineRun, run_callable
from tests.manifests.workload_inputs import (
    ADMIN_LOGIN,
    container,
    env_of,
    one,
    render,
    stack_config,
)

DATABASES = ("mlflow", "vectors")
STATEMENT_TIMEOUT_MS = 30_000
JOB_TIMEOUT_SECONDS = 120


def port_of(dsn: str) -> str:
    """The port of a ``postgresql://user@host:port/db`` URI."""
    return dsn.rsplit(":", 1)[1].split("/", maxsplit=1)[0]


def with_database(dsn: str, database: str) -> str:
    """The same server, another database."""
    return dsn.rsplit("/", 1)[0] + f"/{database}"


def connect(dsn: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A connection that gives up quickly instead of hanging a test."""
    return psycopg.connect(
        dsn,
        connect_timeout=5,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        **kwargs,
    )


def login(dsn: str, user: str, password: str, database: str) -> psycopg.Connection[Any]:
    """Sign in as ``user`` with ``password`` over TCP (password required by pg_hba)."""
    return psycopg.connect(
        host="127.0.0.1",
        port=port_of(dsn),
        dbname=database,
        user=user,
        password=password,
        connect_timeout=5,
        autocommit=True,
    )


@dataclass(frozen=True)
class RenderedJob:
    """A Job's container command and environment and the script of its ConfigMap."""

    command: list[str]
    env: dict[str, str]
    script: str


def dev_workloads() -> OfflineRun:
    """The dev stack's workloads rendered under the mocks."""
    run, _ = render(stack_config("dev"), "dev", lambda body: run_callable(body, stack="unit"))
    return run


def rendered_job(run: OfflineRun, namespace: str, script_key: str | None) -> RenderedJob:
    """The one Job in ``namespace`` (and the ``script_key`` entry of its ConfigMap)."""
    jobs = [
        o
        for o in (r.inputs for r in run.resources if r.type == "kubernetes:batch/v1:Job")
        if o["metadata"]["namespace"] == namespace
    ]
    assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
    job = jobs[0]
    spec = job["spec"]["template"]["spec"]["containers"][0]
    script = (
        one(run, "ConfigMap", job["metadata"]["name"])["data"][script_key] if script_key else ""
    )
    return RenderedJob(command=list(spec["command"]), env=env_of(spec), script=script)


def deployed_container(
    run: OfflineRun, kind: str, name: str, container_name: str
) -> dict[str, Any]:
    """A container spec of a rendered workload."""
    return container(one(run, kind, name), container_name)


@dataclass(frozen=True)
class LocalServer:
    """The local cluster dressed as a flexible server: who owns what, and the passwords."""

    dsn: str
    """Superuser DSN (set-up and inspection only; no Job uses it)."""
    admin_password: str
    role_passwords: dict[str, str]
    """Password of each app role by app key (``mlflow``, ``vectors``)."""


def prepare_server(dsn: str) -> LocalServer:
    """The administrator, its databases and the pgvector extension, as on Azure (idempotent)."""
    admin_password = secrets.token_urlsafe(24)
    with connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN_LOGIN,))
        verb = "ALTER" if exists.fetchone() else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD {}").format(
                sql.Identifier(ADMIN_LOGIN), sql.Literal(admin_password)
            )
        )
        for database in DATABASES:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone():
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(ADMIN_LOGIN)
                    )
                )
        with connect(with_database(dsn, "vectors"), autocommit=True) as vectors:
            vectors.execute("CREATE EXTENSION IF NOT EXISTS vector")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
        rules = [
            f"host all {role} 127.0.0.1/32 scram-sha-256"
            for role in (ADMIN_LOGIN, "mlflow_app", "vectors_app")
        ]
        current = hba.read_text()
        missing = [rule for rule in rules if rule not in current]
        # First matching line wins: these logins must present their passwords.
        hba.write_text("".join(f"{rule}\n" for rule in missing) + current)
        conn.execute("SELECT pg_reload_conf()")
    return LocalServer(
        dsn=dsn,
        admin_password=admin_password,
        # Characters that need URL-encoding (MLflow's URI) and SQL quoting (psql variables).
        role_passwords={
            "mlflow": f"p@ss:w/rd#%?&= é+'{secrets.token_hex(8)}",
            "vectors": f"it's-{secrets.token_hex(12)}",
        },
    )


def run_job(
    job: RenderedJob,
    server: LocalServer,
    tmp: Path,
    *,
    password: str,
    extra_files: dict[str, tuple[str, str]] | None = None,
    script_env: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a psql Job's exact command: its password file, its script, its other files.

    ``extra_files`` maps an environment variable naming a mounted file to (file name, text).
    """
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(job.env)
    password_file = tmp / "db-password"
    password_file.write_text(password)
    env["DB_PASSWORD_FILE"] = str(password_file)
    if script_env is not None:
        script = tmp / "script.sql"
        script.write_text(job.script)
        env[script_env] = str(script)
    for variable, (name, text) in (extra_files or {}).items():
        path = tmp / name
        path.write_text(text)
        env[variable] = str(path)
    env.update(
        {
            "PGHOST": "127.0.0.1",
            "PGPORT": port_of(server.dsn),
            "PGSSLMODE": "disable",  # the local server has no TLS; Azure's requires it
            "HOME": str(tmp),
            "PATH": f"{postgres_bin_dir()}:{os.environ['PATH']}",
            **LIBPQ_ENV,  # psql gives up connecting in seconds
        }
    )
    return subprocess.run(
        job.command,
        env=env,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_SECONDS,
        check=False,
    )


def run_roles_job(
    job: RenderedJob, server: LocalServer, tmp: Path
) -> subprocess.CompletedProcess[str]:
    """The roles Job with the administrator's password and each app role's password file."""
    files = {
        f"{key.upper()}_PASSWORD_FILE": (f"{key}-password", password)
        for key, password in server.role_passwords.items()
    }
    return run_job(
        job,
        server,
        tmp,
        password=server.admin_password,
        extra_files=files,
        script_env="ROLES_FILE",
    )


LEGACY_TABLE = "legacy_before_roles"
"""A table the administrator created in ``vectors`` before the roles existed."""


@dataclass(frozen=True)
class FlexibleServer:
    """The local cluster dressed as a flexible server, after the dev stack's roles Job ran."""

    server: LocalServer
    job: RenderedJob
    """The roles Job exactly as rendered for the dev stack."""
    runs: tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]
    """The Job run twice (it must be idempotent)."""
    snapshots: tuple[list[tuple[object, ...]], list[tuple[object, ...]]]
    """Roles, database privileges and schema owners after each run."""


def access_snapshot(dsn: str) -> list[tuple[object, ...]]:
    """What the roles Job decides: role attributes, database ACLs, owners in ``public``."""
    rows: list[tuple[object, ...]] = []
    with connect(dsn) as conn:
        rows += conn.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, "
            "rolbypassrls FROM pg_roles WHERE rolname IN ('mlflow_app', 'vectors_app') "
            "ORDER BY 1"
        ).fetchall()
        rows += conn.execute(
            "SELECT datname, datacl::text FROM pg_database "
            "WHERE datname IN ('mlflow', 'vectors') ORDER BY 1"
        ).fetchall()
    for database in ("mlflow", "vectors"):
        with connect(with_database(dsn, database)) as conn:
            rows += conn.execute(
                "SELECT current_database(), nspname, pg_get_userbyid(nspowner) "
                "FROM pg_namespace WHERE nspname = 'public'"
            ).fetchall()
    return rows
