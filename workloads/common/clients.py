"""Short timeouts for the MLflow client (it reads them from the environment on every call).

MLflow's REST client waits 120 s per request and retries 7 times with back-off by default: a
job pointed at a broken tracking server would hang for many minutes before failing. A value
already set in the pod's environment wins.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

MLFLOW_CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}


def limit_mlflow_client(environ: MutableMapping[str, str] | None = None) -> None:
    """Set the MLflow client's timeout and retries unless the environment sets them."""
    target = os.environ if environ is None else environ
    for name, value in MLFLOW_CLIENT_DEFAULTS.items():
        target.setdefault(name, value)
