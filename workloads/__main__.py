"""``python -m workloads``: the image's default command, which only lists the entry points."""

from __future__ import annotations

import pkgutil
import sys

import workloads


def entry_points() -> list[str]:
    """The ``python -m workloads.<name>`` commands this image provides."""
    return sorted(
        f"workloads.{module.name}"
        for module in pkgutil.iter_modules(workloads.__path__)
        if module.ispkg and module.name != "common"
    )


if __name__ == "__main__":
    print("usage: python -m <entry point>; entry points:", *entry_points(), sep="\n  ")
    sys.exit(2)
