"""The MLflow side of a retrain: the run, the registered version, the champion decision.

What each run records (data, code and model versioning):

- **data**: the snapshot as an MLflow dataset input (context ``training``): source = the
  snapshot's URL, digest = the batch id, schema = MLflow's column schema of the rows; input
  tags ``sha256:<file>`` hold every file's SHA-256 and ``snapshot`` its prefix; the artifacts
  ``data/snapshot.json`` (names, sizes, digests) and ``data/schema.json`` (the pandera schema);
- **code**: run and version tags ``code_version`` and ``image_digest`` (the image's commit and
  digest, set by the workflows component);
- **model**: params, held-out metrics, the model with its signature and an input example,
  registered as a new version of the model; the version's tags repeat the lineage and the
  decision.

The decision: the new version is scored on the batch's held-out rows, and so is the version
behind ``champion``; the alias moves when ``new - champion >= margin`` (the first version
becomes champion). Otherwise the new version gets the ``challenger`` alias, so the registry
shows what was tried last and why it lost (tags ``decision`` and ``champion_score``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
import skops
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from contract.queries import CHAMPION_ALIAS
from workloads.data.schema import LABEL, schema_document
from workloads.retrain import model as reference
from workloads.retrain.batch import Batch

CHALLENGER_ALIAS = "challenger"
"""Alias of the newest version that did not take ``champion``."""
SNAPSHOT_TAG = "snapshot"
"""Run tag holding the snapshot's prefix in the raw container (the monitor reads it)."""
SCORE_METRIC = "holdout_roc_auc"
CHAMPION_SCORE_METRIC = "champion_holdout_roc_auc"
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)
"""Types of the gradient-boosted trees skops loads only when named."""
_INPUT_EXAMPLE_ROWS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Lineage:
    """What a version is traced back to."""

    code_version: str
    image_digest: str
    snapshot_url: str
    """URL of the snapshot prefix (the dataset input's source)."""


@dataclass(frozen=True, kw_only=True)
class Trained:
    """A trained model and how it was obtained."""

    model: Any
    params: dict[str, Any]
    score: float
    """ROC AUC on the held-out rows."""
    accuracy: float
    engine: str
    """``local`` or ``ray``."""
    search: dict[str, float] | None = None
    """Ray path: trials run and the best trial's validation score."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """The result of :func:`publish`."""

    run_id: str
    version: str
    score: float
    champion_version: str
    """The version behind ``champion`` after the decision."""
    champion_score: float
    """The champion's score on this batch's held-out rows after the decision."""
    promoted: bool


class StageError(RuntimeError):
    """A step of the retrain failed; ``stage`` is the label of ``retrain_failures_total``."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"retrain failed at stage {stage!r}")
        self.stage = stage


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Attribute any failure inside the block to stage ``name`` (the innermost wins)."""
    try:
        yield
    except StageError:
        raise
    except Exception as exc:
        raise StageError(name) from exc


def experiment_name(model_name: str) -> str:
    return f"{model_name}-retrain"


def _log_data(batch: Batch, frame: pd.DataFrame, lineage: Lineage) -> None:
    dataset = from_pandas(
        frame,
        source=lineage.snapshot_url,
        targets=LABEL,
        name=f"snapshot-{batch.id}",
        digest=batch.id,
    )
    tags = {SNAPSHOT_TAG: batch.snapshot_prefix}
    tags.update({f"sha256:{name}": digest for name, digest in batch.digests.items()})
    mlflow.log_input(dataset, context="training", tags=tags)
    mlflow.log_dict(batch.manifest(), "data/snapshot.json")
    mlflow.log_dict(schema_document(), "data/schema.json")


def _champion_score(
    client: MlflowClient, name: str, version: str, holdout: pd.DataFrame
) -> tuple[str, float] | None:
    current = client.get_registered_model(name).aliases.get(CHAMPION_ALIAS)
    if current is None or current == version:
        return None
    champion = mlflow.sklearn.load_model(f"models:/{name}/{current}")
    return current, reference.score(champion, holdout)


def publish(
    *,
    model_name: str,
    margin: float,
    batch: Batch,
    frame: pd.DataFrame,
    holdout: pd.DataFrame,
    trained: Trained,
    lineage: Lineage,
    guard: Callable[[], None],
) -> Outcome:
    """Log the run, register the version, decide on ``champion``.

    ``guard`` raises when the run may no longer publish (the lock's lease was lost); it is
    called before registering and before moving an alias.
    """
    client = MlflowClient()
    mlflow.set_experiment(experiment_name(model_name))
    code_tags = {"code_version": lineage.code_version, "image_digest": lineage.image_digest}
    with mlflow.start_run(
        run_name=f"retrain-{batch.id}",
        tags={**code_tags, "batch_id": batch.id, SNAPSHOT_TAG: batch.snapshot_prefix},
    ) as run:
        _log_data(batch, frame, lineage)
        mlflow.log_params(
            {
                **trained.params,
                "engine": trained.engine,
                "rows": len(frame),
                "holdout_rows": len(holdout),
                "holdout_share": reference.HOLDOUT_SHARE,
                "split_seed": reference.SEED,
            }
        )
        mlflow.log_metrics({SCORE_METRIC: trained.score, "holdout_accuracy": trained.accuracy})
        if trained.search:
            mlflow.log_metrics(trained.search)
        example = reference.features(holdout).head(_INPUT_EXAMPLE_ROWS)
        signature = infer_signature(example, trained.model.predict(example))
        with stage("register"):
            guard()
            info = mlflow.sklearn.log_model(
                trained.model,
                name="model",
                signature=signature,
                input_example=example,
                registered_model_name=model_name,
                # skops (no code runs on load) asks to name the types it cannot bound-check:
                # the trees' node arrays. This job wrote them; only its identity may write the
                # registry's artifacts. The list is stored in the model for every loader.
                skops_trusted_types=list(TRUSTED_TYPES),
                # Listed, not inferred: inference loads the model in a subprocess (slow), and
                # these are the versions the model was trained with.
                pip_requirements=[
                    f"scikit-learn=={sklearn.__version__}",
                    f"skops=={skops.__version__}",
                    f"numpy=={np.__version__}",
                    f"pandas=={pd.__version__}",
                ],
            )
        version = str(info.registered_model_version)
        with stage("evaluate"):
            compared = _champion_score(client, model_name, version, holdout)
        if compared is not None:
            mlflow.log_metric(CHAMPION_SCORE_METRIC, compared[1])
        promoted = compared is None or trained.score - compared[1] >= margin
        decision = (
            "first version"
            if compared is None
            else f"{'promoted' if promoted else 'kept champion'}: "
            f"{trained.score:.4f} vs v{compared[0]} {compared[1]:.4f} (margin {margin:g})"
        )
        mlflow.set_tag("decision", decision)

    version_tags = {
        **code_tags,
        "batch_id": batch.id,
        SNAPSHOT_TAG: batch.snapshot_prefix,
        SCORE_METRIC: f"{trained.score:.6f}",
        "decision": decision,
    }
    if compared is not None:
        version_tags["champion_version"] = compared[0]
        version_tags["champion_score"] = f"{compared[1]:.6f}"
    with stage("register"):
        for key, value in version_tags.items():
            client.set_model_version_tag(model_name, version, key, value)
        guard()
        alias = CHAMPION_ALIAS if promoted else CHALLENGER_ALIAS
        client.set_registered_model_alias(model_name, alias, version)
    log.info("%s v%s: %s", model_name, version, decision)
    if promoted or compared is None:
        return Outcome(
            run_id=run.info.run_id,
            version=version,
            score=trained.score,
            champion_version=version,
            champion_score=trained.score,
            promoted=True,
        )
    return Outcome(
        run_id=run.info.run_id,
        version=version,
        score=trained.score,
        champion_version=compared[0],
        champion_score=compared[1],
        promoted=False,
    )
