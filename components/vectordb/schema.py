"""The pgvector schema of the document collection, as plain SQL (no Pulumi).

One table per collection: ``id`` (caller-chosen, so ingestion can upsert), ``content``,
``metadata`` (jsonb, GIN-indexed for filters) and ``embedding vector(<dimensions>)`` with an
HNSW index whose operator class matches the configured distance. Every statement is
idempotent, so the schema job can run on every deploy; a table created earlier with other
dimensions is reported, never silently kept, and an index left by a previous distance is
dropped. pgvector's operators: https://github.com/pgvector/pgvector#querying
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Distance = Literal["cosine", "l2", "inner_product"]

# HNSW indexes `vector` columns of at most 2000 dimensions.
MAX_INDEXED_DIMENSIONS = 2000
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class DistanceSpec:
    """How pgvector spells one distance."""

    operator_class: str
    """Index operator class."""
    operator: str
    """Query operator (smaller is nearer for all three)."""
    suffix: str
    """Index-name suffix."""


DISTANCES: dict[str, DistanceSpec] = {
    "cosine": DistanceSpec("vector_cosine_ops", "<=>", "cosine"),
    "l2": DistanceSpec("vector_l2_ops", "<->", "l2"),
    # `<#>` is the *negative* inner product, so ascending order is still nearest first.
    "inner_product": DistanceSpec("vector_ip_ops", "<#>", "ip"),
}


def _check(table: str, dimensions: int, distance: str) -> DistanceSpec:
    if not _IDENTIFIER.match(table):
        raise ValueError(f"collection ({table!r}) must be a lowercase SQL identifier (max 63)")
    if not 1 <= dimensions <= MAX_INDEXED_DIMENSIONS:
        raise ValueError(
            f"dimensions ({dimensions}) must be 1..{MAX_INDEXED_DIMENSIONS} for an HNSW index"
        )
    if distance not in DISTANCES:
        raise ValueError(f"distance ({distance!r}) must be one of {sorted(DISTANCES)}")
    return DISTANCES[distance]


def index_name(table: str, distance: str) -> str:
    """Name of the HNSW index for ``distance``."""
    return f"{table}_embedding_{DISTANCES[distance].suffix}_hnsw"


def schema_sql(*, table: str, dimensions: int, distance: str) -> str:
    """Idempotent DDL for one collection (run it in a single transaction)."""
    spec = _check(table, dimensions, distance)
    expected_type = f"vector({dimensions})"
    stale_indexes = "\n".join(
        f"DROP INDEX IF EXISTS public.{index_name(table, other)};"
        for other in sorted(DISTANCES)
        if other != distance
    )
    return f"""\
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS public.{table} (
    id text PRIMARY KEY,
    content text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    embedding {expected_type} NOT NULL
);

DO $$
DECLARE
    found text;
BEGIN
    SELECT format_type(a.atttypid, a.atttypmod) INTO found
    FROM pg_attribute AS a
    WHERE a.attrelid = 'public.{table}'::regclass
      AND a.attname = 'embedding'
      AND NOT a.attisdropped;
    IF found IS DISTINCT FROM '{expected_type}' THEN
        RAISE EXCEPTION 'public.{table}.embedding is %, the config says {expected_type}; '
            're-embed into a new collection instead of changing dimensions in place', found;
    END IF;
END
$$;

{stale_indexes}
CREATE INDEX IF NOT EXISTS {index_name(table, distance)}
    ON public.{table} USING hnsw (embedding {spec.operator_class});
CREATE INDEX IF NOT EXISTS {table}_metadata_gin
    ON public.{table} USING gin (metadata jsonb_path_ops);
"""


def nearest_sql(*, table: str, distance: str, limit_param: str = "%(k)s") -> str:
    """A k-nearest-neighbour query using the operator the index serves.

    Parameters (psycopg style): ``query`` (the vector) and ``k``.
    """
    # Validates table and distance only; any valid dimension count is equivalent here.
    spec = _check(table, 1, distance)  # pragma: no mutate
    return (
        f"SELECT id, content, metadata, embedding {spec.operator} %(query)s AS distance "
        f"FROM public.{table} ORDER BY embedding {spec.operator} %(query)s "
        f"LIMIT {limit_param}"
    )
