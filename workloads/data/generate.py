"""A seeded generator of churn batches (see :mod:`workloads.data.schema`) for tests and demos.

The label follows a fixed logistic model of the features (short tenure, high charges, many
support calls and a month-to-month contract raise churn), so a classifier has something real
to learn:

- :func:`good_batch`: the reference population; ``label_noise`` flips that share of labels;
- :func:`degraded_batch`: customers drawn from a shifted population (shorter tenure, higher
  charges, more calls, more data) whose churn reasons changed (the old signals no longer
  predict it): the champion's quality drops and the features drift;
- :func:`bad_batch`: the good population with the defects validation must catch (missing
  values, text in numeric columns, out-of-range values).

Same arguments, same rows: every function takes a seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.data.schema import FEATURES, LABEL

_CONTRACTS = np.array([1, 12, 24])


def _features(rng: np.random.Generator, rows: int, *, shift: float) -> pd.DataFrame:
    """Customers; ``shift`` (0 = reference) moves the population towards riskier profiles."""
    tenure = np.clip(rng.gamma(2.0, 14.0 * (1.0 - 0.6 * shift), rows), 0, 120).round()
    charges = np.clip(rng.normal(70.0 + 45.0 * shift, 20.0, rows), 0, 1000).round(2)
    calls = np.clip(rng.poisson(1.5 + 3.0 * shift, rows), 0, 100)
    usage = np.clip(rng.lognormal(2.5 + 0.8 * shift, 0.6, rows), 0, 5000).round(2)
    contract_p = np.array([0.45, 0.3, 0.25]) if shift == 0 else np.array([0.7, 0.2, 0.1])
    contract = rng.choice(_CONTRACTS, size=rows, p=contract_p)
    return pd.DataFrame(
        {
            "tenure_months": tenure.astype("int64"),
            "monthly_charges": charges.astype("float64"),
            "support_calls": calls.astype("int64"),
            "data_usage_gb": usage.astype("float64"),
            "contract_months": contract.astype("int64"),
        }
    )[list(FEATURES)]


def _reference_logit(x: pd.DataFrame) -> np.ndarray:
    return np.asarray(
        -0.6
        - 0.06 * (x["tenure_months"] - 24)
        + 0.035 * (x["monthly_charges"] - 70)
        + 0.55 * (x["support_calls"] - 1.5)
        - 1.1 * (x["contract_months"] == 24)
        - 0.5 * (x["contract_months"] == 12)
        # An interaction a linear model misses: heavy users on short contracts leave.
        + 0.9 * ((x["data_usage_gb"] > 20) & (x["contract_months"] == 1)),
        dtype=float,
    )


def _changed_logit(x: pd.DataFrame) -> np.ndarray:
    # After the change, loyal long-tenure, low-usage customers on long contracts leave (a
    # competitor's offer), and the old signals point the wrong way.
    return np.asarray(
        -0.4
        + 0.05 * (x["tenure_months"] - 12)
        - 0.03 * (x["monthly_charges"] - 110)
        - 0.4 * (x["support_calls"] - 4.5)
        + 0.9 * (x["contract_months"] == 24),
        dtype=float,
    )


def _labels(rng: np.random.Generator, logit: np.ndarray, noise: float) -> np.ndarray:
    labels = (rng.random(len(logit)) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    flip = rng.random(len(logit)) < noise
    return np.asarray(np.where(flip, 1 - labels, labels), dtype="int64")


def good_batch(rows: int, seed: int, *, label_noise: float = 0.0) -> pd.DataFrame:
    """Rows of the reference population; ``label_noise`` flips that share of labels."""
    rng = np.random.default_rng(seed)
    frame = _features(rng, rows, shift=0.0)
    frame[LABEL] = _labels(rng, _reference_logit(frame), label_noise)
    return frame


def degraded_batch(rows: int, seed: int) -> pd.DataFrame:
    """Rows of a shifted population whose churn follows different reasons."""
    rng = np.random.default_rng(seed)
    frame = _features(rng, rows, shift=1.0)
    frame[LABEL] = _labels(rng, _changed_logit(frame), 0.0)
    return frame


def bad_batch(rows: int, seed: int) -> pd.DataFrame:
    """A good batch with missing values, text in numeric columns and out-of-range values."""
    frame = good_batch(rows, seed).astype(object)
    frame.loc[3, "monthly_charges"] = None  # missing
    frame.loc[5, "data_usage_gb"] = None  # missing
    frame.loc[7, "support_calls"] = "many"  # wrong type
    frame.loc[11, "tenure_months"] = 480  # out of range (40 years)
    frame.loc[12, "monthly_charges"] = -20.0  # out of range
    frame.loc[13, "contract_months"] = 36  # not an offered contract
    frame.loc[17, LABEL] = 2  # not a label value
    return frame


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as a CSV file (header row, no index)."""
    text: str = frame.to_csv(index=False)
    return text.encode("utf-8")
