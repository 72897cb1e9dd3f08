"""The ingest workload end to end: Azurite documents in, pgvector rows out, nearest first.

The database is the local PostgreSQL dressed as the flexible server by the dev stack's roles
Job (``flexible_server``); the collection table is created by the platform's own schema SQL
(:func:`components.vectordb.schema.schema_sql`, the dev stack's collection, dimensions and
distance) signed in as ``vectors_app``, as the cluster's schema Job does. The workload then
runs as the cluster runs it, ``python -m workloads.ingest`` with only environment variables,
signed in as ``vectors_app`` with its password in a file (``DB_PASSWORD_FILE``); queries use
the platform's nearest-neighbour SQL (:func:`components.vectordb.schema.nearest_sql`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient
from clients import LIBPQ_ENV, blob_service
from db_roles_local import FlexibleServer, login, port_of
from pgvector.psycopg import register_vector
from qdrant_client import QdrantClient
from services import free_port

from components.vectordb.schema import nearest_sql, schema_sql
from tests.manifests.workload_inputs import stack_config
from tests.workloads.fakes import text_pdf
from workloads.common.metrics import Exporter
from workloads.common.storage import list_names
from workloads.ingest import run as ingest
from workloads.ingest.embedders import HashingEmbedder
from workloads.ingest.qdrant_store import QdrantStore
from workloads.ingest.settings import load

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VECTOR_DB = stack_config("dev").vector_db
TABLE = VECTOR_DB.collection
DOCUMENTS = {
    "gpu-pools.md": (
        "# GPU node pools\n\nEvery GPU pool carries the taint nvidia.com/gpu=present:NoSchedule "
        "so only pods that tolerate it land there. Pools scale from zero: the cluster "
        "autoscaler adds a node when a pod requests nvidia.com/gpu and removes it when idle. "
        "Spot pools cost less but nodes can be evicted at any time; jobs must checkpoint. "
    )
    * 3,
    "lake/retention.txt": (
        "The data lake keeps raw training batches under raw/, curated labelled data under "
        "curated/ and documents under documents/. Blob soft delete keeps deleted blobs for "
        "the retention period, and training snapshots are immutable copies. "
    )
    * 3,
}
PDF_LINES = [
    "Model registry and promotion.",
    "Every registered version is evaluated against the champion alias.",
    "The champion moves only when the challenger wins by the configured margin.",
]
BROKEN = {"broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog", "legacy.txt": b"caf\xe9 cr\xe8me"}


@pytest.fixture
def lake(azurite_connection_string: str) -> Iterator[ContainerClient]:
    """A fresh documents container in Azurite."""
    service: BlobServiceClient = blob_service(azurite_connection_string)
    container = service.create_container(f"documents-{uuid.uuid4().hex[:12]}")
    yield container
    container.delete_container()


@pytest.fixture
def vectors_db(flexible_server: FlexibleServer) -> Iterator[FlexibleServer]:
    """The ``vectors`` database with the dev stack's collection, created by the platform's SQL
    as ``vectors_app``; dropped afterwards."""
    server = flexible_server.server
    with login(server.dsn, "vectors_app", server.role_passwords["vectors"], "vectors") as conn:
        conn.execute(f"DROP TABLE IF EXISTS public.{TABLE}")
        conn.execute(
            schema_sql(table=TABLE, dimensions=VECTOR_DB.dimensions, distance=VECTOR_DB.distance)
        )
    yield flexible_server
    with login(server.dsn, "vectors_app", server.role_passwords["vectors"], "vectors") as conn:
        conn.execute(f"DROP TABLE IF EXISTS public.{TABLE}")


def _environ(
    lake: ContainerClient,
    db: FlexibleServer,
    tmp_path: Path,
    connection_string: str,
    *,
    password: str | None = None,
    port: str | None = None,
) -> dict[str, str]:
    """The variables the workflows component sets on the ingest Job (local endpoints)."""
    password_file = tmp_path / "db-password"
    password_file.write_text(db.server.role_passwords["vectors"] if password is None else password)
    return {
        "AZURE_STORAGE_CONNECTION_STRING": connection_string,
        "DOCUMENTS_CONTAINER": lake.container_name,
        "VECTOR_ENGINE": "pgvector",
        "VECTOR_COLLECTION": TABLE,
        "VECTOR_DIMENSIONS": str(VECTOR_DB.dimensions),
        "VECTOR_DISTANCE": VECTOR_DB.distance,
        "EMBEDDER": "hashing",
        "CHUNK_SIZE": "300",
        "CHUNK_OVERLAP": "60",
        "PGHOST": "127.0.0.1",
        "PGPORT": port or port_of(db.server.dsn),
        "PGDATABASE": "vectors",
        "PGUSER": "vectors_app",
        "PGSSLMODE": "disable",  # the local server has no TLS; Azure's requires it
        "DB_PASSWORD_FILE": str(password_file),
        "METRICS_PORT": "0",
    }


def _drop(lake: ContainerClient, blobs: dict[str, bytes]) -> None:
    for name, data in blobs.items():
        lake.upload_blob(f"incoming/{name}", data, overwrite=True)


def _good() -> dict[str, bytes]:
    return {**{k: v.encode() for k, v in DOCUMENTS.items()}, "registry.pdf": text_pdf(PDF_LINES)}


def _run_module(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m workloads.ingest`` with exactly ``environ`` (plus PATH and libpq's timeout)."""
    return subprocess.run(
        [sys.executable, "-m", "workloads.ingest"],
        cwd=ROOT,
        env={**environ, **LIBPQ_ENV, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _rows(db: FlexibleServer) -> list[tuple[Any, ...]]:
    server = db.server
    with login(server.dsn, "vectors_app", server.role_passwords["vectors"], "vectors") as conn:
        return conn.execute(
            f"SELECT id, metadata->>'document', content FROM public.{TABLE} ORDER BY id"
        ).fetchall()


def _nearest(db: FlexibleServer, text: str, k: int = 3) -> list[str]:
    """Ids of the ``k`` nearest chunks to ``text``, through the platform's query and index."""
    query = HashingEmbedder(VECTOR_DB.dimensions).embed_one(text)
    server = db.server
    with login(server.dsn, "vectors_app", server.role_passwords["vectors"], "vectors") as conn:
        register_vector(conn)
        conn.execute("SET enable_seqscan = off")
        sql = nearest_sql(table=TABLE, distance=VECTOR_DB.distance)
        plan = conn.execute("EXPLAIN " + sql, {"query": query, "k": k}).fetchall()
        assert any("hnsw" in row[0] for row in plan), plan
        return [row[0] for row in conn.execute(sql, {"query": query, "k": k}).fetchall()]


def test_ingest_module_writes_queryable_vectors_sets_malformed_aside_and_empties_incoming(
    lake: ContainerClient,
    vectors_db: FlexibleServer,
    tmp_path: Path,
    azurite_connection_string: str,
) -> None:
    _drop(lake, {**_good(), **BROKEN})
    today = datetime.now(UTC).date().isoformat()

    done = _run_module(_environ(lake, vectors_db, tmp_path, azurite_connection_string))
    rows = _rows(vectors_db)

    assert done.returncode == 0, done.stderr
    assert list(list_names(lake, "incoming/")) == []
    assert sorted(list_names(lake, "processed/")) == sorted(
        f"processed/{today}/{name}" for name in _good()
    )
    assert sorted(list_names(lake, "failed/")) == sorted(
        f"failed/{today}/{name}{suffix}" for name in BROKEN for suffix in ("", ".report.json")
    )
    assert {document for _, document, _ in rows} == set(_good())
    assert len({row_id for row_id, _, _ in rows}) == len(rows)
    assert sum(1 for _, document, _ in rows if document == "gpu-pools.md") > 1
    # Each chunk's own text finds that chunk first; a question finds its document first.
    for row_id, _, content in rows:
        assert _nearest(vectors_db, content)[0] == row_id
    assert _nearest(vectors_db, "which pods tolerate the nvidia.com/gpu taint")[0].startswith(
        "gpu-pools.md#"
    )
    assert _nearest(vectors_db, "when does the champion alias move")[0].startswith("registry.pdf#")
    assert _nearest(vectors_db, "soft delete retention of the data lake")[0].startswith(
        "lake/retention.txt#"
    )
    assert "set aside broken.pdf (stage read)" in done.stderr


def test_ingest_again_replaces_chunks_never_duplicates(
    lake: ContainerClient,
    vectors_db: FlexibleServer,
    tmp_path: Path,
    azurite_connection_string: str,
) -> None:
    environ = _environ(lake, vectors_db, tmp_path, azurite_connection_string)
    exporter = Exporter()
    _drop(lake, _good())
    assert ingest.main(environ, exporter) == 0
    first = _rows(vectors_db)

    _drop(lake, _good())
    assert ingest.main(environ, exporter) == 0
    second = _rows(vectors_db)

    _drop(lake, {"gpu-pools.md": b"GPU pools were retired."})
    assert ingest.main(environ, exporter) == 0
    third = _rows(vectors_db)

    assert second == first
    assert [r for r in third if r[1] == "gpu-pools.md"] == [
        ("gpu-pools.md#0", "gpu-pools.md", "GPU pools were retired.")
    ]
    assert [r for r in third if r[1] != "gpu-pools.md"] == [
        r for r in first if r[1] != "gpu-pools.md"
    ]
    sample = exporter.registry.get_sample_value
    assert sample("ingest_documents_total", {"prefix": lake.container_name}) == 7
    assert sample("ingest_waiting_blobs", {"prefix": lake.container_name}) == 0
    assert sample("ingest_last_success_timestamp_seconds", {"prefix": lake.container_name})


def test_ingest_exits_1_and_keeps_blobs_when_database_unreachable(
    lake: ContainerClient,
    vectors_db: FlexibleServer,
    tmp_path: Path,
    azurite_connection_string: str,
) -> None:
    _drop(lake, _good())
    closed = str(free_port())

    done = _run_module(_environ(lake, vectors_db, tmp_path, azurite_connection_string, port=closed))

    assert done.returncode == 1
    assert "cannot connect to PostgreSQL vectors_app@127.0.0.1" in done.stderr
    assert "3 blobs stay under incoming/" in done.stderr
    assert sorted(list_names(lake, "incoming/")) == sorted(f"incoming/{n}" for n in _good())
    assert list(list_names(lake, "failed/")) == []


def test_ingest_exits_1_when_password_wrong(
    lake: ContainerClient,
    vectors_db: FlexibleServer,
    tmp_path: Path,
    azurite_connection_string: str,
) -> None:
    _drop(lake, {"a.md": b"some text"})

    done = _run_module(
        _environ(lake, vectors_db, tmp_path, azurite_connection_string, password="wrong")
    )

    assert done.returncode == 1
    assert "password authentication failed" in done.stderr
    assert list(list_names(lake, "incoming/")) == ["incoming/a.md"]


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
def test_ingest_loop_writes_qdrant_collection_from_azurite(
    lake: ContainerClient, tmp_path: Path, azurite_connection_string: str
) -> None:
    settings = load(
        {
            "VECTOR_ENGINE": "qdrant",
            "QDRANT_URL": "http://unused:6333",
            "DOCUMENTS_CONTAINER": lake.container_name,
            "CHUNK_SIZE": "300",
            "CHUNK_OVERLAP": "60",
        }
    )
    client = QdrantClient(path=str(tmp_path / "qdrant"))
    store = QdrantStore(client, settings.collection, settings.dimensions, settings.distance)
    embedder = HashingEmbedder(settings.dimensions)
    exporter = Exporter()
    metrics = ingest.IngestMetrics.on(exporter, lake.container_name)

    def once() -> ingest.RunReport:
        return ingest.run(
            lake,
            store,
            embedder=embedder,
            settings=settings,
            metrics=metrics,
            names=list(list_names(lake, "incoming/")),
        )

    _drop(lake, {**_good(), **BROKEN})
    report = once()
    count = client.count(settings.collection).count
    _drop(lake, _good())
    again = once()

    assert report.failed == {"broken.pdf": "read", "legacy.txt": "read"}
    assert set(again.ingested) == set(_good())
    assert client.count(settings.collection).count == count == sum(report.ingested.values())
    hit = client.query_points(
        settings.collection,
        query=embedder.embed_one("which pods tolerate the nvidia.com/gpu taint").tolist(),
        limit=1,
    ).points[0]
    assert (hit.payload or {})["metadata"]["document"] == "gpu-pools.md"
    assert list(list_names(lake, "incoming/")) == []
    client.close()
