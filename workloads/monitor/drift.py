"""Data drift: which input features no longer look like the champion's training data.

The test, per feature: the two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``,
two-sided, exact or asymptotic p-value as scipy picks) between the training snapshot's
column and the recent data's column. A feature **drifted** when its p-value is below
:data:`ALPHA` = 0.01, i.e. when the two samples are that unlikely to come from one
distribution. The drift share is ``drifted features / features`` (0..1), the value of
``data_drift_share_ratio``.

Why KS: it needs no binning or model, compares whole distributions (location, spread and
shape) and is in scipy. With thousands of rows it flags even small shifts; that is why the
alert and the retraining trigger compare the *share* of drifted features with a threshold
rather than reacting to any single feature. ``contract_months`` takes three values; KS on a
discrete column is conservative (p-values too large), so a change there is flagged later,
never earlier.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy.stats import ks_2samp

from workloads.data.schema import FEATURES

ALPHA = 0.01
"""Significance level of each feature's test."""


@dataclass(frozen=True, kw_only=True)
class Drift:
    """The outcome of :func:`drift`."""

    share: float
    """Drifted features / features (0..1)."""
    drifted: tuple[str, ...]
    p_values: dict[str, float]


def drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: tuple[str, ...] = FEATURES,
    alpha: float = ALPHA,
) -> Drift:
    """Compare each feature of ``current`` with ``reference``."""
    if not features:
        raise ValueError("drift needs at least one feature")
    p_values: dict[str, float] = {}
    for feature in features:
        result = ks_2samp(reference[feature].to_numpy(), current[feature].to_numpy())
        p_values[feature] = float(result.pvalue)
    drifted = tuple(f for f in features if p_values[f] < alpha)
    return Drift(share=len(drifted) / len(features), drifted=drifted, p_values=p_values)
