#!/usr/bin/env python3
"""Print the stacks of the project as CI matrices, derived from the Pulumi.<stack>.yaml files.

    python3 scripts/ci/stacks.py            # ["dev", "prod", "test"]  (JSON, for a matrix)
    python3 scripts/ci/stacks.py --lines    # one stack per line (Azure Pipelines, shell loops)

Standard library only: it runs before the virtualenv exists. A new environment is a new stack
file; no workflow lists stacks by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stacks(root: Path = ROOT) -> list[str]:
    """Stack names with a ``Pulumi.<stack>.yaml`` file at the project root."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def main(argv: list[str]) -> int:
    names = stacks()
    if not names:
        print("no Pulumi.<stack>.yaml files found", file=sys.stderr)
        return 1
    print("\n".join(names) if "--lines" in argv else json.dumps(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
