"""The ingest loop on an in-memory container and Qdrant's local mode (no services).

The same loop runs against Azurite and PostgreSQL + pgvector in
tests/integration/test_ingest_e2e.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
from qdrant_client import QdrantClient

from tests.workloads.fakes import FakeContainer, text_pdf
from workloads.common.metrics import Exporter
from workloads.ingest.embedders import HashingEmbedder, Vectors
from workloads.ingest.qdrant_store import QdrantStore
from workloads.ingest.run import EXIT_SETTINGS, IngestMetrics, RunReport, main, run
from workloads.ingest.settings import load
from workloads.ingest.stores import ChunkRecord, RecordsRejectedError, StoreUnavailableError

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect")

DAY = datetime(2026, 11, 27, 23, 59, tzinfo=UTC)
SETTINGS = load(
    {
        "VECTOR_ENGINE": "qdrant",
        "QDRANT_URL": "http://unused:6333",
        "CHUNK_SIZE": "120",
        "CHUNK_OVERLAP": "30",
        "VECTOR_DIMENSIONS": "256",
    }
)
GUIDE = (
    b"GPU node pools scale from zero. The autoscaler adds a node when a pod requests "
    b"nvidia.com/gpu and removes it when the pool is idle. Spot pools are cheaper but evicted."
)
BROKEN_PDF = b"%PDF-1.7\n1 0 obj <<"
NOTES = b"The data lake keeps raw batches, curated data and documents in separate containers."


class Harness:
    """One container, one Qdrant collection, one exporter; run() as the job would."""

    def __init__(self) -> None:
        self.container = FakeContainer()
        self.client = QdrantClient(":memory:")
        self.store = QdrantStore(self.client, "documents", 256, "cosine")
        self.embedder = HashingEmbedder(256)
        self.exporter = Exporter()
        self.metrics = IngestMetrics.on(self.exporter, "documents")

    def drop(self, **blobs: bytes) -> None:
        for name, data in blobs.items():
            self.container.blobs[f"incoming/{name.replace('__', '/')}"] = data

    def run(self, store: object | None = None) -> RunReport:
        names = sorted(self.container.under("incoming/"))
        return run(
            self.container,  # type: ignore[arg-type]
            store or self.store,  # type: ignore[arg-type]
            embedder=self.embedder,
            settings=SETTINGS,
            metrics=self.metrics,
            names=names,
            clock=lambda: DAY,
        )

    def sample(self, name: str, **labels: str) -> float | None:
        return self.exporter.registry.get_sample_value(name, {"prefix": "documents", **labels})

    def chunk_ids(self) -> list[str]:
        points, _ = self.client.scroll("documents", limit=1000)
        return sorted(str((p.payload or {})["chunk_id"]) for p in points)

    def nearest(self, text: str) -> str:
        hits = self.client.query_points(
            "documents", query=self.embedder.embed_one(text).tolist(), limit=1
        ).points
        return str((hits[0].payload or {})["chunk_id"])


@pytest.fixture
def harness() -> Harness:
    return Harness()


def test_run_ingests_every_document_and_empties_incoming(harness: Harness) -> None:
    harness.drop(
        **{
            "guide.md": GUIDE,
            "team__notes.txt": NOTES,
            "slides.pdf": text_pdf(["Model registry aliases", "champion and challenger"]),
        }
    )

    report = harness.run()

    assert report.error is None
    assert report.failed == {}
    assert set(report.ingested) == {"guide.md", "team/notes.txt", "slides.pdf"}
    assert harness.container.under("incoming/") == {}
    assert set(harness.container.under("processed/")) == {
        "processed/2026-11-27/guide.md",
        "processed/2026-11-27/team/notes.txt",
        "processed/2026-11-27/slides.pdf",
    }
    assert harness.container.blobs["processed/2026-11-27/guide.md"] == GUIDE
    assert len(harness.chunk_ids()) == sum(report.ingested.values())
    assert report.ingested["guide.md"] > 1
    assert harness.nearest("autoscaler adds a node for nvidia.com/gpu").startswith("guide.md#")
    assert harness.nearest("champion challenger aliases") == "slides.pdf#0"
    assert harness.sample("ingest_documents_total") == 3
    assert harness.sample("ingest_waiting_blobs") == 0
    assert harness.sample("ingest_last_success_timestamp_seconds") is not None


def test_run_replaces_chunks_when_document_ingested_again(harness: Harness) -> None:
    harness.drop(**{"guide.md": GUIDE})
    harness.run()
    first = harness.chunk_ids()
    harness.drop(**{"guide.md": GUIDE})
    harness.run()
    again = harness.chunk_ids()
    harness.drop(**{"guide.md": b"A much shorter guide."})
    harness.run()

    assert len(first) > 1
    assert again == first
    assert harness.chunk_ids() == ["guide.md#0"]
    assert harness.nearest("shorter guide") == "guide.md#0"


def test_run_sets_malformed_document_aside_with_report_and_carries_on(harness: Harness) -> None:
    harness.drop(
        **{
            "a-good.md": GUIDE,
            "b-broken.pdf": BROKEN_PDF,
            "c-latin1.txt": "d\xe9j\xe0".encode("latin-1"),
            "d-good.txt": NOTES,
        }
    )

    report = harness.run()

    assert report.error is None
    assert set(report.ingested) == {"a-good.md", "d-good.txt"}
    assert report.failed == {"b-broken.pdf": "read", "c-latin1.txt": "read"}
    assert harness.container.under("incoming/") == {}
    assert harness.container.blobs["failed/2026-11-27/b-broken.pdf"] == BROKEN_PDF
    report_blob = json.loads(harness.container.blobs["failed/2026-11-27/b-broken.pdf.report.json"])
    assert report_blob["stage"] == "read"
    assert report_blob["source"] == "documents/incoming/b-broken.pdf"
    assert "not a readable PDF" in report_blob["error"]
    assert report_blob["bytes"] == len(BROKEN_PDF)
    assert report_blob["sha256"] == hashlib.sha256(BROKEN_PDF).hexdigest()
    assert {c.split("#")[0] for c in harness.chunk_ids()} == {"a-good.md", "d-good.txt"}
    assert harness.sample("ingest_failures_total", stage="read") == 2
    assert harness.sample("ingest_documents_total") == 2
    # A run with failures is not a success.
    assert harness.sample("ingest_last_success_timestamp_seconds") is None


def test_run_counts_unsupported_and_empty_documents_as_validate(harness: Harness) -> None:
    harness.drop(**{"photo.png": b"\x89PNG", "blank.md": b"\n\n"})

    report = harness.run()

    assert report.failed == {"photo.png": "validate", "blank.md": "validate"}
    assert harness.sample("ingest_failures_total", stage="validate") == 2
    assert "failed/2026-11-27/photo.png.report.json" in harness.container.blobs


class _Broken:
    """A store whose replace raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def replace(self, document: str, records: Sequence[ChunkRecord], vectors: Vectors) -> None:
        self.calls += 1
        raise self.error

    def close(self) -> None:
        pass


def test_run_stops_and_leaves_blobs_when_store_unavailable(harness: Harness) -> None:
    harness.drop(**{"a.md": GUIDE, "b.md": NOTES})
    store = _Broken(StoreUnavailableError("connection refused"))

    report = harness.run(store)

    assert report.error == "connection refused"
    assert store.calls == 1  # the run stopped at the first systemic failure
    assert sorted(harness.container.under("incoming/")) == ["incoming/a.md", "incoming/b.md"]
    assert harness.container.under("failed/") == {}
    assert harness.sample("ingest_failures_total", stage="write") == 1
    assert harness.sample("ingest_waiting_blobs") == 2
    assert harness.sample("ingest_last_success_timestamp_seconds") is None


def test_run_sets_document_aside_when_store_rejects_its_rows(harness: Harness) -> None:
    harness.drop(**{"a.md": GUIDE})

    report = harness.run(_Broken(RecordsRejectedError("invalid byte sequence")))

    assert report.error is None
    assert report.failed == {"a.md": "write"}
    assert "failed/2026-11-27/a.md" in harness.container.blobs


def test_run_counts_embed_stage_when_embedder_fails(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(texts: Sequence[str]) -> Vectors:
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(harness.embedder, "embed", boom)
    harness.drop(**{"a.md": GUIDE})

    report = harness.run()

    assert report.failed == {"a.md": "embed"}
    assert harness.sample("ingest_failures_total", stage="embed") == 1


def test_run_stops_when_data_lake_unwritable(harness: Harness) -> None:
    harness.drop(**{"a.md": GUIDE})
    harness.container.broken_uploads = True

    report = harness.run()

    assert report.error is not None
    assert "moving incoming/a.md to processed/" in report.error
    assert "incoming/a.md" in harness.container.blobs
    assert report.ingested == {}


def test_run_skips_blob_taken_by_another_run(harness: Harness) -> None:
    harness.drop(**{"a.md": GUIDE, "b.md": NOTES})
    names = sorted(harness.container.under("incoming/"))
    del harness.container.blobs["incoming/a.md"]  # moved by a parallel job after listing

    report = run(
        harness.container,  # type: ignore[arg-type]
        harness.store,
        embedder=harness.embedder,
        settings=SETTINGS,
        metrics=harness.metrics,
        names=names,
        clock=lambda: DAY,
    )

    assert report.skipped == ["a.md"]
    assert set(report.ingested) == {"b.md"}
    assert harness.sample("ingest_waiting_blobs") == 0


def test_run_writes_chunk_metadata_naming_document_source_and_embedder(harness: Harness) -> None:
    harness.drop(**{"guide.md": GUIDE})
    harness.run()

    points, _ = harness.client.scroll("documents", limit=100, with_vectors=True)
    first = min(points, key=lambda p: (p.payload or {})["metadata"]["chunk"])
    payload = first.payload or {}

    assert payload["chunk_id"] == "guide.md#0"
    assert payload["metadata"]["document"] == "guide.md"
    assert payload["metadata"]["source"] == "documents/processed/2026-11-27/guide.md"
    assert payload["metadata"]["content_type"] == "text/markdown"
    assert payload["metadata"]["embedder"] == "hashing-256"
    assert payload["metadata"]["chunks"] == len(points)
    assert GUIDE.decode().startswith(payload["content"])
    vector = np.array(first.vector, dtype=np.float32)
    assert np.allclose(vector, harness.embedder.embed_one(payload["content"]), atol=1e-6)


def test_main_exits_2_naming_variable_when_settings_bad(caplog: pytest.LogCaptureFixture) -> None:
    code = main({"CHUNK_SIZE": "100", "CHUNK_OVERLAP": "100"})

    assert code == EXIT_SETTINGS
    assert "CHUNK_OVERLAP ('100') must be < CHUNK_SIZE (100)" in caplog.text


def test_main_exits_2_when_sentence_transformers_missing(caplog: pytest.LogCaptureFixture) -> None:
    code = main(
        {
            "EMBEDDER": "sentence-transformers:all-MiniLM-L6-v2",
            "VECTOR_ENGINE": "qdrant",
            "QDRANT_URL": "http://q:6333",
        }
    )

    assert code == EXIT_SETTINGS
    assert "needs the 'sentence-transformers' package" in caplog.text
