"""The reference workloads' unit tests need their data stack (pandas, scikit-learn, pandera,
scipy, mlflow): a missing one fails with the fix. They also run asyncio in the test process
(the model server's ASGI app, uvicorn)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator

import pytest

for _module in ("pandas", "sklearn", "pandera", "scipy", "mlflow", "azure.storage.blob"):
    try:
        importlib.import_module(_module)
    except ImportError as exc:  # pragma: no cover - environment problem
        raise ImportError(
            f"{_module} is not installed: the workload tests need workloads/requirements.txt"
            " (`make unit` installs it)"
        ) from exc


@pytest.fixture(autouse=True)
def fresh_event_loop_after() -> Iterator[None]:
    """``asyncio.run`` leaves the main thread without a current loop; the Pulumi mock tests
    that run later in the same worker need one (``asyncio.get_event_loop``)."""
    yield
    asyncio.set_event_loop(asyncio.new_event_loop())
