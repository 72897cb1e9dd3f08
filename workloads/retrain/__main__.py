"""``python -m workloads.retrain [--ray]``: one retrain, then exit (see job.py)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from workloads.common.clients import limit_mlflow_client
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError, blob_service
from workloads.retrain.job import EXIT_SETTINGS, Settings, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workloads.retrain", description=__doc__)
    parser.add_argument(
        "--ray",
        action="store_true",
        help="hyperparameter search with Ray Tune even without RAY_ADDRESS (local Ray)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env(os.environ, ray=args.ray)
        service = blob_service()
    except SettingsError as exc:
        logging.getLogger("workloads.retrain").error("%s", exc)
        return EXIT_SETTINGS
    limit_mlflow_client()
    exporter = Exporter()
    exporter.serve()  # scraped by the PodMonitor while the job runs
    return run(settings, service, exporter)


if __name__ == "__main__":
    sys.exit(main())
