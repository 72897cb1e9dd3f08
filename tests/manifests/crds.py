"""Validation of the custom resources the program renders that kubernetes-validate cannot see.

PodMonitor (ama-metrics, ``azmonitoring.coreos.com/v1``): Azure's CRD is prometheus-operator's
PodMonitor with the group renamed
(https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-crd), so the
object is checked against prometheus-operator's model (``cloudcoil-models-prometheus-operator``,
generated from the operator's v0.80 CRDs) after swapping the group back. The models accept unknown
keys, so :func:`strict_unknown_keys` also walks the object and rejects any key the CRD does not
define (a misspelt ``relabelings`` would otherwise be dropped silently by the API server).

KEDA (``keda.sh/v1alpha1`` ScaledJob, ScaledObject, TriggerAuthentication): checked against
``cloudcoil-models-keda`` (generated from KEDA 2.16's CRDs), strictly too. The CRDs are
structural, so the API server prunes an unknown key (``POLLINGINTERVAL``) without a word and KEDA
runs on its default. Some fields are plain strings in the CRD that KEDA's controller reads as an
enumeration: :data:`KEDA_ENUMS` holds them, from the ScaledJob reference
(https://keda.sh/docs/2.16/reference/scaledjob-spec/).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from cloudcoil.models.keda import v1alpha1 as keda
from cloudcoil.models.prometheus_operator import v1 as prometheus_v1
from pydantic import BaseModel, ValidationError

AZURE_PODMONITOR_API = "azmonitoring.coreos.com/v1"
OPERATOR_PODMONITOR_API = "monitoring.coreos.com/v1"


class UnknownKeyError(ValueError):
    """A key the CRD's schema does not define."""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, list, dict, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return []
    if origin in (Union, types.UnionType, list, tuple, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def strict_unknown_keys(model: type[BaseModel], data: Any, path: str = "") -> None:
    """Raise :class:`UnknownKeyError` for any key of ``data`` that ``model`` does not define."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            strict_unknown_keys(model, item, f"{path}[{index}]")
        return
    if not isinstance(data, dict):
        return
    by_key = {(f.alias or name): f for name, f in model.model_fields.items()}
    for key, value in data.items():
        field = by_key.get(key)
        if field is None:
            raise UnknownKeyError(f"{path}.{key}: not a field of {model.__name__}")
        for nested in _models_in(field.annotation):
            strict_unknown_keys(nested, value, f"{path}.{key}")


def validate_pod_monitor(obj: dict[str, Any]) -> None:
    """Validate an ama-metrics PodMonitor; raises on a wrong group, type or unknown key."""
    if obj.get("apiVersion") != AZURE_PODMONITOR_API:
        raise UnknownKeyError(
            f"apiVersion must be {AZURE_PODMONITOR_API}: ama-metrics ignores "
            "PodMonitors of other groups"
        )
    as_operator = {**obj, "apiVersion": OPERATOR_PODMONITOR_API}
    prometheus_v1.PodMonitor.model_validate(as_operator)
    strict_unknown_keys(prometheus_v1.PodMonitorSpec, obj["spec"], "spec")


KEDA_MODELS: dict[str, type[BaseModel]] = {
    "ScaledJob": keda.ScaledJob,
    "ScaledObject": keda.ScaledObject,
    "TriggerAuthentication": keda.TriggerAuthentication,
}
# (kind, path in spec) -> the values KEDA 2.16 documents; anything else is ignored or refused
# by the operator at reconcile time, long after `pulumi up` succeeded.
KEDA_ENUMS: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("ScaledJob", "rollout", "strategy"): ("default", "gradual"),
    ("ScaledJob", "rollout", "propagationPolicy"): ("background", "foreground"),
    ("ScaledJob", "scalingStrategy", "strategy"): ("default", "custom", "accurate", "eager"),
    ("ScaledJob", "scalingStrategy", "multipleScalersCalculation"): ("max", "min", "avg", "sum"),
}


def keda_problems(obj: dict[str, Any]) -> list[str]:
    """What KEDA 2.16's CRDs and documented enumerations refuse in one KEDA object."""
    kind = str(obj.get("kind"))
    where = f"{kind}/{(obj.get('metadata') or {}).get('name')}"
    model = KEDA_MODELS[kind]
    spec = obj.get("spec") or {}
    if kind == "ScaledJob":
        # The generated model cannot hold an int where the Job schema allows int-or-string
        # (resource quantities): the Job template's types are checked as a batch/v1 Job
        # (kubernetes-validate, test_workflows_manifests.py); its keys are checked below.
        spec = {**spec, "jobTargetRef": {"template": {}}}
    try:
        model.model_validate({**obj, "spec": spec})
        strict_unknown_keys(model, obj)
    except (ValidationError, UnknownKeyError) as exc:
        return [f"{where}: {exc}"]
    return [
        f"{where}: spec.{section}.{key} {value!r} is not one of {', '.join(allowed)}"
        for (k, section, key), allowed in KEDA_ENUMS.items()
        if k == kind
        and (value := (spec.get(section) or {}).get(key)) is not None
        and value not in allowed
    ]
