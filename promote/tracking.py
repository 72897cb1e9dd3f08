"""Reaching a stack's MLflow tracking server: its URI and, when it is Entra-protected, a token.

The platform's MLflow is a ClusterIP Service with ingress off, so from a laptop or a CI runner it
is reached through a port-forward per cluster (``kubectl port-forward -n mlflow svc/mlflow
5001:5000``): a loopback URI, no token. An MLflow put behind Microsoft Entra ID (App Service
authentication, an API gateway that validates Entra tokens) takes a bearer access token for its
app registration's scope (``api://<application id>/.default``; Learn: "Protected web API: code
configuration", https://learn.microsoft.com/entra/identity-platform/scenario-protected-web-api-app-configuration);
the tool gets it from azure-identity's ``DefaultAzureCredential`` (Azure CLI sign-in on a
laptop, workload identity or OIDC in CI) and hands it to MLflow as ``MLFLOW_TRACKING_TOKEN``,
which MLflow's REST client sends as ``Authorization: Bearer`` on every request.

MLflow reads the tracking URI and the token from process-global state, so every call to one
server happens inside :meth:`TrackingServer.active`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

TokenProvider = Callable[[str], str]
"""Returns an access token for a scope."""


def azure_token(scope: str) -> str:
    """An Entra access token for ``scope`` from ``DefaultAzureCredential``."""
    from azure.identity import DefaultAzureCredential  # noqa: PLC0415 (only when a scope is set)

    return DefaultAzureCredential().get_token(scope).token


def check_uri(uri: str, argument: str) -> str:
    """An http(s) URI of a tracking server; anything else is an error naming ``argument``."""
    parsed = urlparse(uri)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ValueError(
            f"{argument} ({uri}) must be the http(s) URL of an MLflow tracking server, e.g. "
            "http://127.0.0.1:5001 through `kubectl port-forward -n mlflow svc/mlflow 5001:5000`"
        )
    return uri.rstrip("/")


@dataclass(frozen=True)
class TrackingServer:
    """One stack's tracking server (also its model registry and artifact proxy)."""

    stack: str
    uri: str
    token_scope: str | None = None
    """Entra scope of an Entra-protected endpoint; None for a port-forward (no token)."""
    token_provider: TokenProvider = azure_token
    _tokens: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def _token(self, scope: str) -> str:
        if scope not in self._tokens:
            self._tokens[scope] = self.token_provider(scope)
        return self._tokens[scope]

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """MLflow's global tracking URI and token point at this server inside the block."""
        import mlflow  # noqa: PLC0415 (the promote extra; the stage checks run without it)

        saved = {name: os.environ.get(name) for name in (TOKEN_ENV, TRACKING_URI_ENV)}
        previous_uri, previous_registry = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
        try:
            if self.token_scope:
                os.environ[TOKEN_ENV] = self._token(self.token_scope)
            else:
                os.environ.pop(TOKEN_ENV, None)
            os.environ[TRACKING_URI_ENV] = self.uri
            mlflow.set_tracking_uri(self.uri)
            mlflow.set_registry_uri(self.uri)
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            mlflow.set_tracking_uri(previous_uri)
            mlflow.set_registry_uri(previous_registry)
