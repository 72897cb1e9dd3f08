"""The Ray path: a hyperparameter search with Ray Tune over the same training function.

Inside a RayJob (KubeRay sets ``RAY_ADDRESS`` for the entrypoint) ``ray.init()`` joins the
cluster and the trials run on its workers (the GPU pool when the workflows component puts
them there); with ``--ray`` and no address, Ray starts a local cluster in the process.

Every trial calls :func:`workloads.retrain.model.train_and_score` on the training rows minus
a validation share and reports its validation score; the held-out rows the champion decision
uses are never seen by the search. The best parameters are then trained once more on all
training rows by the caller -- the same function again.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from typing import Any

import pandas as pd
import ray
from ray import tune
from ray.tune.search.basic_variant import BasicVariantGenerator

from workloads.retrain import model as reference

METRIC = "validation_roc_auc"
DEFAULT_TRIALS = 8

SEARCH_SPACE: dict[str, Any] = {
    "n_estimators": tune.choice([50, 100, 150, 250]),
    "max_depth": tune.choice([2, 3, 4]),
    "learning_rate": tune.loguniform(0.03, 0.3),
    "subsample": tune.choice([0.8, 1.0]),
}
"""Gradient boosting's main knobs; :data:`workloads.retrain.model.DEFAULT_PARAMS` is tried
first, so the search never returns worse than the single-node path on validation rows."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """The best trial of a search."""

    params: dict[str, Any]
    validation_score: float
    trials: int


def _trial(config: dict[str, Any], fit_rows: pd.DataFrame, validation_rows: pd.DataFrame) -> None:
    _, validation_score = reference.train_and_score(config, fit_rows, validation_rows)
    tune.report({METRIC: validation_score})


def search(train: pd.DataFrame, *, trials: int = DEFAULT_TRIALS) -> SearchResult:
    """Run ``trials`` trials on the Ray cluster (joined or started here); the best one."""
    if not ray.is_initialized():
        # RAY_ADDRESS (RayJob) is read by ray.init itself; without it a local cluster starts.
        ray.init(include_dashboard=False, log_to_driver=False)
    parts = reference.split(train, reference.VALIDATION_SHARE)
    searcher = BasicVariantGenerator(
        points_to_evaluate=[dict(reference.DEFAULT_PARAMS)], random_state=reference.SEED
    )
    with tempfile.TemporaryDirectory(prefix="retrain-tune-") as storage:
        tuner = tune.Tuner(
            # Ray's object store carries the rows to the workers once, not per trial.
            tune.with_parameters(_trial, fit_rows=parts.train, validation_rows=parts.holdout),
            param_space=SEARCH_SPACE,
            tune_config=tune.TuneConfig(
                metric=METRIC, mode="max", num_samples=trials, search_alg=searcher
            ),
            # No checkpoints: trial results only, kept on the driver for the run's lifetime.
            run_config=tune.RunConfig(storage_path=storage, name="retrain", verbose=0),
        )
        results = tuner.fit()
        best = results.get_best_result()
        errors = list(results.errors)
    if best.config is None or best.metrics is None or METRIC not in best.metrics:
        raise RuntimeError(f"no Ray Tune trial reported {METRIC}: {errors[:1]}")
    params = {key: best.config[key] for key in reference.DEFAULT_PARAMS}
    log.info("Ray Tune: %d trials, best %s = %.4f with %s", trials, METRIC,
             best.metrics[METRIC], params)  # fmt: skip
    return SearchResult(
        params=params, validation_score=float(best.metrics[METRIC]), trials=len(results)
    )
