"""The files of a model version, compared by sha256.

A promotion copies every file of a version unchanged except the ``MLmodel`` file's identity
fields (see :mod:`promote.copy`); :func:`comparable_digests` blanks exactly those fields, so a
copy is verified file by file and any other byte that differs fails it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import yaml

MLMODEL = "MLmodel"
IDENTITY_KEYS = ("artifact_path", "model_id", "model_uuid", "run_id")
"""Top-level MLmodel keys that name where a model was logged (not what it is)."""


def artifact_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory``, keyed by its POSIX path relative to it."""
    digests: dict[str, str] = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                sha.update(chunk)
        digests[path.relative_to(directory).as_posix()] = sha.hexdigest()
    return digests


def rewrite_identity(text: str, values: Mapping[str, str]) -> str:
    """MLmodel text with its top-level identity keys set to ``values`` (other lines as is)."""
    out = []
    for line in text.splitlines(keepends=True):
        key = line.split(":", 1)[0]
        if key in values and key in IDENTITY_KEYS:
            out.append(yaml.safe_dump({key: values[key]}, default_flow_style=False, width=4096))
        else:
            out.append(line)
    return "".join(out)


def comparable_digests(directory: Path) -> dict[str, str]:
    """:func:`artifact_digests`, the MLmodel's taken with its identity fields blanked."""
    digests = artifact_digests(directory)
    mlmodel = directory / MLMODEL
    if mlmodel.is_file():
        neutral = rewrite_identity(mlmodel.read_text(), dict.fromkeys(IDENTITY_KEYS, ""))
        digests[MLMODEL] = hashlib.sha256(neutral.encode()).hexdigest()
    return digests


def manifest_digest(digests: Mapping[str, str]) -> str:
    """One sha256 over the sorted ``path  sha256`` lines of a digest map (a lineage tag)."""
    lines = "".join(f"{path}  {sha}\n" for path, sha in sorted(digests.items()))
    return hashlib.sha256(lines.encode()).hexdigest()
