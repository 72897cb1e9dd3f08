"""Which stack may be promoted into which: the stage order and the approval rule.

A stack's stage is its configured environment (``tags.environment`` in ``Pulumi.<stack>.yaml``,
read through the config model), never its name: a new stack file is a new environment of one
of the known kinds. A promotion goes exactly one stage forward (dev -> test -> prod); into a
prod environment it needs an approval record (``--approved-by``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from infra.config.errors import ConfigError
from infra.config.loader import parse_config
from infra.config.model import Environment, PlatformConfig
from offline.runner import list_stacks, load_stack_config, stack_file

STAGES: tuple[Environment, ...] = get_args(Environment)
"""Environments in promotion order (the config model's ``Environment`` literal: dev, test,
prod)."""
APPROVAL_REQUIRED: frozenset[Environment] = frozenset({"prod"})
"""Environments a promotion reaches only with ``--approved-by``."""


class PromotionError(Exception):
    """A promotion that must not happen; the message names the argument or the file."""


@dataclass(frozen=True)
class Stack:
    """A stack as the promotion tool sees it."""

    name: str
    path: Path
    config: PlatformConfig

    @property
    def environment(self) -> Environment:
        return self.config.environment


def load_stack(name: str, argument: str, root: Path) -> Stack:
    """The stack ``name`` (given as ``argument``, e.g. ``--to``) from ``root``.

    Raises :class:`PromotionError` naming the argument when there is no such stack file or
    its config is invalid.
    """
    stacks = list_stacks(root)
    if name not in stacks:
        raise PromotionError(
            f"{argument} ({name}): no stack file Pulumi.{name}.yaml "
            f"(stacks: {', '.join(stacks) or 'none'})"
        )
    raw, _secrets = load_stack_config(name, root)
    try:
        config = parse_config(raw)
    except ConfigError as exc:
        problems = "; ".join(exc.problems)
        raise PromotionError(
            f"{argument} ({name}): Pulumi.{name}.yaml is invalid: {problems}"
        ) from exc
    return Stack(name=name, path=stack_file(name, root), config=config)


def check_order(source: Stack, target: Stack) -> None:
    """The target is exactly one stage after the source (no skipping, no going back)."""
    src, dst = STAGES.index(source.environment), STAGES.index(target.environment)
    if dst == src + 1:
        return
    order = " -> ".join(STAGES)
    if dst > src + 1:
        skipped = ", ".join(STAGES[src + 1 : dst])
        rule = f"skips the {skipped} stage"
    elif dst == src:
        rule = "stays in the same stage"
    else:
        rule = "goes backwards"
    raise PromotionError(
        f"--to ({target.name}, environment {target.environment}) {rule}: "
        f"from {source.name} (environment {source.environment}) the next stage is "
        f"{STAGES[src + 1] if src + 1 < len(STAGES) else 'none'} (order: {order})"
    )


def check_approval(target: Stack, approved_by: str | None) -> None:
    """Promotion into an approval-gated environment names who approved it."""
    if target.environment in APPROVAL_REQUIRED and not (approved_by or "").strip():
        raise PromotionError(
            f"--approved-by is required: {target.name} is a {target.environment} environment "
            "(in CI: the reviewer who approved the protected environment's deployment)"
        )
