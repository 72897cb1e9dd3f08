"""Rewrite a stack file's ``release.models`` pin, keeping its comments and formatting.

The stack files are read and written with ruamel.yaml's round-trip mode: comments, key order,
flow mappings (``{severity: 3, forMinutes: 15}``) and quotes survive, so the diff a promotion
prints is the pin it changed and nothing else. Only ``name`` and ``version`` of an entry are
written; any other key of an entry (serving settings) is left as it is.

Files are replaced atomically (a temp file in the same directory, fsync, ``os.replace``): a
reader sees the old file or the new one, never half of one. :func:`commit` replaces several
files and puts back the ones already replaced when a later one fails.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from infra.config.errors import ConfigError
from infra.config.loader import parse_config
from infra.config.release import ReleaseModel
from offline.runner import load_stack_config

RELEASE_KEY = "aks-mlops:release"
# Written above a release block the tool adds to a stack file that had none.
RELEASE_COMMENT = (
    "What this stack runs. release.models[].version is written by `make promote` (recorded in\n"
    "promotions/<stack>.json); a pin edited by hand is refused by the next promotion."
)
# The stack files' layout: mappings indented by 2, block sequences' dashes 2 in from their key.
_MAPPING_INDENT = 2
_SEQUENCE_INDENT = 4
_SEQUENCE_DASH_OFFSET = 2
_NO_WRAP = 4096


def _yaml() -> YAML:
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = _NO_WRAP
    rt.indent(mapping=_MAPPING_INDENT, sequence=_SEQUENCE_INDENT, offset=_SEQUENCE_DASH_OFFSET)
    return rt


def load(text: str) -> Any:
    """A stack file's text as a round-trip document."""
    return _yaml().load(text)


def dump(doc: Any) -> str:
    """A round-trip document back to text."""
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def pinned_version(doc: Any, model: str) -> int | None:
    """The version ``release.models`` pins for ``model`` in a loaded stack file, if any."""
    release = (doc.get("config") or {}).get(RELEASE_KEY) or {}
    for entry in release.get("models") or []:
        if entry.get("name") == model:
            version = entry.get("version")
            return version if isinstance(version, int) else None
    return None


def with_model_pin(text: str, model: str, version: int) -> str:
    """``text`` (a stack file) with ``release.models`` pinning ``model`` at ``version``.

    An existing entry of that model keeps its other keys and its place; a new entry is
    appended; a stack file without a release block gets one at the end of ``config``.
    """
    doc = load(text)
    config = doc.get("config")
    if not isinstance(config, CommentedMap):
        raise ValueError("the stack file has no `config:` mapping")
    release = config.get(RELEASE_KEY)
    if release is None:
        release = CommentedMap()
        config[RELEASE_KEY] = release
        config.yaml_set_comment_before_after_key(
            RELEASE_KEY, before=RELEASE_COMMENT, indent=_MAPPING_INDENT
        )
    models = release.get("models")
    if models is None:
        models = CommentedSeq()
        release["models"] = models
    for entry in models:
        if entry.get("name") == model:
            entry["version"] = version
            break
    else:
        entry = CommentedMap()
        entry["name"] = model
        entry["version"] = version
        models.append(entry)
    return dump(doc)


def check_renders_valid(text: str, stack: str, model: str, version: int) -> list[ReleaseModel]:
    """The rewritten stack file still passes the config model and pins what was asked.

    Returns its model pins as the config model reads them.
    """
    raw = yaml.safe_load(text) or {}
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(raw))
        config_values, _secrets = load_stack_config(stack, Path(scratch))
    try:
        config = parse_config(config_values)
    except ConfigError as exc:
        problems = "; ".join(exc.problems)
        raise ValueError(f"the rewritten Pulumi.{stack}.yaml would be invalid: {problems}") from exc
    pins = {m.name: m.version for m in config.release.models}
    if pins.get(model) != version:
        raise ValueError(f"the rewritten Pulumi.{stack}.yaml pins {pins}, not {model}={version}")
    return list(config.release.models)


def unified_diff(old: str, new: str, path: str) -> str:
    """A unified diff of a file's old and new text (empty when they are equal)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically (same directory, fsync, ``os.replace``)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def commit(writes: Sequence[tuple[Path, str]]) -> None:
    """Write every ``(path, text)`` atomically; if one fails, restore those already written.

    Either all files have their new text or all keep (byte for byte) what they had.
    """
    before = {path: path.read_bytes() if path.exists() else None for path, _ in writes}
    done: list[Path] = []
    try:
        for path, text in writes:
            atomic_write(path, text.encode())
            done.append(path)
    except BaseException:
        for path in reversed(done):
            old = before[path]
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, old)
        raise
