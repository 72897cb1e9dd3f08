"""How the MLflow tracking server starts: command, arguments and environment (pure).

The container runs a small shell wrapper (:data:`SERVER_WRAPPER`) that reads the database
password from the file the Secrets Store CSI driver mounts from Key Vault, URL-encodes it into
the backend URI and execs ``mlflow server`` with the container's arguments; the migration Job
runs the same wrapper ending in ``mlflow db upgrade`` (:data:`UPGRADE_WRAPPER`). Pure functions,
so tests run the exact same server locally, substituting only endpoints (database host,
blob endpoint, the password file's path).
"""

from __future__ import annotations

from components.kit.kubernetes import SECRETS_MOUNT_PATH

MLFLOW_PORT = 5000
POSTGRES_PORT = 5432
APP = "mlflow"
PASSWORD_ALIAS = "postgres-password"
PASSWORD_FILE = f"{SECRETS_MOUNT_PATH}/{PASSWORD_ALIAS}"
ARTIFACTS_CONTAINER = "mlflow-artifacts"
DATABASE = "mlflow"
# Measured (tests/integration/test_mlflow_server.py): the server writes a DB-init lock file
# in the temp dir and its job queue in /dev/shm (a runtime tmpfs), nothing in its working
# directory or home. /tmp is the one writable volume; HOME points there for libraries.
TMP_DIR = "/tmp"

_BACKEND_URI = """set -eu
MLFLOW_BACKEND_STORE_URI="$(python - <<'PY'
import os
from urllib.parse import quote

with open(os.environ["MLFLOW_DB_PASSWORD_FILE"], encoding="utf-8") as handle:
    password = handle.read().rstrip("\\n")
print(
    "postgresql+psycopg2://{}:{}@{}:{}/{}?sslmode={}".format(
        quote(os.environ["MLFLOW_DB_USER"], safe=""),
        quote(password, safe=""),
        os.environ["MLFLOW_DB_HOST"],
        os.environ["MLFLOW_DB_PORT"],
        os.environ["MLFLOW_DB_NAME"],
        quote(os.environ["MLFLOW_DB_SSLMODE"], safe=""),
    )
)
PY
)"
export MLFLOW_BACKEND_STORE_URI
"""

SERVER_WRAPPER = _BACKEND_URI + 'exec mlflow server "$@"\n'
"""Builds the backend URI from the mounted password file and execs the server with the
container's arguments. The URI (it holds the password) goes in ``MLFLOW_BACKEND_STORE_URI``,
which ``mlflow server`` reads for ``--backend-store-uri``, so it never shows in the process
list. ``postgresql+psycopg2``: a bare ``postgresql://`` makes SQLAlchemy
pick psycopg 3, which the image does not ship."""

UPGRADE_WRAPPER = _BACKEND_URI + 'exec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"\n'
"""Builds the same URI and runs ``mlflow db upgrade`` on it: creates MLflow's tables in an
empty database, or migrates them to the image's MLflow version. ``mlflow db upgrade`` takes
the URI only as an argument, so the password is in this one process's command line, visible
to nothing but the migration container itself (one container, no shell access)."""


def artifacts_destination(storage_account: str, container: str = ARTIFACTS_CONTAINER) -> str:
    """The ``wasbs://`` URI of the artifacts container."""
    return f"wasbs://{container}@{storage_account}.blob.core.windows.net/"


def service_host(namespace: str, service: str = APP) -> str:
    """The Service's cluster DNS name."""
    return f"{service}.{namespace}.svc.cluster.local"


def tracking_uri(namespace: str, service: str = APP) -> str:
    """In-cluster tracking URI."""
    return f"http://{service_host(namespace, service)}:{MLFLOW_PORT}"


def allowed_hosts(namespace: str, service: str = APP) -> list[str]:
    """Host headers the server accepts (``--allowed-hosts`` replaces MLflow's defaults).

    Every in-cluster spelling of the Service, plus loopback for ``kubectl port-forward``.
    Kubelet probes use the pod IP but only hit ``/health``, which is exempt.
    """
    return [
        f"{service_host(namespace, service)}:*",
        f"{service}.{namespace}.svc:*",
        f"{service}.{namespace}:*",
        f"{service}:*",
        "localhost:*",
        "127.0.0.1:*",
    ]


def server_command() -> list[str]:
    """The container command: the wrapper (``$0`` is a label, ``$@`` the container args)."""
    return ["/bin/sh", "-c", SERVER_WRAPPER, "mlflow-server"]


def upgrade_command() -> list[str]:
    """The migration Job's command (same image, same environment as the server)."""
    return ["/bin/sh", "-c", UPGRADE_WRAPPER, "mlflow-db-upgrade"]


def server_args(
    *, storage_account: str, namespace: str, workers: int, port: int = MLFLOW_PORT
) -> list[str]:
    """``mlflow server`` arguments (the backend store comes from the environment)."""
    return [
        "--artifacts-destination",
        artifacts_destination(storage_account),
        "--serve-artifacts",
        "--host",
        # All pod interfaces: the pod IP is what the Service targets; the NetworkPolicy
        # decides who may connect, --allowed-hosts which Host headers are served.
        "0.0.0.0",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--allowed-hosts",
        ",".join(allowed_hosts(namespace)),
    ]


def server_env(
    *,
    db_host: str,
    db_user: str,
    db_name: str = DATABASE,
    password_file: str = PASSWORD_FILE,
    sslmode: str = "require",
) -> dict[str, str]:
    """The container environment (the identity webhook adds the ``AZURE_*`` variables).

    No ``AZURE_STORAGE_CONNECTION_STRING`` / ``AZURE_STORAGE_ACCESS_KEY``: without them MLflow
    reaches Blob storage with DefaultAzureCredential, i.e. the workload identity.
    """
    return {
        "MLFLOW_DB_HOST": db_host,
        "MLFLOW_DB_PORT": str(POSTGRES_PORT),
        "MLFLOW_DB_NAME": db_name,
        "MLFLOW_DB_USER": db_user,
        "MLFLOW_DB_SSLMODE": sslmode,
        "MLFLOW_DB_PASSWORD_FILE": password_file,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "HOME": TMP_DIR,
    }
