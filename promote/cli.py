"""``aks-mlops-promote`` / ``make promote``: carry a model version to the next stack.

Exit status: 0 promoted (or nothing to do), 2 refused (the message names the argument or the
file and the rule), 1 anything else (a tracking server that does not answer, ...).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from contract.queries import CHAMPION_ALIAS
from infra.config.release import ReleaseModel
from promote import record as records
from promote import stackfile
from promote.stages import (
    PromotionError,
    Stack,
    check_approval,
    check_order,
    load_stack,
)
from promote.tracking import TrackingServer, check_uri

ROOT = Path(__file__).resolve().parents[1]
EXIT_REFUSED = 2
# Who ran the promotion: CI's actor when there is one, else the local user.
_ACTOR_ENV = "GITHUB_ACTOR"


@dataclass(frozen=True)
class Plan:
    """A promotion that passed the checks that need no tracking server."""

    source: Stack
    target: Stack
    model: str
    pins: list[dict[str, object]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aks-mlops-promote",
        description="Copy a registered model version from one stack's MLflow to the next "
        "stack's and pin it in that stack's release block.",
    )
    parser.add_argument("--from", dest="source", required=True, help="source stack (e.g. dev)")
    parser.add_argument("--to", dest="target", required=True, help="target stack (e.g. test)")
    parser.add_argument(
        "--model",
        help="registered model name (default: the one model in the source's release block)",
    )
    parser.add_argument(
        "--version",
        type=int,
        help="source version to promote (default: the source registry's champion alias)",
    )
    parser.add_argument("--from-tracking-uri", help="source MLflow URL (e.g. a port-forward)")
    parser.add_argument("--to-tracking-uri", help="target MLflow URL (e.g. a port-forward)")
    parser.add_argument(
        "--from-token-scope",
        help="Entra scope of an Entra-protected source MLflow (api://<app id>/.default)",
    )
    parser.add_argument("--to-token-scope", help="Entra scope of the target MLflow, likewise")
    parser.add_argument("--approved-by", help="who approved (required into a prod environment)")
    parser.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return parser


def _choose_model(args: argparse.Namespace, source: Stack, target: Stack) -> str:
    if args.model:
        return str(args.model)
    for stack in (source, target):
        names = [m.name for m in stack.config.release.models]
        if len(names) == 1:
            return names[0]
    raise PromotionError(
        f"--model is required: neither {source.name}'s nor {target.name}'s release block pins "
        "exactly one model"
    )


def check(args: argparse.Namespace) -> Plan:
    """Every rule that needs no tracking server, in the order a user fixes them."""
    if args.version is not None and args.version < 1:
        raise PromotionError(f"--version ({args.version}) must be a positive integer")
    source = load_stack(args.source, "--from", args.root)
    target = load_stack(args.target, "--to", args.root)
    check_order(source, target)
    check_approval(target, args.approved_by)
    pins = records.pins_of(target.config.release.models)
    problem = records.hand_edit_problem(
        target.name, pins, records.read_record(args.root, target.name)
    )
    if problem:
        raise PromotionError(problem)
    return Plan(source=source, target=target, model=_choose_model(args, source, target), pins=pins)


def _server(stack: Stack, uri: str | None, scope: str | None, argument: str) -> TrackingServer:
    if not uri:
        raise PromotionError(
            f"{argument} is required: the URL of {stack.name}'s MLflow (private clusters: "
            "`kubectl port-forward -n mlflow svc/mlflow 5001:5000`, then http://127.0.0.1:5001)"
        )
    try:
        return TrackingServer(stack.name, check_uri(uri, argument), token_scope=scope)
    except ValueError as exc:
        raise PromotionError(str(exc)) from exc


def _lineage(
    plan: Plan, src_version: int, run_id: str | None, approved_by: str | None
) -> dict[str, str]:
    from promote import copy  # noqa: PLC0415

    tags = {
        copy.SOURCE_STACK: plan.source.name,
        copy.SOURCE_VERSION: str(src_version),
        copy.SOURCE_RUN_ID: run_id or "",
        copy.PROMOTED_BY: os.environ.get(_ACTOR_ENV) or getpass.getuser(),
        copy.PROMOTED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if approved_by:
        tags[copy.APPROVED_BY] = approved_by.strip()
    return tags


def _rewrite(text: str, plan: Plan, version: int) -> tuple[str, list[ReleaseModel]]:
    """The target stack file pinning ``version``, checked by the config model."""
    try:
        new_text = stackfile.with_model_pin(text, plan.model, version)
        models = stackfile.check_renders_valid(new_text, plan.target.name, plan.model, version)
    except ValueError as exc:
        raise PromotionError(f"--to ({plan.target.name}): {exc}") from exc
    return new_text, models


def promote(args: argparse.Namespace, emit: Callable[[str], None] = print) -> int:
    """Run a promotion, reporting each step through ``emit``."""
    from promote import copy  # noqa: PLC0415 (needs the promote extra: mlflow)

    plan = check(args)
    source = _server(
        plan.source, args.from_tracking_uri, args.from_token_scope, "--from-tracking-uri"
    )
    target = _server(plan.target, args.to_tracking_uri, args.to_token_scope, "--to-tracking-uri")
    old_text = plan.target.path.read_text()
    _rewrite(old_text, plan, 1)  # a pin the config model rejects stops before any copy
    src = copy.resolve_source(source, plan.model, args.version)
    how = f"the {CHAMPION_ALIAS!r} alias" if src.via_alias else "--version"
    emit(f"source: {plan.model} v{src.version} in {plan.source.name} (from {how})")
    lineage = _lineage(plan, src.version, src.run_id, args.approved_by)

    if args.dry_run:
        existing = copy.find_promoted(target, plan.model, plan.source.name, src.version)
        version = existing or copy.next_version(target, plan.model)
        note = "already copied" if existing else "would be created"
        emit(f"target: {plan.model} v{version} in {plan.target.name} ({note})")
    else:
        result = copy.copy_version(source, target, src, lineage)
        version = result.version
        state = "copied" if result.created else "already there (nothing copied)"
        emit(
            f"target: {plan.model} v{version} in {plan.target.name}: {state}; "
            f"{len(result.digests)} artifact files verified by sha256"
        )
        lineage = {**lineage, **result.lineage}

    new_text, new_models = _rewrite(old_text, plan, version)
    rel = plan.target.path.name
    diff = stackfile.unified_diff(old_text, new_text, rel)
    if not diff:
        emit(f"{rel}: already pins {plan.model} v{version}; nothing to write")
        return 0
    emit(diff.rstrip("\n"))
    if args.dry_run:
        emit("dry run: nothing written")
        return 0
    new_pins = records.pins_of(new_models)
    record_lineage = {
        **{k.removeprefix(copy.LINEAGE_PREFIX): v for k, v in lineage.items()},
        "model": plan.model,
        "target-version": str(version),
    }
    record_text = records.new_record(plan.target.name, new_pins, record_lineage)
    stackfile.commit(
        [
            (plan.target.path, new_text),
            (records.record_path(args.root, plan.target.name), record_text),
        ]
    )
    emit(f"wrote {rel} and {records.RECORD_DIR}/{plan.target.name}.json")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``aks-mlops-promote``."""
    args = _parser().parse_args(argv)
    try:
        return promote(args, lambda line: print(line, flush=True))
    except PromotionError as exc:
        print(f"promotion refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main())
