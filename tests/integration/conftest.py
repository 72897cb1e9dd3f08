"""Session-scoped fixtures that start real local services (see services.py).

A service that is not installed FAILS the tests that need it (never skips): the fix is to run
scripts/install-services.sh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest
from db_roles_local import (
    LEGACY_TABLE,
    FlexibleServer,
    access_snapshot,
    connect,
    dev_workloads,
    prepare_server,
    rendered_job,
    run_roles_job,
    with_database,
)
from services import (
    INSTALL_HINT,
    AzuriteService,
    PostgresService,
    ServiceError,
    ServiceNotInstalledError,
    start_azurite,
    start_postgres,
)

from tests.manifests.workload_inputs import ADMIN_LOGIN

_S = TypeVar("_S", PostgresService, AzuriteService)


def _fail(what: str, error: ServiceError) -> NoReturn:
    if isinstance(error, ServiceNotInstalledError):
        pytest.fail(f"{what} is not installed: {error}", pytrace=False)
    pytest.fail(f"{what} did not start: {error}\n(never installed? {INSTALL_HINT})", pytrace=False)


def _start(what: str, starter: Callable[[], _S]) -> _S:
    try:
        return starter()
    except ServiceError as exc:
        error = exc
    _fail(what, error)  # outside the except block: no chained traceback in the report


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """libpq URI of a throw-away PostgreSQL 15 cluster on 127.0.0.1 (superuser ``postgres``,
    trust auth, database ``postgres``) in which ``CREATE EXTENSION vector`` works."""
    service = _start("PostgreSQL 15 + pgvector", start_postgres)
    try:
        yield service.dsn
    finally:
        service.stop()


@pytest.fixture(scope="session")
def azurite_connection_string() -> Iterator[str]:
    """Connection string of a throw-away Azurite blob service on 127.0.0.1 for the
    devstoreaccount1 development account (its BlobEndpoint carries the port it got)."""
    service = _start("Azurite (azurite-blob)", start_azurite)
    try:
        yield service.connection_string
    finally:
        service.stop()


@pytest.fixture(scope="session")
def flexible_server(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> FlexibleServer:
    """The dev stack's database-roles Job, run twice as the (non-superuser) administrator."""
    server = prepare_server(postgres_dsn)
    with connect(with_database(postgres_dsn, "vectors"), autocommit=True) as conn:
        conn.execute(f"SET ROLE {ADMIN_LOGIN}")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {LEGACY_TABLE} (id serial PRIMARY KEY)")
    job = rendered_job(dev_workloads(), "db-roles", "roles.sql")
    base = tmp_path_factory.mktemp("db-roles-job")
    first = run_roles_job(job, server, base / "first")
    after_first = access_snapshot(postgres_dsn)
    second = run_roles_job(job, server, base / "second")
    return FlexibleServer(
        server=server,
        job=job,
        runs=(first, second),
        snapshots=(after_first, access_snapshot(postgres_dsn)),
    )
