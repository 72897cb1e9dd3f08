"""Session-scoped fixtures that start real local services (see services.py).

A service that is not installed FAILS the tests that need it (never skips): the fix is to run
scripts/install-services.sh.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest
from services import (
    INSTALL_HINT,
    AzuriteService,
    PostgresService,
    ServiceError,
    ServiceNotInstalledError,
    start_azurite,
    start_postgres,
)

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
