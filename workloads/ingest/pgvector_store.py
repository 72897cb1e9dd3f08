"""pgvector: the collection table the platform's schema job creates.

:func:`components.vectordb.schema.schema_sql` makes ``public.<collection>(id text primary key,
content text, metadata jsonb, embedding vector(<dimensions>))`` with an HNSW index on
``embedding`` and a GIN ``jsonb_path_ops`` index on ``metadata``. Ingestion never creates or
alters it (its role owns it, but the schema is the platform's): it checks the table is there
with the configured dimensions and writes rows.

Replacing a document is one transaction: an advisory lock on the document (two jobs that picked
up the same blob queue instead of racing on primary keys), ``DELETE`` of its rows by
``metadata @> {"document": ...}`` (served by the GIN index), then ``COPY`` of the new rows in
binary, the fastest way into the table. Readers see the old chunks or the new, never none.

Sign-in: libpq's variables (host, port, database, user, sslmode) and the password from the file
the Secrets Store CSI driver mounts from Key Vault (``DB_PASSWORD_FILE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb

from workloads.ingest.embedders import Vectors
from workloads.ingest.settings import Postgres
from workloads.ingest.stores import ChunkRecord, RecordsRejectedError, StoreUnavailableError

CONNECT_TIMEOUT_S = 10
# One document's delete + copy (HNSW inserts included) takes well under a second; a statement
# held longer is waiting on a lock or a sick server.
STATEMENT_TIMEOUT_MS = 60_000
APPLICATION_NAME = "aks-mlops-ingest"
COLUMNS = ("id", "content", "metadata", "embedding")
COPY_TYPES = ("text", "text", "jsonb", "vector")


def read_password(path: str) -> str:
    """The mounted password (a trailing newline, if any, is not part of it)."""
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise StoreUnavailableError(
            f"cannot read the database password file {path}: {exc}"
        ) from exc


def connect(settings: Postgres) -> psycopg.Connection[Any]:
    """An autocommit connection with short timeouts and the ``vector`` type registered."""
    try:
        conn = psycopg.connect(
            host=settings.host,
            port=settings.port,
            dbname=settings.database,
            user=settings.user,
            password=read_password(settings.password_file),
            sslmode=settings.sslmode,
            connect_timeout=CONNECT_TIMEOUT_S,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            application_name=APPLICATION_NAME,
            autocommit=True,
        )
    except psycopg.Error as exc:
        raise StoreUnavailableError(
            f"cannot connect to PostgreSQL {settings.user}@{settings.host}:{settings.port}/"
            f"{settings.database}: {exc}"
        ) from exc
    try:
        register_vector(conn)
    except psycopg.Error as exc:
        conn.close()
        raise StoreUnavailableError(f"the vector extension is missing: {exc}") from exc
    return conn


class PgvectorStore:
    """Writes one collection table."""

    def __init__(self, conn: psycopg.Connection[Any], table: str, dimensions: int) -> None:
        self._conn = conn
        self._table = sql.Identifier("public", table)
        self._check(table, dimensions)
        self._delete = sql.SQL("DELETE FROM {} WHERE metadata @> %s").format(self._table)
        self._copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            self._table, sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        )
        self._lock_prefix = f"ingest:{table}:"

    def _check(self, table: str, dimensions: int) -> None:
        try:
            row = self._conn.execute(
                "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute AS a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attname = 'embedding' "
                "AND NOT a.attisdropped",
                (f"public.{table}",),
            ).fetchone()
        except psycopg.Error as exc:
            raise StoreUnavailableError(f"cannot inspect public.{table}: {exc}") from exc
        if row is None:
            raise StoreUnavailableError(
                f"table public.{table} (with an embedding column) does not exist: the "
                "platform's vector-store schema job creates it"
            )
        if row[0] != f"vector({dimensions})":
            raise StoreUnavailableError(
                f"public.{table}.embedding is {row[0]}, VECTOR_DIMENSIONS says {dimensions}"
            )

    def replace(self, document: str, records: Sequence[ChunkRecord], vectors: Vectors) -> None:
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (self._lock_prefix + document,),
                )
                cur.execute(self._delete, (Jsonb({"document": document}),))
                with cur.copy(self._copy) as copy:
                    copy.set_types(list(COPY_TYPES))
                    for record, vector in zip(records, vectors, strict=True):
                        copy.write_row((record.id, record.content, record.metadata, vector))
        except psycopg.DataError as exc:
            raise RecordsRejectedError(f"rows refused by PostgreSQL: {exc}") from exc
        except psycopg.Error as exc:
            raise StoreUnavailableError(f"writing to PostgreSQL failed: {exc}") from exc

    def close(self) -> None:
        self._conn.close()
