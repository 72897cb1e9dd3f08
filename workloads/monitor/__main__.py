"""``python -m workloads.monitor``: serve /metrics and evaluate every interval until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from types import FrameType

from workloads.common.clients import limit_mlflow_client
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError, blob_service
from workloads.monitor.service import Monitor, Settings

EXIT_SETTINGS = 2


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log = logging.getLogger("workloads.monitor")
    try:
        settings = Settings.from_env(os.environ)
        service = blob_service()
    except SettingsError as exc:
        log.error("%s", exc)
        return EXIT_SETTINGS
    limit_mlflow_client()
    exporter = Exporter()
    port = exporter.serve()
    log.info("serving /metrics on port %d, a round every %g s", port, settings.interval_seconds)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current round", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    Monitor(settings, service, exporter).run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
