"""The reference workloads' unit tests need their data stack (pandas, scikit-learn, pandera,
scipy, mlflow): a missing one fails with the fix."""

from __future__ import annotations

import importlib

for _module in ("pandas", "sklearn", "pandera", "scipy", "mlflow", "azure.storage.blob"):
    try:
        importlib.import_module(_module)
    except ImportError as exc:  # pragma: no cover - environment problem
        raise ImportError(
            f"{_module} is not installed: the workload tests need workloads/requirements.txt"
            " (`make unit` installs it)"
        ) from exc
