"""One ingestion run: every blob under ``incoming/`` into the vector store, then out of the way.

For each blob, oldest name first: read it, extract its text, chunk, embed, replace the
document's chunks in the store, move the blob to ``processed/<YYYY-MM-DD>/<name>`` (UTC date of
the run). The document id is the blob name under ``incoming/``: dropping a file of the same name
again re-ingests it and replaces its chunks.

Failures are of two kinds:

- **the document's** (undecodable bytes, a broken PDF, no text, an unsupported type, rows the
  database refuses): counted in ``ingest_failures_total{stage}``, the blob moved to
  ``failed/<date>/<name>`` beside a ``<name>.report.json`` saying why, and the run carries on;
- **systemic** (the data lake or the vector store unreachable, the table missing): the run stops,
  the blob stays under ``incoming/`` for the next run, and the process exits 1.

Settings problems exit 2 before anything is read. A run that only met document failures exits 0:
the job did its work, and the failures are in the metrics and the ``failed/`` reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient
from prometheus_client import Counter, Gauge

from contract import metrics as contract
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError, blob_service, list_names, move, read_bytes
from workloads.ingest import embedders, pgvector_store, qdrant_store
from workloads.ingest.documents import DocumentError, chunk, extract
from workloads.ingest.settings import Settings, load
from workloads.ingest.stores import (
    ChunkRecord,
    RecordsRejectedError,
    StoreUnavailableError,
    VectorStore,
)

INCOMING = "incoming/"
PROCESSED = "processed/"
FAILED = "failed/"
REPORT_SUFFIX = ".report.json"
EXIT_OK = 0
EXIT_SYSTEMIC = 1
EXIT_SETTINGS = 2
# A failure report keeps the start of the error: enough to act on, bounded in size.
MAX_ERROR_CHARS = 2000

log = logging.getLogger("workloads.ingest")


@dataclass
class IngestMetrics:
    """The contract's ingestion series, labelled with the container (``prefix``)."""

    prefix: str
    documents: Counter
    failures: Counter
    last_success: Gauge
    waiting: Gauge

    @classmethod
    def on(cls, exporter: Exporter, prefix: str) -> IngestMetrics:
        """The series in ``exporter``'s registry."""
        documents = exporter.metric(contract.INGEST_DOCUMENTS)
        failures = exporter.metric(contract.INGEST_FAILURES)
        last_success = exporter.metric(contract.INGEST_LAST_SUCCESS)
        waiting = exporter.metric(contract.INGEST_WAITING_BLOBS)
        if not (
            isinstance(documents, Counter)
            and isinstance(failures, Counter)
            and isinstance(last_success, Gauge)
            and isinstance(waiting, Gauge)
        ):
            raise TypeError("the metrics contract changed the ingestion series' types")
        return cls(prefix, documents, failures, last_success, waiting)

    def failed(self, stage: str) -> None:
        self.failures.labels(prefix=self.prefix, stage=stage).inc()


@dataclass
class RunReport:
    """What one run did."""

    ingested: dict[str, int] = field(default_factory=dict)
    """Document -> number of chunks written."""
    failed: dict[str, str] = field(default_factory=dict)
    """Document -> stage that refused it (moved to ``failed/``)."""
    skipped: list[str] = field(default_factory=list)
    """Blobs another run took between listing and reading."""
    error: str | None = None
    """The systemic failure that stopped the run, if any."""


@dataclass(frozen=True)
class _Job:
    container: ContainerClient
    store: VectorStore
    embedder: embedders.Embedder
    settings: Settings
    day: str


def _report_blob(job: _Job, document: str, stage: str, error: str, data: bytes | None) -> bytes:
    report = {
        "document": document,
        "source": f"{job.settings.container}/{INCOMING}{document}",
        "stage": stage,
        "error": error[:MAX_ERROR_CHARS],
        "failed_at": datetime.now(UTC).isoformat(),
        "bytes": None if data is None else len(data),
        "sha256": None if data is None else hashlib.sha256(data).hexdigest(),
    }
    return (json.dumps(report, indent=2) + "\n").encode()


def _set_aside(job: _Job, name: str, document: str, err: DocumentError, data: bytes) -> None:
    target = f"{FAILED}{job.day}/{document}"
    report = _report_blob(job, document, err.stage, str(err), data)
    job.container.upload_blob(target + REPORT_SUFFIX, report, overwrite=True)
    move(job.container, name, target)


def _records(
    job: _Job, document: str, pieces: list[str], kind: str, data: bytes
) -> list[ChunkRecord]:
    source = f"{job.settings.container}/{PROCESSED}{job.day}/{document}"
    digest = hashlib.sha256(data).hexdigest()
    ingested_at = datetime.now(UTC).isoformat()
    return [
        ChunkRecord(
            id=f"{document}#{index}",
            content=piece,
            metadata={
                "document": document,
                "chunk": index,
                "chunks": len(pieces),
                "source": source,
                "content_type": kind,
                "sha256": digest,
                "embedder": job.embedder.name,
                "ingested_at": ingested_at,
            },
        )
        for index, piece in enumerate(pieces)
    ]


def _ingest_one(job: _Job, name: str, document: str, data: bytes) -> int:
    """Write one document's chunks and move its blob; the number of chunks."""
    extracted = extract(document, data)
    pieces = chunk(extracted.text, job.settings.chunk_size, job.settings.chunk_overlap)
    try:
        vectors = job.embedder.embed(pieces)
    except (ValueError, RuntimeError) as exc:
        raise DocumentError("embed", f"{type(exc).__name__}: {exc}") from exc
    records = _records(job, document, pieces, extracted.content_type, data)
    try:
        job.store.replace(document, records, vectors)
    except RecordsRejectedError as exc:
        raise DocumentError("write", str(exc)) from exc
    move(job.container, name, f"{PROCESSED}{job.day}/{document}")
    return len(records)


def run(
    container: ContainerClient,
    store: VectorStore,
    *,
    embedder: embedders.Embedder,
    settings: Settings,
    metrics: IngestMetrics,
    names: list[str],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunReport:
    """Ingest the blobs ``names`` (listed under ``incoming/``)."""
    job = _Job(container, store, embedder, settings, clock().date().isoformat())
    report = RunReport()
    waiting = metrics.waiting.labels(prefix=metrics.prefix)
    waiting.set(len(names))
    for name in names:
        document = name.removeprefix(INCOMING)
        try:
            data = read_bytes(container, name)
        except ResourceNotFoundError:
            log.info("skipped %s: another run took it", document)
            report.skipped.append(document)
            waiting.dec()
            continue
        except AzureError as exc:
            report.error = f"reading {name} from the data lake failed: {exc}"
            break
        try:
            report.ingested[document] = _ingest_one(job, name, document, data)
            metrics.documents.labels(prefix=metrics.prefix).inc()
            log.info("ingested %s: %d chunks", document, report.ingested[document])
        except DocumentError as err:
            metrics.failed(err.stage)
            report.failed[document] = err.stage
            log.warning("set aside %s (stage %s): %s", document, err.stage, err)
            try:
                _set_aside(job, name, document, err, data)
            except AzureError as exc:
                report.error = f"moving {name} to {FAILED} failed: {exc}"
                break
        except StoreUnavailableError as exc:
            metrics.failed("write")
            report.error = str(exc)
            break
        except AzureError as exc:
            report.error = f"moving {name} to {PROCESSED} failed: {exc}"
            break
        waiting.dec()
    if report.error is None and not report.failed:
        metrics.last_success.labels(prefix=metrics.prefix).set(time.time())
    return report


def open_store(settings: Settings) -> VectorStore:
    """The configured vector store, checked usable (:class:`StoreUnavailableError` if not)."""
    if settings.postgres is not None:
        conn = pgvector_store.connect(settings.postgres)
        try:
            return pgvector_store.PgvectorStore(conn, settings.collection, settings.dimensions)
        except StoreUnavailableError:
            conn.close()
            raise
    if settings.qdrant_url is None:
        raise StoreUnavailableError("no vector store configured")
    client = qdrant_store.connect(settings.qdrant_url, settings.qdrant_api_key_file)
    try:
        return qdrant_store.QdrantStore(
            client, settings.collection, settings.dimensions, settings.distance
        )
    except StoreUnavailableError:
        client.close()
        raise


def main(environ: Mapping[str, str] | None = None, exporter: Exporter | None = None) -> int:
    """Run once with the settings in ``environ``; the process exit code."""
    environ = os.environ if environ is None else environ
    try:
        settings = load(environ)
        embedder = embedders.build(settings.embedder, settings.dimensions)
    except (SettingsError, embedders.EmbedderUnavailableError) as exc:
        log.error("%s", exc)
        return EXIT_SETTINGS
    exporter = Exporter() if exporter is None else exporter
    port = exporter.serve(environ)
    metrics = IngestMetrics.on(exporter, settings.container)
    log.info("metrics on :%d; embedder %s; store %s", port, embedder.name, settings.engine)
    try:
        container = blob_service(environ).get_container_client(settings.container)
        names = list(list_names(container, INCOMING))
    except (AzureError, SettingsError) as exc:
        log.error("cannot list %s/%s: %s", settings.container, INCOMING, exc)
        return EXIT_SYSTEMIC
    metrics.waiting.labels(prefix=settings.container).set(len(names))
    try:
        store = open_store(settings)
    except StoreUnavailableError as exc:
        log.error("%s; %d blobs stay under %s", exc, len(names), INCOMING)
        return EXIT_SYSTEMIC
    try:
        report = run(
            container,
            store,
            embedder=embedder,
            settings=settings,
            metrics=metrics,
            names=names,
        )
    finally:
        store.close()
    log.info(
        "done: %d ingested, %d set aside, %d skipped",
        len(report.ingested),
        len(report.failed),
        len(report.skipped),
    )
    if report.error is not None:
        log.error("stopped: %s", report.error)
        return EXIT_SYSTEMIC
    return EXIT_OK
