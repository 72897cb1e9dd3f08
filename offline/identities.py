"""Golden resource identities: what a `pulumi up` of an upgraded program would replace.

Pulumi identifies a resource by its URN (stack, project, type token, parent chain, logical
name) and Azure by its resource id (subscription, resource group, type, name). When either
changes between two versions of the program, `pulumi up` deletes the deployed resource and
creates a new one — for a storage account, a Key Vault or a PostgreSQL server that is data
loss. So every shipped stack has a checked-in file, ``identities/<stack>.yaml``, listing each
resource's URN and physical identity as the offline plan computes them:

- the tests compare every stack's offline run with its file and fail on any difference,
  printing what was added, removed and renamed;
- ``make identities`` (``aks-mlops identities``) rewrites the files, and accepts a URN that
  disappeared only when the program declares an alias from it on its successor
  (``ResourceOptions(aliases=[...])``), or when the change is marked intentional with
  ``--reason``. Each accepted disappearance or rename is kept in the file's ``history``, which
  the tests check again against the program (the alias must still be declared).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from offline.runner import ROOT, OfflineRun, RecordedResource

IDENTITIES_DIR = ROOT / "identities"
HEADER = """\
# Resource identities of stack `{stack}`: every resource's Pulumi URN and its physical
# identity (Azure resource id, or Kubernetes kind/namespace/name) as the offline plan computes
# them. An upgrade that changes either replaces the deployed resource. Never edit by hand:
# `make identities` rewrites this file and refuses a disappeared URN that no alias covers
# (or pass REASON="..." to mark the change intentional; it is kept in `history`).
"""


class IdentityFileError(ValueError):
    """A golden identity file that is missing or malformed."""


@dataclass(frozen=True)
class Identity:
    """One resource's identity: its URN and what it is called where it lives."""

    urn: str
    physical: str | None
    """Azure resource id, Kubernetes ``apiVersion/kind namespace/name``, or None (component,
    provider, random value: the URN alone identifies it)."""


@dataclass
class IdentityDiff:
    """What changed between a golden file and a run."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    """``(urn, golden physical, current physical)`` for a URN whose physical identity moved."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.renamed)

    def render(self) -> str:
        """Human-readable lines, one per change."""
        lines = [f"  added:   {u}" for u in self.added]
        lines += [f"  removed: {u}" for u in self.removed]
        lines += [f"  renamed: {u}\n           {a} -> {b}" for u, a, b in self.renamed]
        return "\n".join(lines)


def physical_identity(record: RecordedResource) -> str | None:
    """The resource's identity outside Pulumi, or None where the URN is all there is."""
    if not record.custom or record.type.startswith(("pulumi:providers:", "random:")):
        return None
    if record.type.startswith("azure-native:"):
        return record.id or None
    if record.type.startswith("kubernetes:"):
        meta = record.inputs.get("metadata") or {}
        kind = f"{record.inputs.get('apiVersion', '?')}/{record.inputs.get('kind', '?')}"
        namespace = meta.get("namespace") or "-"
        return f"{kind} {namespace}/{meta.get('name', record.name)}"
    return record.id or None


def engine_urn(urn: str) -> str:
    """The URN as the Pulumi engine writes it: the mock monitor keeps the root stack's type in
    the type chain of top-level resources (``pulumi:pulumi:Stack$``); the engine does not."""
    return urn.replace("::pulumi:pulumi:Stack$", "::", 1)


def identities_of(run: OfflineRun) -> dict[str, Identity]:
    """Every registered resource's identity, keyed by (engine) URN."""
    return {
        engine_urn(r.urn): Identity(engine_urn(r.urn), physical_identity(r)) for r in run.resources
    }


def aliases_of(run: OfflineRun) -> dict[str, list[str]]:
    """URN -> the old URNs it declares as aliases."""
    return {engine_urn(r.urn): sorted(r.aliases) for r in run.resources if r.aliases}


def golden_path(stack: str, directory: Path = IDENTITIES_DIR) -> Path:
    """``identities/<stack>.yaml``."""
    return directory / f"{stack}.yaml"


@dataclass
class GoldenFile:
    """A parsed golden identity file."""

    stack: str
    identities: dict[str, Identity]
    history: list[dict[str, str]]


def load_golden(stack: str, directory: Path = IDENTITIES_DIR) -> GoldenFile:
    """Read and check a golden file; any problem raises :class:`IdentityFileError`."""
    path = golden_path(stack, directory)
    if not path.is_file():
        raise IdentityFileError(
            f"{path}: golden identity file of stack {stack!r} is missing "
            "(create it with `make identities`)"
        )
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise IdentityFileError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("stack") != stack:
        raise IdentityFileError(f"{path}: must be a mapping with `stack: {stack}`")
    resources = doc.get("resources")
    history = doc.get("history") or []
    if not isinstance(resources, list) or not isinstance(history, list):
        raise IdentityFileError(f"{path}: `resources` and `history` must be lists")
    found: dict[str, Identity] = {}
    for index, entry in enumerate(resources):
        if not isinstance(entry, dict) or not isinstance(entry.get("urn"), str):
            raise IdentityFileError(f"{path}: resources[{index}] must have a string `urn`")
        physical = entry.get("physical")
        if physical is not None and not isinstance(physical, str):
            raise IdentityFileError(f"{path}: resources[{index}].physical must be a string")
        if entry["urn"] in found:
            raise IdentityFileError(f"{path}: resources[{index}] repeats {entry['urn']}")
        found[entry["urn"]] = Identity(entry["urn"], physical)
    for index, entry in enumerate(history):
        if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
            raise IdentityFileError(f"{path}: history[{index}] must map names to strings")
    return GoldenFile(stack=stack, identities=found, history=history)


def compare(golden: Mapping[str, Identity], current: Mapping[str, Identity]) -> IdentityDiff:
    """What a run changes against a golden file."""
    diff = IdentityDiff(
        added=sorted(set(current) - set(golden)), removed=sorted(set(golden) - set(current))
    )
    for urn in sorted(set(golden) & set(current)):
        if golden[urn].physical != current[urn].physical:
            diff.renamed.append((urn, golden[urn].physical, current[urn].physical))
    return diff


def history_problems(history: Iterable[Mapping[str, str]], run: OfflineRun) -> list[str]:
    """History entries the program no longer honours (an alias dropped, a reason blank)."""
    aliases = aliases_of(run)
    problems = []
    for entry in history:
        successor = entry.get("successor")
        if successor is not None:
            if entry.get("removed") not in aliases.get(successor, []):
                problems.append(
                    f"{successor} must keep its alias from {entry.get('removed')} "
                    "(deployed stacks still have the old URN)"
                )
        elif not (entry.get("reason") or "").strip():
            problems.append(f"history entry {dict(entry)} needs a successor or a reason")
    return problems


class UnexplainedChangeError(ValueError):
    """An identity change that neither an alias nor a reason accounts for."""


def updated_history(
    golden: GoldenFile | None, run: OfflineRun, reason: str | None
) -> list[dict[str, str]]:
    """The history after accepting this run, or :class:`UnexplainedChangeError`."""
    if golden is None:
        return []
    current = identities_of(run)
    diff = compare(golden.identities, current)
    claimed = {old: new for new, olds in aliases_of(run).items() for old in olds}
    history = list(golden.history)
    unexplained: list[str] = []
    for old in diff.removed:
        successor = claimed.get(old)
        if successor is not None:
            entry = {"removed": old, "successor": successor}
            before, after = golden.identities[old].physical, current[successor].physical
            if before != after:
                if not reason:
                    unexplained.append(f"{old}: its successor moves {before} -> {after}")
                    continue
                entry["reason"] = reason
            history.append(entry)
        elif reason:
            history.append({"removed": old, "reason": reason})
        else:
            unexplained.append(f"{old}: no resource declares an alias from it")
    for urn, before, after in diff.renamed:
        if reason:
            history.append(
                {"renamed": urn, "from": str(before), "to": str(after), "reason": reason}
            )
        else:
            unexplained.append(f"{urn}: physical identity {before} -> {after}")
    if unexplained:
        raise UnexplainedChangeError(
            "an upgrade would replace deployed resources:\n  "
            + "\n  ".join(unexplained)
            + "\nDeclare ResourceOptions(aliases=[...]) from the old URN, or mark the change "
            'intentional: make identities REASON="why, and how deployed stacks upgrade"'
        )
    return history


def render_golden(stack: str, run: OfflineRun, history: list[dict[str, str]]) -> str:
    """The golden file's text for a run."""
    resources: list[dict[str, Any]] = [
        {"urn": i.urn, "physical": i.physical}
        for i in sorted(identities_of(run).values(), key=lambda i: i.urn)
    ]
    body = yaml.safe_dump(
        {"stack": stack, "resources": resources, "history": history},
        sort_keys=False,
        width=1000,
    )
    return HEADER.format(stack=stack) + body


def write_golden(
    stack: str, run: OfflineRun, reason: str | None, directory: Path = IDENTITIES_DIR
) -> IdentityDiff:
    """Rewrite a stack's golden file (atomically); returns what changed."""
    path = golden_path(stack, directory)
    golden = load_golden(stack, directory) if path.exists() else None
    history = updated_history(golden, run, reason)
    diff = compare(golden.identities if golden else {}, identities_of(run))
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(render_golden(stack, run, history))
    tmp.replace(path)
    return diff
