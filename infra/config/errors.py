"""Config errors that name the key, the value and the rule.

Every rejection reads ``<key> (<value>) <rule>``, for example
``gpuPools[0].minCount (3) must be <= maxCount (2)``. Validators raise :func:`rule_error`;
:func:`format_validation_error` turns pydantic's errors into that shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

RULE_ERROR_TYPE = "config_rule"


class ConfigError(pulumi.RunError):
    """The stack config breaks a rule. Raised before any resource is registered.

    A ``pulumi.RunError`` so that ``pulumi up`` prints the message without a traceback.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack config ({len(self.problems)} problem(s)):\n{lines}")


def show_value(value: Any) -> str:
    """Render a config value compactly and deterministically for an error message."""
    try:
        return json.dumps(value, default=str, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def rule_error(key: str, value: Any, rule: str) -> PydanticCustomError:
    """An error for ``key`` (relative to the model being validated) that broke ``rule``.

    ``key`` may be empty when the rule is about the model itself.
    """
    return PydanticCustomError(
        RULE_ERROR_TYPE,
        "{key} ({shown}) {rule}",
        {"key": key, "shown": show_value(value), "rule": rule},
    )


def join_location(loc: Sequence[int | str]) -> str:
    """``("gpuPools", 0, "minCount")`` -> ``gpuPools[0].minCount``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: ``key (value) rule``."""
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        # Pydantic appends the validator's name to `loc` for some model validators; drop them.
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        where = join_location(loc)
        ctx = err.get("ctx") or {}
        if err["type"] == RULE_ERROR_TYPE:
            key = ctx.get("key", "")
            full = (
                ".".join(p for p in (where, key) if p) if not key.startswith("[") else where + key
            )
            problems.append(f"{full or '<root>'} ({ctx['shown']}) {ctx['rule']}")
        elif err["type"] == "extra_forbidden":
            problems.append(f"{where} ({show_value(err['input'])}) is not a known key")
        elif err["type"] == "missing":
            problems.append(f"{where} (missing) is required")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            problems.append(f"{where or '<root>'} ({show_value(err['input'])}) {msg}")
    return problems
