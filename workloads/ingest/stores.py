"""The vector store seen by the ingest loop: replace one document's chunks, atomically enough.

Two engines, the platform's (``VECTOR_ENGINE``): pgvector (:mod:`.pgvector_store`, the table
the platform's schema job creates) and Qdrant (:mod:`.qdrant_store`). Errors are sorted in
two kinds: :class:`StoreUnavailableError` (the store cannot be used: the run stops and the
document stays under ``incoming/`` for the next run) and :class:`RecordsRejectedError` (this
document's rows were refused: it is moved aside like any malformed document).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workloads.ingest.embedders import Vectors


class StoreUnavailableError(RuntimeError):
    """The vector store cannot be reached or is not set up (a systemic failure)."""


class RecordsRejectedError(Exception):
    """The store refused one document's rows (a failure of that document only)."""


@dataclass(frozen=True)
class ChunkRecord:
    """One row (pgvector) or point (Qdrant)."""

    id: str
    """Deterministic: ``<document>#<chunk index>``."""
    content: str
    """The chunk's text."""
    metadata: dict[str, Any]
    """JSON: ``document`` (the id every replace filters on), ``chunk``, ``source``, ..."""


class VectorStore(Protocol):
    """Where the ingest loop writes."""

    def replace(self, document: str, records: Sequence[ChunkRecord], vectors: Vectors) -> None:
        """Make ``records`` the only chunks of ``document`` (re-ingesting never duplicates)."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
