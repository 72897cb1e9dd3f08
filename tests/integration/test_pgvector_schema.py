"""The pgvector schema the VectorStore deploys, applied to a real PostgreSQL + pgvector.

The dev stack's schema job is taken as rendered (its ConfigMap SQL, command and environment)
and run for real with the local ``psql`` against the ``vectors`` database the dev stack's roles
Job prepared (``flexible_server``), signed in as the vector store's own role; only the endpoint
(host, port), TLS (the local server has none) and the paths of the mounted files are
substituted. Then real
embeddings go in and come out nearest-first for each distance, through the HNSW index.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from db_roles_local import (
    FlexibleServer,
    RenderedJob,
    connect,
    dev_workloads,
    rendered_job,
    run_job,
    with_database,
)
from pgvector.psycopg import register_vector
from psycopg import sql

from components.vectordb.schema import index_name, nearest_sql, schema_sql
from offline.runner import OfflineRun

pytestmark = pytest.mark.integration

Runner = Callable[[Callable[[], object]], OfflineRun]
DIMENSIONS = 384
# Three documents whose nearest-first order differs for each distance, from query e0:
#   cosine: near (same direction), far (same direction, longer), tilted, opposite
#   l2:     near, tilted (0.63), opposite (2.0), far (2.02)
#   ip:     far (-3), near (-1), tilted (-0.8), opposite (+1)
DOCS = {"near": [1.0, 0.0], "far": [3.0, 0.3], "tilted": [0.8, 0.6], "opposite": [-1.0, 0.0]}
EXPECTED = {
    "cosine": ["near", "far", "tilted", "opposite"],
    "l2": ["near", "tilted", "opposite", "far"],
    "inner_product": ["far", "near", "tilted", "opposite"],
}


def _vector(head: list[float]) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.array(head + [0.0] * (DIMENSIONS - len(head)), dtype=np.float32)


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[str]:
    """A fresh database with pgvector, for the SQL-level tests (run as the local superuser)."""
    name = f"vectors_{uuid.uuid4().hex[:10]}"
    with connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with connect(with_database(postgres_dsn, name), autocommit=True) as db:
        db.execute("CREATE EXTENSION vector")
    yield name
    with connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def schema_job() -> RenderedJob:
    """The dev stack's schema job: command, environment and the SQL of its ConfigMap."""
    return rendered_job(dev_workloads(), "vector-store", "schema.sql")


@pytest.fixture
def vectors(flexible_server: FlexibleServer) -> Iterator[FlexibleServer]:
    """The ``vectors`` database as the roles Job left it, without a collection table."""
    dsn = with_database(flexible_server.server.dsn, "vectors")
    with connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.documents")
    yield flexible_server
    with connect(dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS public.documents")


def _run_schema_job(
    job: RenderedJob, local: FlexibleServer, tmp: Path, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The job's exact command and environment as the vector store's role, endpoint local."""
    secret = local.server.role_passwords["vectors"] if password is None else password
    return run_job(job, local.server, tmp, password=secret, script_env="SCHEMA_FILE")


def _catalog(dsn: str) -> list[tuple[Any, ...]]:
    with connect(dsn) as conn:
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = 'public.documents'::regclass AND attnum > 0 ORDER BY attnum"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents' ORDER BY 1"
        ).fetchall()
    return columns + indexes


def _insert_and_rank(dsn: str, distance: str) -> tuple[list[str], str]:
    with connect(dsn, autocommit=True) as conn:
        register_vector(conn)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO documents (id, content, metadata, embedding) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding",
                [
                    (k, f"doc {k}", psycopg.types.json.Jsonb({"k": k}), _vector(v))
                    for k, v in DOCS.items()
                ],
            )
        query = nearest_sql(table="documents", distance=distance)
        params = {"query": _vector([1.0, 0.0]), "k": len(DOCS)}
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + query, params).fetchall())
        ranked = [row[0] for row in conn.execute(query, params).fetchall()]
    return ranked, plan


def test_schema_job_applies_dev_schema_as_vectors_role_then_reapplies_unchanged(
    schema_job: RenderedJob, vectors: FlexibleServer, tmp_path: Path
) -> None:
    dsn = with_database(vectors.server.dsn, "vectors")
    first = _run_schema_job(schema_job, vectors, tmp_path / "first")
    before = _catalog(dsn)
    second = _run_schema_job(schema_job, vectors, tmp_path / "second")
    with connect(dsn) as conn:
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'documents'"
        ).fetchone()

    assert schema_job.env["PGUSER"] == "vectors_app"
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert _catalog(dsn) == before
    assert owner == ("vectors_app",)
    assert ("embedding", "vector(384)", True) in before
    assert ("metadata", "jsonb", True) in before
    assert any(
        name == "documents_embedding_cosine_hnsw" and "vector_cosine_ops" in definition
        for name, definition in (row for row in before if len(row) == 2)
    )


def test_schema_job_fails_with_wrong_password_when_password_required(
    schema_job: RenderedJob, vectors: FlexibleServer, tmp_path: Path
) -> None:
    right = _run_schema_job(schema_job, vectors, tmp_path / "right")
    wrong = _run_schema_job(schema_job, vectors, tmp_path / "wrong", password="wrong")

    assert right.returncode == 0, right.stderr
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr


@pytest.mark.parametrize("distance", sorted(EXPECTED))
def test_schema_ranks_nearest_first_through_hnsw_index_for_distance(
    postgres_dsn: str, database: str, distance: str
) -> None:
    dsn = with_database(postgres_dsn, database)
    with connect(dsn, autocommit=True) as conn:
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance=distance))

    ranked, plan = _insert_and_rank(dsn, distance)

    assert ranked == EXPECTED[distance]
    assert index_name("documents", distance) in plan


def test_schema_swaps_index_when_distance_changes(postgres_dsn: str, database: str) -> None:
    dsn = with_database(postgres_dsn, database)
    with connect(dsn, autocommit=True) as conn:
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance="cosine"))
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance="l2"))
        names = {
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'documents'")
        }

    assert index_name("documents", "l2") in names
    assert index_name("documents", "cosine") not in names
    assert _insert_and_rank(dsn, "l2")[0] == EXPECTED["l2"]


def test_schema_refuses_other_dimensions_when_table_exists(
    postgres_dsn: str, database: str
) -> None:
    dsn = with_database(postgres_dsn, database)
    with connect(dsn, autocommit=True) as conn:
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance="cosine"))

        with pytest.raises(
            psycopg.errors.RaiseException, match=r"vector\(384\), the config says vector\(768\)"
        ):
            conn.execute(schema_sql(table="documents", dimensions=768, distance="cosine"))
