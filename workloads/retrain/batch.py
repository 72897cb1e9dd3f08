"""The blob side of a retrain: the incoming batch, its snapshot, its rejection.

Layout of the raw container (all prefixes relative to it):

- ``incoming/``: new training files (CSV or Parquet, any sub-folders) land here; every file
  present when a retrain starts is one batch (files arriving later wait for the next run);
- ``snapshots/<batch id>/``: the batch's files, byte for byte, written once and never
  overwritten -- the data version a model was trained on;
- ``rejected/<batch id>/``: a batch that failed validation, with ``validation-report.json``;
- ``locks/retrain-<model>``: the lock blob (see :mod:`workloads.retrain.lock`).

The batch id is the first 16 hex digits of a SHA-256 over the files' names and SHA-256
digests: the same files give the same id, so a retried run reuses its snapshot instead of
writing a second copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from workloads.common.storage import list_names, move, read_bytes
from workloads.data.schema import (
    DATA_SUFFIXES,
    BatchReadError,
    Problem,
    Validation,
    read_table,
    validate,
)

INCOMING = "incoming/"
SNAPSHOTS = "snapshots/"
REJECTED = "rejected/"
LOCKS = "locks/"
REPORT_NAME = "validation-report.json"
_ID_HEX_DIGITS = 16

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class BatchFile:
    """One file of a batch, read once."""

    name: str
    """Blob name under ``incoming/``."""
    data: bytes
    sha256: str

    @property
    def relative(self) -> str:
        """The name below ``incoming/`` (kept under the snapshot and rejected prefixes)."""
        return self.name.removeprefix(INCOMING)


@dataclass(frozen=True, kw_only=True)
class Batch:
    """Every file under ``incoming/`` when the run started."""

    id: str
    files: list[BatchFile]

    @property
    def digests(self) -> dict[str, str]:
        """File name (relative) -> SHA-256 hex digest."""
        return {f.relative: f.sha256 for f in self.files}

    @property
    def snapshot_prefix(self) -> str:
        return f"{SNAPSHOTS}{self.id}/"

    @property
    def rejected_prefix(self) -> str:
        return f"{REJECTED}{self.id}/"

    def manifest(self) -> dict[str, Any]:
        """Names, sizes and digests (written into the MLflow run and the report)."""
        return {
            "batch_id": self.id,
            "files": [
                {"name": f.relative, "bytes": len(f.data), "sha256": f.sha256} for f in self.files
            ],
        }


def batch_id(digests: dict[str, str]) -> str:
    """Content address of a batch: same names and bytes, same id."""
    content = "\n".join(f"{name}\t{digest}" for name, digest in sorted(digests.items()))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:_ID_HEX_DIGITS]


def take_batch(container: ContainerClient) -> Batch | None:
    """The files under ``incoming/`` now (None when there are none)."""
    files = []
    for name in sorted(list_names(container, INCOMING)):
        data = read_bytes(container, name)
        files.append(BatchFile(name=name, data=data, sha256=hashlib.sha256(data).hexdigest()))
    if not files:
        return None
    return Batch(id=batch_id({f.relative: f.sha256 for f in files}), files=files)


def check(batch: Batch) -> Validation:
    """Read every file and validate the rows together (unreadable files are problems)."""
    tables: list[pd.DataFrame] = []
    unreadable: list[Problem] = []
    for f in batch.files:
        if not f.name.lower().endswith(DATA_SUFFIXES):
            unreadable.append(
                Problem(
                    column=None,
                    check=f"file type in {DATA_SUFFIXES}",
                    failures=1,
                    examples=[{"file": f.relative}],
                )
            )
            continue
        try:
            tables.append(read_table(f.name, f.data))
        except BatchReadError as exc:
            unreadable.append(
                Problem(
                    column=None,
                    check="readable",
                    failures=1,
                    examples=[{"file": f.relative, "error": str(exc)}],
                )
            )
    if unreadable or not tables:
        rows = sum(len(t) for t in tables)
        return Validation(rows=rows, problems=unreadable, frame=None)
    return validate(pd.concat(tables, ignore_index=True))


def reject(container: ContainerClient, batch: Batch, validation: Validation, model: str) -> str:
    """Write the report next to the batch under ``rejected/<id>/`` and move the files there."""
    report = {
        "model": model,
        "rejected_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **batch.manifest(),
        "validation": validation.as_dict(),
    }
    report_name = batch.rejected_prefix + REPORT_NAME
    container.upload_blob(report_name, json.dumps(report, indent=2).encode("utf-8"), overwrite=True)
    for f in batch.files:
        move(container, f.name, batch.rejected_prefix + f.relative)
    return report_name


def snapshot(container: ContainerClient, batch: Batch) -> None:
    """Write the batch under ``snapshots/<id>/`` once; an existing copy must be identical."""
    for f in batch.files:
        target = batch.snapshot_prefix + f.relative
        try:
            container.upload_blob(target, f.data, overwrite=False)
        except ResourceExistsError:
            existing = hashlib.sha256(read_bytes(container, target)).hexdigest()
            if existing != f.sha256:  # cannot happen with content ids unless edited by hand
                raise RuntimeError(
                    f"snapshot {target} exists with other content (sha256 {existing})"
                ) from None
            log.info("snapshot %s already written by an earlier try", target)


def consume(container: ContainerClient, batch: Batch) -> None:
    """Delete the batch's files from ``incoming/`` (the snapshot holds them now)."""
    for f in batch.files:
        with contextlib.suppress(ResourceNotFoundError):  # an earlier try deleted it
            container.delete_blob(f.name)


def read_snapshot(container: ContainerClient, prefix: str) -> pd.DataFrame:
    """The validated rows of a snapshot (what a model version was trained on)."""
    tables = [
        read_table(name, read_bytes(container, name))
        for name in sorted(list_names(container, prefix))
        if name.lower().endswith(DATA_SUFFIXES)
    ]
    if not tables:
        raise BatchReadError(f"no data files under {prefix}")
    validation = validate(pd.concat(tables, ignore_index=True))
    if validation.frame is None:
        raise BatchReadError(f"snapshot {prefix} does not match the schema any more")
    return validation.frame
