"""The token the Grafana provider authenticates with: a Microsoft Entra access token.

Azure Managed Grafana accepts Entra tokens for the audience ``https://dashboard.azure.com`` on
its HTTP API (service-account API keys stay disabled):
https://learn.microsoft.com/azure/managed-grafana/how-to-authenticate-data-plane-api

The token is fetched when the program runs (``pulumi up`` / ``preview``), with
``DefaultAzureCredential`` (Azure CLI sign-in on a laptop, workload identity or OIDC
environment variables in CI). It lives about an hour: longer runs must be re-run.

Seam for offline runs: :func:`use_token_source` swaps the source. The offline runner
(``offline/runner.py``) installs :func:`offline_token` for the duration of every mock run, so
the offline plan and the tests never call Azure. The program itself never swaps it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pulumi

GRAFANA_TOKEN_SCOPE = "https://dashboard.azure.com/.default"
OFFLINE_TOKEN = "offline-placeholder-grafana-token"

TokenSource = Callable[[], str]


def entra_token() -> str:
    """An access token for Azure Managed Grafana from ``DefaultAzureCredential``."""
    # Imported here: only a real run needs azure-identity's credential chain.
    from azure.identity import DefaultAzureCredential  # noqa: PLC0415

    return DefaultAzureCredential().get_token(GRAFANA_TOKEN_SCOPE).token


def offline_token() -> str:
    """A placeholder for mock runs (never sent anywhere)."""
    return OFFLINE_TOKEN


_source: list[TokenSource] = [entra_token]


@contextmanager
def use_token_source(source: TokenSource) -> Iterator[None]:
    """Use ``source`` for Grafana tokens inside the ``with`` block."""
    _source.append(source)
    try:
        yield
    finally:
        _source.pop()


def grafana_token() -> pulumi.Output[str]:
    """The current source's token, as a secret output."""
    return pulumi.Output.secret(_source[-1]())
