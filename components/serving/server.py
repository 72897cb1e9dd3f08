"""How a model server pod starts: command and environment (pure).

Pure functions, so the integration test starts exactly this command, with this environment,
against a local MLflow server (substituting only the tracking server's host).
"""

from __future__ import annotations

from contract import workloads as env

SERVE_PORT = env.DEFAULT_SERVE_PORT
METRICS_PORT = env.DEFAULT_METRICS_PORT
# The root filesystem is read-only: MLflow downloads the model version into the temp dir, and
# libraries that write caches under $HOME find /tmp too.
TMP_DIR = "/tmp"


def server_command() -> list[str]:
    """The container command: the workloads image's serve entry point."""
    return ["python", "-m", "workloads.serve"]


def server_env(*, model_name: str, model_version: int, tracking_uri: str) -> dict[str, str]:
    """The container environment (names from :mod:`contract.workloads`)."""
    return {
        env.SERVE_MODEL_NAME: model_name,
        env.SERVE_MODEL_VERSION: str(model_version),
        env.MLFLOW_TRACKING_URI: tracking_uri,
        env.SERVE_PORT: str(SERVE_PORT),
        env.METRICS_PORT: str(METRICS_PORT),
        "HOME": TMP_DIR,
        "TMPDIR": TMP_DIR,
        # MLflow's own switch: no usage reporting from inside the cluster.
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


def object_name(model_name: str) -> str:
    """Kubernetes name of a model's server objects: the registered name as a DNS-1123 label
    (the config admits letters, digits, '-' and '_', at most 63)."""
    return model_name.lower().replace("_", "-")
