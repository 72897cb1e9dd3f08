"""Copy one registered model version from a stack's MLflow into the next stack's MLflow.

What the target gets, so the version there is the same model with the same evidence:

- a run in an experiment of the source run's experiment name, with the source run's params,
  metric histories (values, steps, timestamps), its user tags and descriptive ``mlflow.*`` tags,
  and its dataset inputs (same name, digest, source type, source, schema, profile and context
  tags, as ``mlflow.log_input`` records them);
- a logged model with the source logged model's name, type, params and tags, holding the
  version's artifacts — downloaded through the source server's artifact proxy, so the input
  and serving examples, the environment files and the weights are the very files that were
  evaluated, byte for byte. The ``MLmodel`` file (flavors, signature) is the same except its
  identity fields (``artifact_path``, ``model_id``, ``model_uuid``, ``run_id``), which name the
  target's logged model and run as MLflow writes them when logging: left at the source's ids,
  MLflow in the target looks up a logged model that does not exist there
  (``mlflow.models.get_model_info`` fails). The source's ids are kept in the lineage tags;
- a registered model version of the same name (the registered model is created when missing)
  carrying the source version's tags and description plus the lineage tags below.

After registering, the new version's artifacts are downloaded back from the target and the
sha256 of every file is compared with the source's (``MLmodel`` with its identity fields
blanked on both sides, see :func:`comparable_digests`); on any difference the new version is
deleted and the promotion fails. A version whose lineage names the same source stack and
version is reused (a second promotion copies nothing).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.queries import CHAMPION_ALIAS
from promote.artifacts import MLMODEL, comparable_digests, manifest_digest, rewrite_identity
from promote.stages import PromotionError
from promote.tracking import TrackingServer

LINEAGE_PREFIX = "aks-mlops.promotion."
SOURCE_STACK = f"{LINEAGE_PREFIX}source-stack"
SOURCE_VERSION = f"{LINEAGE_PREFIX}source-version"
SOURCE_RUN_ID = f"{LINEAGE_PREFIX}source-run-id"
SOURCE_TRACKING_URI = f"{LINEAGE_PREFIX}source-tracking-uri"
PROMOTED_BY = f"{LINEAGE_PREFIX}promoted-by"
PROMOTED_AT = f"{LINEAGE_PREFIX}promoted-at"
APPROVED_BY = f"{LINEAGE_PREFIX}approved-by"
ARTIFACTS_SHA256 = f"{LINEAGE_PREFIX}artifacts-sha256"
# Source run tags worth keeping that MLflow names mlflow.*; the others (parent run, logged
# model history) point at ids that exist only in the source server.
_KEPT_SYSTEM_TAGS = frozenset(
    {
        "mlflow.user",
        "mlflow.source.name",
        "mlflow.source.type",
        "mlflow.source.git.commit",
        "mlflow.source.git.branch",
        "mlflow.note.content",
    }
)
# MLflow's REST limits per log_batch request (metrics, params, tags).
_BATCH_METRICS = 1000
_BATCH_PARAMS = 100
_EXPERIMENT_FALLBACK = "promoted-models"


@dataclass(frozen=True)
class SourceVersion:
    """The source registry's version chosen for promotion."""

    model: str
    version: int
    run_id: str | None
    model_id: str | None
    via_alias: bool
    tags: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class CopyResult:
    """The target registry's version that now holds the model."""

    version: int
    created: bool
    digests: Mapping[str, str]
    lineage: Mapping[str, str]


def _not_found(exc: Exception) -> bool:
    return getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"


def _model_id_of(version: Any) -> str | None:
    """The logged model behind a version: MLflow's REST client drops ``model_id`` from a
    ModelVersion (3.17), but a version created from a logged model has ``models:/<id>`` as
    its source (a registry URI, ``models:/<name>/<version>``, has a slash)."""
    if getattr(version, "model_id", None):
        return str(version.model_id)
    source = str(version.source or "")
    model_id = source.removeprefix("models:/")
    if source.startswith("models:/") and model_id and "/" not in model_id:
        return model_id
    return None


def resolve_source(server: TrackingServer, model: str, version: int | None) -> SourceVersion:
    """The version to promote: ``version`` when given, else the ``champion`` alias's."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    with server.active():
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        try:
            registered = client.get_registered_model(model)
        except MlflowException as exc:
            if not _not_found(exc):
                raise
            raise PromotionError(
                f"--model ({model}): {server.stack}'s registry has no registered model {model}"
            ) from exc
        if version is None:
            # RegisteredModel.aliases maps alias -> version (MLflow 2.3+).
            champion = (registered.aliases or {}).get(CHAMPION_ALIAS)
            if champion is None:
                raise PromotionError(
                    f"--model ({model}): {server.stack}'s registry has no version under the "
                    f"{CHAMPION_ALIAS!r} alias; promote an explicit version with --version"
                )
            found = client.get_model_version(model, str(champion))
        else:
            try:
                found = client.get_model_version(model, str(version))
            except MlflowException as exc:
                if not _not_found(exc):
                    raise
                raise PromotionError(
                    f"--version ({version}): {server.stack}'s registry has no version "
                    f"{version} of {model}"
                ) from exc
    return SourceVersion(
        model=model,
        version=int(found.version),
        run_id=found.run_id or None,
        model_id=_model_id_of(found),
        via_alias=version is None,
        tags=dict(found.tags or {}),
        description=found.description or None,
    )


def find_promoted(
    server: TrackingServer, model: str, source_stack: str, source_version: int
) -> int | None:
    """The target version an earlier promotion of the same source version created."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    with server.active():
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        for found in client.search_model_versions(f"name = '{model}'"):
            tags = found.tags or {}
            if tags.get(SOURCE_STACK) == source_stack and tags.get(SOURCE_VERSION) == str(
                source_version
            ):
                return int(found.version)
    return None


def next_version(server: TrackingServer, model: str) -> int:
    """The number the target registry would give a new version (for a dry run's diff)."""
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    with server.active():
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        versions = [int(v.version) for v in client.search_model_versions(f"name = '{model}'")]
    return max(versions, default=0) + 1


def download_version(server: TrackingServer, model: str, version: int, dst: Path) -> Path:
    """The version's artifacts, through the server's artifact proxy, into ``dst``."""
    import mlflow  # noqa: PLC0415

    with server.active():
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{model}/{version}",
            dst_path=str(dst),
            tracking_uri=server.uri,
            registry_uri=server.uri,
        )
    return Path(local)


def verify_copy(
    source: TrackingServer, target: TrackingServer, model: str, versions: tuple[int, int]
) -> dict[str, str]:
    """Both versions' files, sha256 by sha256; returns the digests or raises."""
    with tempfile.TemporaryDirectory(prefix="promote-verify-") as scratch:
        src = comparable_digests(download_version(source, model, versions[0], Path(scratch, "a")))
        dst = comparable_digests(download_version(target, model, versions[1], Path(scratch, "b")))
    if src != dst:
        differing = sorted(p for p in set(src) | set(dst) if src.get(p) != dst.get(p))
        raise PromotionError(
            f"artifacts of {model} v{versions[1]} in {target.stack} differ from v{versions[0]} "
            f"in {source.stack}: {', '.join(differing)}"
        )
    return src


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _SourceRun:
    """What is read from the source server before anything is written to the target."""

    experiment: str
    run_name: str | None
    params: dict[str, str]
    metrics: list[Any]
    tags: dict[str, str]
    datasets: list[Any]
    model_name: str
    model_type: str | None
    model_params: dict[str, str]
    model_tags: dict[str, str]
    registered_tags: dict[str, str]
    registered_description: str | None


def _read_source(server: TrackingServer, src: SourceVersion) -> _SourceRun:
    from mlflow.entities import Metric  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    with server.active():
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        registered = client.get_registered_model(src.model)
        out = _SourceRun(
            experiment=_EXPERIMENT_FALLBACK,
            run_name=None,
            params={},
            metrics=[],
            tags={},
            datasets=[],
            model_name="model",
            model_type=None,
            model_params={},
            model_tags={},
            registered_tags=dict(registered.tags or {}),
            registered_description=registered.description or None,
        )
        if src.run_id:
            run = client.get_run(src.run_id)
            out.experiment = client.get_experiment(run.info.experiment_id).name
            out.run_name = run.info.run_name
            out.params = dict(run.data.params)
            out.tags = {
                k: v
                for k, v in run.data.tags.items()
                if not k.startswith("mlflow.") or k in _KEPT_SYSTEM_TAGS
            }
            out.metrics = [
                Metric(m.key, m.value, m.timestamp, m.step)
                for key in sorted(run.data.metrics)
                for m in client.get_metric_history(src.run_id, key)
            ]
            out.datasets = list(run.inputs.dataset_inputs if run.inputs else [])
        if src.model_id:
            logged = client.get_logged_model(src.model_id)
            out.model_name = logged.name
            out.model_type = logged.model_type
            out.model_params = dict(logged.params or {})
            out.model_tags = {
                k: v for k, v in (logged.tags or {}).items() if not k.startswith("mlflow.")
            }
    return out


def _ensure_experiment(client: Any, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name))


def _ensure_registered_model(client: Any, model: str, source: _SourceRun) -> None:
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    try:
        client.get_registered_model(model)
    except MlflowException as exc:
        if not _not_found(exc):
            raise
        client.create_registered_model(
            model, tags=source.registered_tags, description=source.registered_description
        )


def _write_target(
    server: TrackingServer, src: SourceVersion, source: _SourceRun, local: Path,
    lineage: Mapping[str, str],
) -> int:  # fmt: skip
    from mlflow.entities import LoggedModelOutput, Param, RunStatus, RunTag  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    with server.active():
        client = MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
        experiment_id = _ensure_experiment(client, source.experiment)
        run = client.create_run(
            experiment_id, run_name=source.run_name, tags={**source.tags, **lineage}
        )
        run_id = run.info.run_id
        try:
            params = [Param(k, v) for k, v in sorted(source.params.items())]
            for chunk in _chunks(params, _BATCH_PARAMS):
                client.log_batch(run_id, params=list(chunk))
            for chunk in _chunks(source.metrics, _BATCH_METRICS):
                client.log_batch(run_id, metrics=list(chunk))
            if source.datasets:
                client.log_inputs(run_id, datasets=source.datasets)
            logged = client.create_logged_model(
                experiment_id,
                name=source.model_name,
                source_run_id=run_id,
                tags={**source.model_tags, **lineage},
                params=source.model_params,
                model_type=source.model_type,
            )
            client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
            mlmodel = local / MLMODEL
            if mlmodel.is_file():
                identity = {
                    "artifact_path": logged.artifact_location,
                    "model_id": logged.model_id,
                    "model_uuid": logged.model_id,
                    "run_id": run_id,
                }
                mlmodel.write_text(rewrite_identity(mlmodel.read_text(), identity))
            client.log_model_artifacts(logged.model_id, str(local))
            client.finalize_logged_model(logged.model_id, "READY")
            _ensure_registered_model(client, src.model, source)
            created = client.create_model_version(
                src.model,
                source=f"models:/{logged.model_id}",
                run_id=run_id,
                tags={**src.tags, **lineage},
                description=src.description,
                model_id=logged.model_id,
            )
            client.log_batch(
                run_id, tags=[RunTag(f"{LINEAGE_PREFIX}target-version", created.version)]
            )
        except BaseException:
            client.set_terminated(run_id, RunStatus.to_string(RunStatus.FAILED))
            raise
        client.set_terminated(run_id)
    return int(created.version)


def copy_version(
    source: TrackingServer,
    target: TrackingServer,
    src: SourceVersion,
    lineage: Mapping[str, str],
) -> CopyResult:
    """Copy ``src`` into the target registry (or find an earlier copy) and verify it."""
    existing = find_promoted(target, src.model, source.stack, src.version)
    if existing is not None:
        digests = verify_copy(source, target, src.model, (src.version, existing))
        return CopyResult(version=existing, created=False, digests=digests, lineage={})
    source_run = _read_source(source, src)
    with tempfile.TemporaryDirectory(prefix="promote-copy-") as scratch:
        local = download_version(source, src.model, src.version, Path(scratch, "model"))
        tags = {**lineage, ARTIFACTS_SHA256: manifest_digest(comparable_digests(local))}
        version = _write_target(target, src, source_run, local, tags)
    try:
        verified = verify_copy(source, target, src.model, (src.version, version))
    except PromotionError:
        from mlflow.tracking import MlflowClient  # noqa: PLC0415

        with target.active():
            MlflowClient(tracking_uri=target.uri, registry_uri=target.uri).delete_model_version(
                src.model, str(version)
            )
        raise
    return CopyResult(version=version, created=True, digests=verified, lineage=tags)
