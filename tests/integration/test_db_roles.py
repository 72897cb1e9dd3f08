"""The per-application database roles the platform creates, proven on a real PostgreSQL.

The dev stack's roles Job (its exact command, script and environment) ran twice as a
non-superuser administrator (``flexible_server`` in conftest.py). Then each role signs in with
its own password: it can create tables in its own database, cannot connect to the other's,
and holds no server-wide privilege.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from db_roles_local import LEGACY_TABLE, FlexibleServer, login, run_roles_job

pytestmark = pytest.mark.integration

ROLES = {"mlflow": "mlflow_app", "vectors": "vectors_app"}
OTHER = {"mlflow": "vectors", "vectors": "mlflow"}


def test_roles_job_succeeds_twice_with_the_same_result(flexible_server: FlexibleServer) -> None:
    first, second = flexible_server.runs
    before, after = flexible_server.snapshots

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert before == after
    assert ("mlflow", "public", "mlflow_app") in after
    assert ("vectors", "public", "vectors_app") in after


def test_roles_hold_no_server_wide_privilege(flexible_server: FlexibleServer) -> None:
    rows = [r for r in flexible_server.snapshots[1] if len(r) == 7]

    # name, superuser, createrole, createdb, login, replication, bypassrls
    assert rows == [
        ("mlflow_app", False, False, False, True, False, False),
        ("vectors_app", False, False, False, True, False, False),
    ]


@pytest.mark.parametrize("app", sorted(ROLES))
def test_role_creates_tables_in_its_own_database(flexible_server: FlexibleServer, app: str) -> None:
    server = flexible_server.server
    table = f"it_{uuid.uuid4().hex[:8]}"

    with login(server.dsn, ROLES[app], server.role_passwords[app], app) as conn:
        conn.execute(f"CREATE TABLE public.{table} (id int PRIMARY KEY)")
        conn.execute(f"INSERT INTO public.{table} VALUES (1)")
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = %s", (table,)
        ).fetchone()
        conn.execute(f"DROP TABLE public.{table}")

    assert owner == (ROLES[app],)


@pytest.mark.parametrize("app", sorted(ROLES))
def test_role_cannot_connect_to_the_other_database(
    flexible_server: FlexibleServer, app: str
) -> None:
    server = flexible_server.server

    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        login(server.dsn, ROLES[app], server.role_passwords[app], OTHER[app]).close()


@pytest.mark.parametrize("app", sorted(ROLES))
def test_role_sign_in_needs_its_own_password(flexible_server: FlexibleServer, app: str) -> None:
    server = flexible_server.server

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        login(server.dsn, ROLES[app], server.admin_password, app).close()


def test_roles_job_hands_over_tables_the_administrator_created_before(
    flexible_server: FlexibleServer,
) -> None:
    server = flexible_server.server

    with login(server.dsn, "vectors_app", server.role_passwords["vectors"], "vectors") as conn:
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = %s", (LEGACY_TABLE,)
        ).fetchone()
        inserted = conn.execute(
            f"INSERT INTO {LEGACY_TABLE} DEFAULT VALUES RETURNING id"
        ).fetchone()

    assert owner == ("vectors_app",)
    assert inserted is not None


def test_roles_job_fails_without_the_administrator_password(
    flexible_server: FlexibleServer, tmp_path: Path
) -> None:
    server = flexible_server.server
    wrong = type(server)(
        dsn=server.dsn, admin_password="wrong", role_passwords=server.role_passwords
    )

    result = run_roles_job(flexible_server.job, wrong, tmp_path)

    assert result.returncode != 0
    assert "password authentication failed" in result.stderr
