"""PromQL of the retraining triggers, built from the metrics contract.

The workflows component renders these into the degradation ScaledJob's ``prometheus``
triggers, and the end-to-end test runs the very same strings against a real Prometheus that
scrapes the monitor. KEDA's Prometheus scaler starts a job when the query's value is above the
trigger's ``activationThreshold`` (https://keda.sh/docs/latest/scalers/prometheus/), so every
query here *rises* when the model degrades:

- drift: the share of drifted features, compared with a configured share (0..1);
- quality: 1 when the champion's quality score is below a configured floor, else 0 (PromQL's
  ``< bool`` comparison); the trigger's thresholds sit at 0.5.

A query over a series nobody exports yet returns no sample; KEDA's ``ignoreNullValues``
(default true) reads that as 0, so a fresh stack does not retrain.
"""

from __future__ import annotations

import re

from contract.metrics import DATA_DRIFT_SHARE, MODEL_QUALITY, SERVING_REQUESTS

CHAMPION_ALIAS = "champion"
"""The registry alias the retrain job moves and the monitor evaluates."""
QUALITY_BREACH_THRESHOLD = 0.5
"""Threshold of the quality trigger: its query is 0 or 1."""

# A label value inside double quotes: MLflow model names are letters, digits, '-', '_'.
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")


def _label(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise ValueError(f"{value!r} is not a model name usable as a PromQL label value")
    return value


def drift_query(model: str) -> str:
    """Largest drifted-feature share reported for ``model`` (0..1)."""
    return f'max({DATA_DRIFT_SHARE.name}{{model="{_label(model)}"}})'


def quality_breach_query(model: str, floor: float) -> str:
    """1 when the champion of ``model`` scores below ``floor`` (0..1), else 0."""
    if not 0.0 < floor < 1.0:
        raise ValueError(f"quality floor {floor} must be between 0 and 1 (exclusive)")
    return (
        f'max({MODEL_QUALITY.name}{{model="{_label(model)}",alias="{CHAMPION_ALIAS}"}}'
        f" < bool {floor:g})"
    )


SERVING_RATE_WINDOW = "2m"
"""Window of the serving request rate: at least four scrapes at managed Prometheus's 30 s."""


def serving_request_rate_query(model: str, version: int) -> str:
    """Prediction requests per second answered by every replica of one served model version.

    The serving ScaledObject's ``prometheus`` trigger divides it by the per-replica target.
    """
    if version < 1:
        raise ValueError(f"model version {version} must be a positive integer")
    return (
        f'sum(rate({SERVING_REQUESTS.name}{{model="{_label(model)}",version="{version}"}}'
        f"[{SERVING_RATE_WINDOW}]))"
    )
