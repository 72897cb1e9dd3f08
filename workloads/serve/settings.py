"""The model server's settings, from the environment the serving component sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contract import workloads as env
from workloads.common.storage import SettingsError, require


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    """What to serve and where."""

    model_name: str
    """Registered model name."""
    model_version: int
    """Exact registered version (never an alias: the release block pins it)."""
    tracking_uri: str
    """The stack's MLflow server."""
    port: int
    """HTTP port of predictions and probes."""

    @property
    def model_uri(self) -> str:
        """The MLflow model URI of exactly this version."""
        return f"models:/{self.model_name}/{self.model_version}"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"environment variable {name} ({raw!r}) must be a TCP port")
    return int(raw)


def from_environ(environ: Mapping[str, str]) -> ServeSettings:
    """Read and check the settings; a :class:`SettingsError` names the variable."""
    version = require(environ, env.SERVE_MODEL_VERSION)
    if not version.isdigit() or int(version) < 1:
        raise SettingsError(
            f"environment variable {env.SERVE_MODEL_VERSION} ({version!r}) must be a positive "
            "integer (a registered model version, not an alias)"
        )
    return ServeSettings(
        model_name=require(environ, env.SERVE_MODEL_NAME),
        model_version=int(version),
        tracking_uri=require(environ, env.MLFLOW_TRACKING_URI),
        port=_port(environ, env.SERVE_PORT, env.DEFAULT_SERVE_PORT),
    )


def metrics_port(environ: Mapping[str, str]) -> int:
    """The ``/metrics`` port (checked like the serving port)."""
    return _port(environ, env.METRICS_PORT, env.DEFAULT_METRICS_PORT)
