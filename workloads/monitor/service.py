"""The monitor: every interval, score the champion on recent labelled data and test drift.

Settings (names in :mod:`contract.workloads`): ``MODEL_NAME`` and ``MLFLOW_TRACKING_URI``
(required), ``RAW_CONTAINER`` (``raw``), ``CURATED_CONTAINER`` (``curated``),
``DOCUMENTS_CONTAINER`` (unset: documents are not counted), ``MONITOR_INTERVAL_SECONDS``
(300), ``METRICS_PORT`` (9100).

Each round (:meth:`Monitor.run_once`):

1. counts the blobs waiting under ``incoming/`` of the raw container (and of the documents
   container when set) -> ``ingest_waiting_blobs{prefix="raw"|"documents"}``;
2. asks MLflow for the version behind ``champion`` and loads it (cached per version);
3. reads the **most recent labelled data**: the newest blob (last modified) under
   ``labelled/`` of the curated container (:data:`RECENT_PREFIX`; CSV or Parquet with the
   dataset's schema, label included), validated like a training batch;
4. scores the champion on it (ROC AUC) -> ``model_quality_score_ratio{alias="champion"}``;
5. reads the champion's training snapshot (the run's ``snapshot`` tag, under the raw
   container) and runs the drift test of :mod:`workloads.monitor.drift` ->
   ``data_drift_share_ratio``;
6. reports when the newest version was registered ->
   ``retrain_last_success_timestamp_seconds`` (a retrain Job exports it only while it runs;
   the monitor keeps the series alive for the stale-retrain alert).

A step that fails (malformed or missing data, MLflow or storage unreachable) is logged and
leaves its series at their last value; the other steps and the next rounds carry on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
from azure.storage.blob import BlobServiceClient, ContainerClient
from mlflow.tracking import MlflowClient

from contract import metrics as m
from contract import workloads as env
from contract.queries import CHAMPION_ALIAS
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError, read_bytes, require
from workloads.data.schema import DATA_SUFFIXES, read_table, validate
from workloads.monitor.drift import drift
from workloads.retrain import model as reference
from workloads.retrain.batch import INCOMING, read_snapshot
from workloads.retrain.registry import SNAPSHOT_TAG

RECENT_PREFIX = "labelled/"
"""Where recent labelled data lands in the curated container."""
DEFAULT_INTERVAL_SECONDS = 300.0
_MS = 1000.0

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What the monitor needs to know."""

    model_name: str
    tracking_uri: str
    raw_container: str = "raw"
    curated_container: str = "curated"
    documents_container: str | None = None
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        text = environ.get(env.MONITOR_INTERVAL_SECONDS, "").strip()
        try:
            interval = float(text) if text else DEFAULT_INTERVAL_SECONDS
        except ValueError as exc:
            raise SettingsError(f"{env.MONITOR_INTERVAL_SECONDS} ({text}): {exc}") from exc
        if interval <= 0:
            raise SettingsError(f"{env.MONITOR_INTERVAL_SECONDS} ({text}) must be > 0")
        return cls(
            model_name=require(environ, env.MODEL_NAME),
            tracking_uri=require(environ, env.MLFLOW_TRACKING_URI),
            raw_container=environ.get(env.RAW_CONTAINER, "").strip() or "raw",
            curated_container=environ.get(env.CURATED_CONTAINER, "").strip() or "curated",
            documents_container=environ.get(env.DOCUMENTS_CONTAINER, "").strip() or None,
            interval_seconds=interval,
        )


@dataclass
class Observation:
    """What one round saw (for logs and tests)."""

    waiting: dict[str, int] = field(default_factory=dict)
    champion_version: str | None = None
    recent_blob: str | None = None
    quality: float | None = None
    drift_share: float | None = None
    drifted: tuple[str, ...] = ()
    last_registered: float | None = None
    problems: list[str] = field(default_factory=list)


def _count_incoming(container: ContainerClient) -> int:
    return sum(
        1
        for blob in container.list_blobs(name_starts_with=INCOMING, include=["metadata"])
        if (blob.metadata or {}).get("hdi_isfolder") != "true"
    )


def newest_data_blob(container: ContainerClient, prefix: str = RECENT_PREFIX) -> str | None:
    """Name of the most recently modified data file under ``prefix`` (None when empty)."""
    newest: tuple[Any, str] | None = None
    for blob in container.list_blobs(name_starts_with=prefix, include=["metadata"]):
        if (blob.metadata or {}).get("hdi_isfolder") == "true":
            continue
        if not blob.name.lower().endswith(DATA_SUFFIXES):
            continue
        key = (blob.last_modified, blob.name)
        if newest is None or key > newest:
            newest = key
    return None if newest is None else newest[1]


class Monitor:
    """One model's monitor; :meth:`run_once` is a round, :meth:`run_forever` the service."""

    def __init__(self, settings: Settings, service: BlobServiceClient, exporter: Exporter) -> None:
        self.settings = settings
        self.exporter = exporter
        self._service = service
        self._raw = service.get_container_client(settings.raw_container)
        self._curated = service.get_container_client(settings.curated_container)
        # Model loading (models:/ URIs) goes through the global tracking URI.
        mlflow.set_tracking_uri(settings.tracking_uri)
        # The registry is the same server: never a registry URI set earlier in the process.
        mlflow.set_registry_uri(settings.tracking_uri)
        self._client = MlflowClient(tracking_uri=settings.tracking_uri)
        self._models: dict[str, Any] = {}
        self._snapshots: dict[str, pd.DataFrame] = {}

    # --- steps -------------------------------------------------------------------------------
    def _waiting(self, seen: Observation) -> None:
        containers = {"raw": self.settings.raw_container}
        if self.settings.documents_container:
            containers["documents"] = self.settings.documents_container
        gauge = self.exporter.gauge(m.INGEST_WAITING_BLOBS)
        for prefix, name in containers.items():
            count = _count_incoming(self._service.get_container_client(name))
            gauge.labels(prefix=prefix).set(count)
            seen.waiting[prefix] = count

    def _last_registered(self, seen: Observation) -> None:
        versions = self._client.search_model_versions(
            f"name = '{self.settings.model_name}'",
            max_results=1,
            order_by=["creation_timestamp DESC"],
        )
        if versions:
            seen.last_registered = versions[0].creation_timestamp / _MS
            gauge = self.exporter.gauge(m.RETRAIN_LAST_SUCCESS)
            gauge.labels(model=self.settings.model_name).set(seen.last_registered)

    def _champion(self, version: str) -> Any:
        if version not in self._models:
            uri = f"models:/{self.settings.model_name}/{version}"
            self._models = {version: mlflow.sklearn.load_model(uri)}  # keep one
        return self._models[version]

    def _training_rows(self, version: str, run_id: str) -> pd.DataFrame:
        if version not in self._snapshots:
            prefix = self._client.get_run(run_id).data.tags.get(SNAPSHOT_TAG)
            if not prefix:
                raise LookupError(f"run {run_id} of version {version} has no {SNAPSHOT_TAG} tag")
            self._snapshots = {version: read_snapshot(self._raw, prefix)}
        return self._snapshots[version]

    def _recent(self, seen: Observation) -> pd.DataFrame | None:
        name = newest_data_blob(self._curated)
        seen.recent_blob = name
        if name is None:
            seen.problems.append(f"no labelled data under {self.settings.curated_container}/"
                                 f"{RECENT_PREFIX}")  # fmt: skip
            return None
        validation = validate(read_table(name, read_bytes(self._curated, name)))
        if validation.frame is None:
            first = validation.problems[0]
            seen.problems.append(
                f"{self.settings.curated_container}/{name} is malformed "
                f"({len(validation.problems)} problem(s), first: {first.column} {first.check})"
            )
        return validation.frame

    # --- a round -----------------------------------------------------------------------------
    def _step(self, seen: Observation, what: str, step: Any, *args: Any) -> Any:
        try:
            return step(*args)
        except Exception as exc:  # a broken step must not stop the others or the loop
            seen.problems.append(f"{what}: {type(exc).__name__}: {exc}")
            return None

    def run_once(self) -> Observation:
        """One round; never raises (problems are in the result and in the log)."""
        seen = Observation()
        name = self.settings.model_name
        self._step(seen, "counting waiting blobs", self._waiting, seen)
        self._step(seen, "reading the registry", self._last_registered, seen)
        champion = self._step(
            seen, "finding the champion", self._client.get_model_version_by_alias,
            name, CHAMPION_ALIAS,
        )  # fmt: skip
        recent = self._step(seen, "reading recent data", self._recent, seen)
        if champion is not None and recent is not None:
            seen.champion_version = str(champion.version)
            loaded = self._step(seen, "loading the champion", self._champion, seen.champion_version)
            if loaded is not None:
                seen.quality = self._step(seen, "scoring", reference.score, loaded, recent)
            if seen.quality is not None:
                quality = self.exporter.gauge(m.MODEL_QUALITY)
                quality.labels(model=name, alias=CHAMPION_ALIAS).set(seen.quality)
            rows = self._step(
                seen, "reading the training snapshot", self._training_rows,
                seen.champion_version, champion.run_id,
            )  # fmt: skip
            if rows is not None:
                result = self._step(seen, "testing drift", drift, rows, recent)
                if result is not None:
                    seen.drift_share, seen.drifted = result.share, result.drifted
                    gauge = self.exporter.gauge(m.DATA_DRIFT_SHARE)
                    gauge.labels(model=name).set(result.share)
        for problem in seen.problems:
            log.warning("%s", problem)
        log.info(
            "champion v%s on %s: quality %s, drift share %s %s, waiting %s",
            seen.champion_version, seen.recent_blob, seen.quality, seen.drift_share,
            list(seen.drifted), seen.waiting,
        )  # fmt: skip
        return seen

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds every ``interval_seconds`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # run_once catches per step; this is the last line of defence
                log.exception("monitor round failed")
            stop.wait(self.settings.interval_seconds)
