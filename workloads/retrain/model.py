"""The reference model: gradient-boosted trees (scikit-learn) predicting churn.

One training function, :func:`train_and_score`, is what both paths run: the single-node
retrain calls it once with :data:`DEFAULT_PARAMS`; the Ray path (:mod:`workloads.retrain.tune`)
calls it in every Ray Tune trial, then once more with the best trial's parameters.

The quality score is the ROC AUC on held-out rows (0..1, 0.5 = guessing): it ranks customers
by risk, which is how churn predictions are used, and it does not depend on a threshold.
That value is ``model_quality_score_ratio`` in the metrics contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

from workloads.data.schema import FEATURES, LABEL

HOLDOUT_SHARE = 0.25
"""Share of a batch kept out of training: the challenger and the champion are scored on it."""
VALIDATION_SHARE = 0.25
"""Share of the training rows the hyperparameter search scores its trials on."""
SEED = 7
"""Fixed: the same batch always gives the same split and the same model."""
DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 150,
    "max_depth": 3,
    "learning_rate": 0.1,
    "subsample": 1.0,
}
"""Hyperparameters of the single-node path (and the Ray search's starting point)."""


@dataclass(frozen=True, kw_only=True)
class Split:
    """A batch cut into training rows and held-out rows (stratified by the label)."""

    train: pd.DataFrame
    holdout: pd.DataFrame


def split(frame: pd.DataFrame, share: float = HOLDOUT_SHARE) -> Split:
    """Cut ``frame`` into training and held-out rows, keeping the label's proportions."""
    train, holdout = train_test_split(
        frame, test_size=share, random_state=SEED, stratify=frame[LABEL]
    )
    return Split(train=train, holdout=holdout)


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, in training order."""
    return frame[list(FEATURES)]


def fit(params: dict[str, Any], train: pd.DataFrame) -> GradientBoostingClassifier:
    """A classifier trained on ``train`` with ``params`` (seeded: deterministic)."""
    model = GradientBoostingClassifier(
        n_estimators=int(params["n_estimators"]),
        max_depth=int(params["max_depth"]),
        learning_rate=float(params["learning_rate"]),
        subsample=float(params["subsample"]),
        random_state=SEED,
    )
    model.fit(features(train), train[LABEL])
    return model


def churn_probability(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """P(churn) per row, from an sklearn classifier or an MLflow pyfunc model."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(features(frame))[:, 1], dtype=float)
    predictions = model.predict(features(frame))  # pyfunc of a classifier: class labels
    return np.asarray(predictions, dtype=float).reshape(-1)


def score(model: Any, frame: pd.DataFrame) -> float:
    """ROC AUC of ``model`` on ``frame`` (needs both label values present)."""
    labels = frame[LABEL]
    if labels.nunique() < 2:
        raise ValueError("the quality score needs rows of both label values")
    return float(roc_auc_score(labels, churn_probability(model, frame)))


def accuracy(model: Any, frame: pd.DataFrame) -> float:
    """Share of rows classified right at the 0.5 threshold (logged beside the score)."""
    predicted = (churn_probability(model, frame) >= 0.5).astype("int64")
    return float(accuracy_score(frame[LABEL], predicted))


def train_and_score(
    params: dict[str, Any], train: pd.DataFrame, evaluate_on: pd.DataFrame
) -> tuple[GradientBoostingClassifier, float]:
    """Train with ``params`` on ``train``; the model and its score on ``evaluate_on``."""
    model = fit(params, train)
    return model, score(model, evaluate_on)
