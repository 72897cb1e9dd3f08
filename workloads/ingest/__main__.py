"""``python -m workloads.ingest``: one ingestion run, then exit (a Kubernetes Job)."""

from __future__ import annotations

import logging
import sys

from workloads.ingest.run import main

if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The Azure SDK logs every HTTP request at INFO; the run's own lines are what matter.
    logging.getLogger("azure").setLevel(logging.WARNING)
    sys.exit(main())
