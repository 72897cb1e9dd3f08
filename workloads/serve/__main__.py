"""``python -m workloads.serve``: load the release's model version, then serve it.

The HTTP server starts first (liveness answers while the model downloads, readiness stays 503);
the model loads in a background thread. A model that cannot be loaded stops the process with
status 1, so the kubelet restarts it with back-off and the pod never turns ready.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping

import uvicorn

from contract import workloads as env
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError
from workloads.serve.app import Asgi, ServingApp
from workloads.serve.settings import ServeSettings, from_environ, metrics_port

LOG = logging.getLogger("workloads.serve")


def load_scoring_app(settings: ServeSettings) -> Asgi:
    """MLflow's scoring app for exactly ``settings.model_uri``, fetched from the tracking server.

    ``mlflow.pyfunc.load_model`` resolves ``models:/<name>/<version>`` against the registry at
    ``MLFLOW_TRACKING_URI`` and downloads the version's artifacts through the server's
    ``mlflow-artifacts:`` proxy; ``scoring_server.init`` builds the same app ``mlflow models
    serve`` runs (mlflow 3.17.2, ``mlflow/pyfunc/scoring_server/__init__.py``).
    """
    # Imported here: the probes and metrics (and their tests) need no MLflow.
    import mlflow  # noqa: PLC0415
    from mlflow.pyfunc import scoring_server  # noqa: PLC0415

    mlflow.set_tracking_uri(settings.tracking_uri)
    # The registry is the same server: never a registry URI set earlier in the process.
    mlflow.set_registry_uri(settings.tracking_uri)
    model = mlflow.pyfunc.load_model(settings.model_uri)
    app: Asgi = scoring_server.init(model)
    return app


def run(
    environ: Mapping[str, str],
    *,
    loader: Callable[[ServeSettings], Asgi] = load_scoring_app,
    host: str = "0.0.0.0",
) -> int:
    """Serve until stopped; the process exit status."""
    try:
        settings = from_environ(environ)
        metrics_env = {env.METRICS_PORT: str(metrics_port(environ))}
    except SettingsError as exc:
        LOG.error("%s", exc)
        return 2
    exporter = Exporter()
    app = ServingApp(
        model_name=settings.model_name, model_version=settings.model_version, exporter=exporter
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=settings.port, lifespan="off", log_level="info")
    )
    failed = threading.Event()

    def load() -> None:
        try:
            app.loaded(loader(settings))
            LOG.info("serving %s", settings.model_uri)
        except Exception:
            LOG.exception("cannot load %s", settings.model_uri)
            failed.set()
            server.should_exit = True

    exporter.serve(metrics_env, addr=host)
    threading.Thread(target=load, name="load-model", daemon=True).start()
    server.run()
    return 1 if failed.is_set() else 0


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sys.exit(run(os.environ))


if __name__ == "__main__":
    main()
