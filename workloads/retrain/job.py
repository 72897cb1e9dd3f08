"""One retrain: lock, take the batch, validate, snapshot, train, register, decide, export.

Settings come from the environment (names in :mod:`contract.workloads`):

=========================  ========  ==========================================================
variable                   default   meaning
=========================  ========  ==========================================================
``MODEL_NAME``             required  registered model name (and the lock's name)
``MLFLOW_TRACKING_URI``    required  the stack's MLflow server
``RAW_CONTAINER``          ``raw``   data-lake container of the batches
``CHAMPION_MARGIN``        ``0.01``  how much higher (ROC AUC) a new version must score
``CODE_VERSION``           unknown   commit of the image (tagged on the run and the version)
``IMAGE_DIGEST``           unknown   digest of the image (tagged likewise)
``RAY_ADDRESS``            unset     set (in a RayJob): hyperparameter search on Ray Tune
``TUNE_TRIALS``            ``8``     trials of that search
=========================  ========  ==========================================================

Exit status: 0 done, nothing to do, or another run holds the lock; 1 the batch was rejected;
2 a setting is missing or wrong; 3 a later stage failed (the batch stays under ``incoming/``
for the next run, its snapshot is reused).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import mlflow
from azure.storage.blob import BlobServiceClient, ContainerClient

from contract import metrics as m
from contract import workloads as env
from workloads.common.metrics import Exporter
from workloads.common.storage import SettingsError, require
from workloads.retrain import batch as batches
from workloads.retrain import model as reference
from workloads.retrain.lock import BlobLock, LockBusyError
from workloads.retrain.registry import (
    CHALLENGER_ALIAS,
    Lineage,
    Outcome,
    StageError,
    Trained,
    publish,
    stage,
)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_SETTINGS = 2
EXIT_FAILED = 3
DEFAULT_RAW_CONTAINER = "raw"
DEFAULT_MARGIN = 0.01
UNKNOWN = "unknown"

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What a retrain needs to know."""

    model_name: str
    tracking_uri: str
    raw_container: str = DEFAULT_RAW_CONTAINER
    margin: float = DEFAULT_MARGIN
    code_version: str = UNKNOWN
    image_digest: str = UNKNOWN
    use_ray: bool = False
    trials: int = 8

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, ray: bool = False) -> Settings:
        """Read the environment; ``ray`` forces the Ray path without ``RAY_ADDRESS``."""
        margin_text = environ.get(env.CHAMPION_MARGIN, "").strip() or str(DEFAULT_MARGIN)
        trials_text = environ.get(env.TUNE_TRIALS, "").strip() or "8"
        try:
            margin, trials = float(margin_text), int(trials_text)
        except ValueError as exc:
            raise SettingsError(f"{env.CHAMPION_MARGIN} / {env.TUNE_TRIALS}: {exc}") from exc
        if not 0.0 <= margin < 1.0:
            raise SettingsError(f"{env.CHAMPION_MARGIN} ({margin_text}) must be in [0, 1)")
        if trials < 1:
            raise SettingsError(f"{env.TUNE_TRIALS} ({trials_text}) must be >= 1")
        return cls(
            model_name=require(environ, env.MODEL_NAME),
            tracking_uri=require(environ, env.MLFLOW_TRACKING_URI),
            raw_container=environ.get(env.RAW_CONTAINER, "").strip() or DEFAULT_RAW_CONTAINER,
            margin=margin,
            code_version=environ.get(env.CODE_VERSION, "").strip() or UNKNOWN,
            image_digest=environ.get(env.IMAGE_DIGEST, "").strip() or UNKNOWN,
            use_ray=ray or bool(environ.get(env.RAY_ADDRESS, "").strip()),
            trials=trials,
        )


def lock_name(model_name: str) -> str:
    """The lock blob of ``model_name``'s retrains."""
    return f"{batches.LOCKS}retrain-{model_name}"


def train(settings: Settings, split: reference.Split) -> Trained:
    """The single-node fit, or a Ray Tune search then the fit with its best parameters."""
    params = dict(reference.DEFAULT_PARAMS)
    search: dict[str, float] | None = None
    if settings.use_ray:
        # Ray is imported on its path only (a slow import the single-node path never needs).
        from workloads.retrain import tune  # noqa: PLC0415

        result = tune.search(split.train, trials=settings.trials)
        params = result.params
        search = {"tune_trials": result.trials, tune.METRIC: result.validation_score}
    fitted, holdout_score = reference.train_and_score(params, split.train, split.holdout)
    return Trained(
        model=fitted,
        params=params,
        score=holdout_score,
        accuracy=reference.accuracy(fitted, split.holdout),
        engine="ray" if settings.use_ray else "local",
        search=search,
    )


def _export(exporter: Exporter, model_name: str, outcome: Outcome) -> None:
    exporter.gauge(m.RETRAIN_LAST_SUCCESS).labels(model=model_name).set(time.time())
    quality = exporter.gauge(m.MODEL_QUALITY)
    quality.labels(model=model_name, alias="champion").set(outcome.champion_score)
    if not outcome.promoted:
        quality.labels(model=model_name, alias=CHALLENGER_ALIAS).set(outcome.score)


def _retrain(
    settings: Settings, container: ContainerClient, exporter: Exporter, lock: BlobLock
) -> int:
    with stage("validate"):  # reading the batch is the first step of validating it
        batch = batches.take_batch(container)
    if batch is None:
        log.info("no files under %s/%s: nothing to do", settings.raw_container, batches.INCOMING)
        return EXIT_OK
    log.info("batch %s: %d file(s)", batch.id, len(batch.files))
    with stage("validate"):
        validation = batches.check(batch)
        report = None
        if validation.frame is None:
            report = batches.reject(container, batch, validation, settings.model_name)
    if validation.frame is None:
        failures = exporter.counter(m.RETRAIN_FAILURES)
        failures.labels(model=settings.model_name, stage="validate").inc()
        log.error(
            "batch %s rejected: %d problem(s), report at %s/%s; nothing registered",
            batch.id, len(validation.problems), settings.raw_container, report,
        )  # fmt: skip
        return EXIT_REJECTED
    frame = validation.frame
    # Writing the data version is part of registering what was trained on.
    with stage("register"):
        batches.snapshot(container, batch)
    with stage("train"):
        split = reference.split(frame)
        trained = train(settings, split)
    with stage("register"):
        outcome = publish(
            model_name=settings.model_name,
            margin=settings.margin,
            batch=batch,
            frame=frame,
            holdout=split.holdout,
            trained=trained,
            lineage=Lineage(
                code_version=settings.code_version,
                image_digest=settings.image_digest,
                snapshot_url=f"{container.url}/{batch.snapshot_prefix}",
            ),
            guard=lock.assert_held,
        )
        batches.consume(container, batch)
    _export(exporter, settings.model_name, outcome)
    return EXIT_OK


def run(settings: Settings, service: BlobServiceClient, exporter: Exporter) -> int:
    """One retrain; the exit status (see the module docstring)."""
    mlflow.set_tracking_uri(settings.tracking_uri)
    # The registry is the same server: never a registry URI set earlier in the process.
    mlflow.set_registry_uri(settings.tracking_uri)
    container = service.get_container_client(settings.raw_container)
    try:
        with BlobLock(container, lock_name(settings.model_name)) as lock:
            return _retrain(settings, container, exporter, lock)
    except LockBusyError as exc:
        log.info("another retrain of %s is running (%s): exiting without changes",
                 settings.model_name, exc)  # fmt: skip
        return EXIT_OK
    except StageError as exc:
        failures = exporter.counter(m.RETRAIN_FAILURES)
        failures.labels(model=settings.model_name, stage=exc.stage).inc()
        log.exception("retrain of %s failed at stage %s", settings.model_name, exc.stage)
        return EXIT_FAILED
    except Exception:  # the lock blob itself (storage unreachable, access denied)
        log.exception("retrain of %s failed before it could start", settings.model_name)
        return EXIT_FAILED
