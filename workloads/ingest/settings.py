"""The ingest workload's settings, read only from the environment (:mod:`contract.workloads`).

Every problem names the variable, the value and the rule, like the platform's config errors,
so a misconfigured job says what to fix in its first log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from contract import workloads as env
from workloads.common.storage import SettingsError, require

Engine = Literal["pgvector", "qdrant"]
ENGINES: tuple[Engine, ...] = ("pgvector", "qdrant")
DISTANCES = ("cosine", "inner_product", "l2")

DEFAULT_CONTAINER = "documents"
DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 200
DEFAULT_EMBEDDER = "hashing"
DEFAULT_COLLECTION = "documents"
DEFAULT_DIMENSIONS = 384
DEFAULT_DISTANCE = "cosine"
# pgvector's HNSW indexes at most 2000 dimensions; the platform's config allows Qdrant 65535.
# A chunk smaller than a sentence embeds nothing useful.
MAX_PGVECTOR_DIMENSIONS = 2000
MAX_DIMENSIONS = 65535
MIN_CHUNK_SIZE = 50
# The same rule the platform's schema applies to a collection (table) name.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, kw_only=True)
class Postgres:
    """How to sign in to the pgvector database (libpq's variables + the mounted password)."""

    host: str
    """``PGHOST``."""
    port: int
    """``PGPORT`` (default 5432)."""
    database: str
    """``PGDATABASE``."""
    user: str
    """``PGUSER``: the vector store's own role (``vectors_app``)."""
    sslmode: str
    """``PGSSLMODE`` (default ``require``: Azure's flexible server refuses plain connections)."""
    password_file: str
    """``DB_PASSWORD_FILE``: the password, mounted from Key Vault."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything one ingestion run needs."""

    container: str
    """Data-lake container holding ``incoming/``, ``processed/`` and ``failed/``."""
    chunk_size: int
    """Maximum characters per chunk."""
    chunk_overlap: int
    """Characters a chunk repeats from the end of the previous one."""
    embedder: str
    """``hashing`` or ``sentence-transformers:<model>``."""
    engine: Engine
    """Vector store engine."""
    collection: str
    """Table (pgvector) or collection (Qdrant)."""
    dimensions: int
    """Embedding dimensions (the store's column / collection size)."""
    distance: str
    """Distance the store's index serves."""
    postgres: Postgres | None = None
    """pgvector only."""
    qdrant_url: str | None = None
    """Qdrant only."""
    qdrant_api_key_file: str | None = None
    """Qdrant only; no key when unset (a local Qdrant without authentication)."""


def _problem(name: str, value: str, rule: str) -> SettingsError:
    return SettingsError(f"{name} ({value!r}) {rule}")


def _integer(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _problem(name, raw, "must be an integer") from None
    if not low <= value <= high:
        raise _problem(name, raw, f"must be {low}..{high}")
    return value


def _postgres(environ: Mapping[str, str]) -> Postgres:
    return Postgres(
        host=require(environ, env.PG_HOST),
        port=_integer(environ, env.PG_PORT, 5432, 1, 65535),
        database=require(environ, env.PG_DATABASE),
        user=require(environ, env.PG_USER),
        sslmode=environ.get(env.PG_SSLMODE, "").strip() or "require",
        password_file=require(environ, env.DB_PASSWORD_FILE),
    )


def load(environ: Mapping[str, str]) -> Settings:
    """The settings from ``environ``; :class:`SettingsError` names the first bad variable."""
    chunk_size = _integer(environ, env.CHUNK_SIZE, DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, 1_000_000)
    chunk_overlap = _integer(environ, env.CHUNK_OVERLAP, DEFAULT_CHUNK_OVERLAP, 0, 1_000_000)
    if chunk_overlap >= chunk_size:
        raise _problem(
            env.CHUNK_OVERLAP, str(chunk_overlap), f"must be < {env.CHUNK_SIZE} ({chunk_size})"
        )
    engine = environ.get(env.VECTOR_ENGINE, "").strip() or "pgvector"
    if engine not in ENGINES:
        raise _problem(env.VECTOR_ENGINE, engine, f"must be one of {', '.join(ENGINES)}")
    collection = environ.get(env.VECTOR_COLLECTION, "").strip() or DEFAULT_COLLECTION
    if not _IDENTIFIER.match(collection):
        raise _problem(
            env.VECTOR_COLLECTION, collection, "must be a lowercase SQL identifier (max 63)"
        )
    distance = environ.get(env.VECTOR_DISTANCE, "").strip() or DEFAULT_DISTANCE
    if distance not in DISTANCES:
        raise _problem(env.VECTOR_DISTANCE, distance, f"must be one of {', '.join(DISTANCES)}")
    settings = Settings(
        container=environ.get(env.DOCUMENTS_CONTAINER, "").strip() or DEFAULT_CONTAINER,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        embedder=environ.get(env.EMBEDDER, "").strip() or DEFAULT_EMBEDDER,
        engine=engine,
        collection=collection,
        dimensions=_integer(environ, env.VECTOR_DIMENSIONS, DEFAULT_DIMENSIONS, 1, MAX_DIMENSIONS),
        distance=distance,
    )
    if settings.engine == "pgvector":
        if settings.dimensions > MAX_PGVECTOR_DIMENSIONS:
            raise _problem(
                env.VECTOR_DIMENSIONS,
                str(settings.dimensions),
                f"must be <= {MAX_PGVECTOR_DIMENSIONS} with pgvector (HNSW's limit)",
            )
        return replace(settings, postgres=_postgres(environ))
    return replace(
        settings,
        qdrant_url=require(environ, env.QDRANT_URL),
        qdrant_api_key_file=environ.get(env.QDRANT_API_KEY_FILE, "").strip() or None,
    )
