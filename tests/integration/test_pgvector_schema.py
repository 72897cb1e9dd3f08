"""The pgvector schema the VectorStore deploys, applied to a real PostgreSQL + pgvector.

The dev stack's schema job is taken as rendered (its ConfigMap SQL, command and environment)
and run for real with the local ``psql``, substituting only the endpoint (host, port,
database), TLS (the local server has none) and the paths of the mounted files. Then real
embeddings go in and come out nearest-first for each distance, through the HNSW index.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg import sql
from services import postgres_bin_dir

from components.vectordb.schema import index_name, nearest_sql, schema_sql
from offline.runner import OfflineRun
from tests.manifests.workload_inputs import (
    ADMIN_LOGIN,
    container,
    env_of,
    objects,
    one,
    render,
    stack_config,
)

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
PASSWORD = "p@ss:w/rd#%?&= é+"  # same as test_mlflow_server: one role, one password


def _vector(head: list[float]) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.array(head + [0.0] * (DIMENSIONS - len(head)), dtype=np.float32)


def _with_database(dsn: str, database: str) -> str:
    return dsn.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[str]:
    """A fresh database owned by the stack's admin login, which must sign in with a password."""
    name = f"vectors_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN_LOGIN,)).fetchone():
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(ADMIN_LOGIN), sql.Literal(PASSWORD)
                )
            )
        else:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(ADMIN_LOGIN), sql.Literal(PASSWORD)
                )
            )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ADMIN_LOGIN)
            )
        )
        # Flexible Server allow-lists `vector` for its admin; locally only a superuser may
        # create it, so the extension is created up front (the schema's CREATE is then a no-op).
        with psycopg.connect(_with_database(postgres_dsn, name), autocommit=True) as db:
            db.execute("CREATE EXTENSION vector")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])  # type: ignore[index]
        # First matching line wins: this login must present its password for this database.
        hba.write_text(f"host {name} {ADMIN_LOGIN} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        conn.execute("SELECT pg_reload_conf()")
    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def dev_job(run_components: Runner) -> tuple[list[str], dict[str, str], str]:
    """The dev stack's schema job: command, environment and the SQL of its ConfigMap."""
    run, _ = render(stack_config("dev"), "dev", run_components)
    (job,) = objects(run, "Job")
    psql = container(job, "psql")
    schema = one(run, "ConfigMap", job["metadata"]["name"])["data"]["schema.sql"]
    return psql["command"], env_of(psql), schema


def _run_job(
    job: tuple[list[str], dict[str, str], str],
    dsn: str,
    database: str,
    tmp: Path,
    password: str = PASSWORD,
) -> subprocess.CompletedProcess[str]:
    """The job's exact command and environment, with the endpoint and file paths local."""
    command, env, schema = job
    password_file, schema_file = tmp / "postgres-password", tmp / "schema.sql"
    password_file.write_text(password)
    schema_file.write_text(schema)
    port = dsn.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    local = {
        **env,
        "PGHOST": "127.0.0.1",
        "PGPORT": port,
        "PGDATABASE": database,
        "PGSSLMODE": "disable",  # the local server has no TLS; Azure's requires it
        "DB_PASSWORD_FILE": str(password_file),
        "SCHEMA_FILE": str(schema_file),
        "HOME": str(tmp),
        "PATH": f"{postgres_bin_dir()}:{os.environ['PATH']}",
    }
    return subprocess.run(
        command, env=local, capture_output=True, text=True, timeout=60, check=False
    )


def _catalog(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
            "WHERE attrelid = 'public.documents'::regclass AND attnum > 0 ORDER BY attnum"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents' ORDER BY 1"
        ).fetchall()
    return columns + indexes


def _insert_and_rank(dsn: str, distance: str) -> tuple[list[str], str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
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


def test_schema_job_applies_dev_schema_then_reapplies_unchanged(
    dev_job: tuple[list[str], dict[str, str], str],
    postgres_dsn: str,
    database: str,
    tmp_path: Path,
) -> None:
    dsn = _with_database(postgres_dsn, database)
    first = _run_job(dev_job, postgres_dsn, database, tmp_path)
    before = _catalog(dsn)
    second = _run_job(dev_job, postgres_dsn, database, tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert _catalog(dsn) == before
    assert ("embedding", "vector(384)", True) in before
    assert ("metadata", "jsonb", True) in before
    assert any(
        name == "documents_embedding_cosine_hnsw" and "vector_cosine_ops" in definition
        for name, definition in (row for row in before if len(row) == 2)
    )


def test_schema_job_fails_with_wrong_password_when_password_required(
    dev_job: tuple[list[str], dict[str, str], str],
    postgres_dsn: str,
    database: str,
    tmp_path: Path,
) -> None:
    right = _run_job(dev_job, postgres_dsn, database, tmp_path)
    wrong = _run_job(dev_job, postgres_dsn, database, tmp_path, password="wrong")

    assert right.returncode == 0, right.stderr
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr


@pytest.mark.parametrize("distance", sorted(EXPECTED))
def test_schema_ranks_nearest_first_through_hnsw_index_for_distance(
    postgres_dsn: str, database: str, distance: str
) -> None:
    dsn = _with_database(postgres_dsn, database)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance=distance))

    ranked, plan = _insert_and_rank(dsn, distance)

    assert ranked == EXPECTED[distance]
    assert index_name("documents", distance) in plan


def test_schema_swaps_index_when_distance_changes(postgres_dsn: str, database: str) -> None:
    dsn = _with_database(postgres_dsn, database)
    with psycopg.connect(dsn, autocommit=True) as conn:
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
    dsn = _with_database(postgres_dsn, database)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(schema_sql(table="documents", dimensions=DIMENSIONS, distance="cosine"))

        with pytest.raises(
            psycopg.errors.RaiseException, match=r"vector\(384\), the config says vector\(768\)"
        ):
            conn.execute(schema_sql(table="documents", dimensions=768, distance="cosine"))
