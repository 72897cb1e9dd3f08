"""Session-scoped fixtures that start real local services (see services.py).

Each service starts once per test session (per xdist worker), on 127.0.0.1 and a free port, and
is stopped at the end. A service that is not installed FAILS the tests that need it (never
skips): the fix is to run scripts/install-services.sh, which needs no root.

Every test here has a short timeout (INTEGRATION_TIMEOUT_S, fixture set-up included) and every
client a short one too (clients.py), so a broken configuration fails in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import mlflow
import pytest
from clients import LIBPQ_ENV, MLFLOW_HTTP_ENV
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
from mlflow.tracking import fluent
from mlflow.tracking._model_registry import utils as registry_utils
from mlflow.tracking._tracking_service import utils as tracking_utils
from mlflow_local import MlflowStartError, start_mlflow
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

# Seconds per test, set-up and tear-down included (a module may set a longer one with its own
# timeout marker: the MLflow server's start gets its own deadline on top).
INTEGRATION_TIMEOUT_S = 120
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test under tests/integration the integration timeout (unless it sets one)."""
    for item in items:
        if _HERE in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(INTEGRATION_TIMEOUT_S))


@pytest.fixture(scope="session", autouse=True)
def short_client_timeouts() -> Iterator[None]:
    """MLflow's REST client and libpq give up in seconds, not minutes (see clients.py)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**MLFLOW_HTTP_ENV, **LIBPQ_ENV}.items():
            patch.setenv(name, value)
        yield


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
    """libpq URI of a throw-away PostgreSQL 16 cluster on 127.0.0.1 (superuser ``postgres``,
    trust auth, database ``postgres``, ``connect_timeout`` set) in which ``CREATE EXTENSION
    vector`` works."""
    service = _start("PostgreSQL 16 + pgvector", start_postgres)
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


@pytest.fixture(scope="session")
def mlflow_tracking_uri(
    postgres_dsn: str, azurite_connection_string: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Tracking URI of a throw-away MLflow server (the component's arguments, a fresh database
    on the session's PostgreSQL, artifacts proxied to Azurite) for the workload tests."""
    try:
        service = start_mlflow(
            postgres_dsn, azurite_connection_string, tmp_path_factory.mktemp("mlflow-local")
        )
    except MlflowStartError as exc:
        error = exc
    else:
        try:
            yield service.url
        finally:
            service.stop()
        return
    pytest.fail(str(error), pytrace=False)


def _reset_mlflow_globals() -> None:
    """MLflow keeps the tracking URI, the registry URI, the active experiment and run in
    module globals and in the environment: a test module that sets them
    must not steer the next module's clients."""
    while mlflow.active_run() is not None:
        mlflow.end_run()
    tracking_utils._tracking_uri = None
    registry_utils._registry_uri = None
    fluent._active_experiment_id = None
    # set_tracking_uri(), set_registry_uri() and set_experiment() also export their value to
    # the environment (for child processes), where the next module's clients would read it.
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
        os.environ.pop(name, None)


@pytest.fixture(autouse=True, scope="module")
def isolated_mlflow_globals() -> Iterator[None]:
    """Each test module starts and ends with MLflow's process-wide state cleared."""
    _reset_mlflow_globals()
    yield
    _reset_mlflow_globals()
