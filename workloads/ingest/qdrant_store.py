"""Qdrant: the collection named by ``VECTOR_COLLECTION`` in the platform's in-cluster Qdrant.

The platform runs the Qdrant server (:mod:`components.vectordb.qdrant`) but creates no
collection: the first ingestion creates it with the stack's dimensions and distance
(``VECTOR_DIMENSIONS``, ``VECTOR_DISTANCE``, the same values the pgvector schema uses) and a
keyword index on ``metadata.document``; later runs check that an existing collection has those
dimensions. Points mirror the pgvector rows: payload ``chunk_id``, ``content`` and ``metadata``.

Point ids must be integers or UUIDs, so each is the UUIDv5 of the chunk id: re-ingesting a
document overwrites its points in place. Qdrant has no transactions; the new points are
upserted first, then the document's points that are not among them (a shorter new version)
are deleted, so a reader never finds the document missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ApiException

from workloads.ingest.embedders import Vectors
from workloads.ingest.stores import ChunkRecord, StoreUnavailableError

TIMEOUT_S = 10
DOCUMENT_KEY = "metadata.document"
# Namespace of the point ids: a constant (changing it would re-key every point).
POINT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:aks-mlops:ingest:chunk")
DISTANCES = {
    "cosine": models.Distance.COSINE,
    "l2": models.Distance.EUCLID,
    "inner_product": models.Distance.DOT,
}
# Errors of the REST client (HTTP status; connection and timeout come wrapped in
# ResponseHandlingException, an ApiException) and of the local mode (ValueError).
CLIENT_ERRORS = (ApiException, OSError, ValueError)


def point_id(chunk_id: str) -> str:
    """The UUID of a chunk's point."""
    return str(uuid.uuid5(POINT_NAMESPACE, chunk_id))


def read_api_key(path: str | None) -> str | None:
    """The mounted API key, or None without a key file."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise StoreUnavailableError(f"cannot read the Qdrant API key file {path}: {exc}") from exc


def connect(url: str, api_key_file: str | None) -> QdrantClient:
    """A REST client with a short timeout (no version probe: the first call checks reachability)."""
    return QdrantClient(
        url=url, api_key=read_api_key(api_key_file), timeout=TIMEOUT_S, check_compatibility=False
    )


class QdrantStore:
    """Writes one collection."""

    def __init__(
        self, client: QdrantClient, collection: str, dimensions: int, distance: str
    ) -> None:
        self._client = client
        self._collection = collection
        try:
            self._ensure(dimensions, DISTANCES[distance])
        except CLIENT_ERRORS as exc:
            raise StoreUnavailableError(f"Qdrant collection {collection}: {exc}") from exc

    def _ensure(self, dimensions: int, distance: models.Distance) -> None:
        if not self._client.collection_exists(self._collection):
            try:
                self._client.create_collection(
                    self._collection,
                    vectors_config=models.VectorParams(size=dimensions, distance=distance),
                )
            except CLIENT_ERRORS:
                # Another job created it between the check and here: use theirs (checked below).
                if not self._client.collection_exists(self._collection):
                    raise
            self._client.create_payload_index(
                self._collection, DOCUMENT_KEY, field_schema=models.PayloadSchemaType.KEYWORD
            )
        vectors = self._client.get_collection(self._collection).config.params.vectors
        if not isinstance(vectors, models.VectorParams):
            raise StoreUnavailableError(
                f"Qdrant collection {self._collection} uses named vectors; ingestion writes "
                "one unnamed vector per point"
            )
        if vectors.size != dimensions or vectors.distance != distance:
            raise StoreUnavailableError(
                f"Qdrant collection {self._collection} has {vectors.size} dimensions "
                f"({vectors.distance}), the settings say {dimensions} ({distance})"
            )

    def replace(self, document: str, records: Sequence[ChunkRecord], vectors: Vectors) -> None:
        ids = [point_id(record.id) for record in records]
        points = [
            models.PointStruct(
                id=pid,
                vector=vector.tolist(),
                payload={"chunk_id": r.id, "content": r.content, "metadata": r.metadata},
            )
            for pid, r, vector in zip(ids, records, vectors, strict=True)
        ]
        stale = models.Filter(
            must=[models.FieldCondition(key=DOCUMENT_KEY, match=models.MatchValue(value=document))],
            must_not=[models.HasIdCondition(has_id=list(ids))],
        )
        try:
            self._client.upsert(self._collection, points=points, wait=True)
            self._client.delete(
                self._collection, points_selector=models.FilterSelector(filter=stale), wait=True
            )
        except CLIENT_ERRORS as exc:
            raise StoreUnavailableError(f"writing to Qdrant failed: {exc}") from exc

    def close(self) -> None:
        self._client.close()
