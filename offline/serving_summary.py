"""What the offline plan says about serving: the release as deployed, and per-object settings.

:func:`release_rows` reads the recorded Kubernetes objects, not the config: a row is what a
``pulumi up`` would apply (the model server's exact model version from its environment, its
image with the registry in front, KEDA's bounds and target from the ScaledObject).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contract import workloads as env
from offline.runner import OfflineRun

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
WORKSPACE = "kubernetes:kaito.sh/v1beta1:Workspace"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


@dataclass(frozen=True)
class ReleaseRow:
    """One served model version as the stack would deploy it."""

    model: str
    version: str
    image: str
    replicas: str
    target: str
    resources: str
    placement: str
    ingress: str


def _env(container: Mapping[str, Any]) -> dict[str, str]:
    return {e.get("name", ""): str(e.get("value", "")) for e in container.get("env") or []}


def release_rows(run: OfflineRun) -> list[ReleaseRow]:
    """A row per model server Deployment (those with a model to serve)."""
    scalers = {
        (r.inputs.get("metadata") or {}).get("name"): r.inputs.get("spec") or {}
        for r in run.resources
        if r.type == SCALED_OBJECT
    }
    ingresses = {
        (r.inputs.get("metadata") or {}).get("name") for r in run.resources if r.type == INGRESS
    }
    rows: list[ReleaseRow] = []
    for record in run.resources:
        if record.type != DEPLOYMENT:
            continue
        name = (record.inputs.get("metadata") or {}).get("name")
        pod = ((record.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
            values = _env(container)
            if env.SERVE_MODEL_NAME not in values:
                continue
            rows.append(_row(values, container, pod, scalers.get(name) or {}, name in ingresses))
    return rows


def _row(
    values: Mapping[str, str],
    container: Mapping[str, Any],
    pod: Mapping[str, Any],
    scaler: Mapping[str, Any],
    ingress: bool,
) -> ReleaseRow:
    trigger = ((scaler.get("triggers") or [{}])[0].get("metadata")) or {}
    res = container.get("resources") or {}
    requests, limits = res.get("requests") or {}, res.get("limits") or {}
    gpu = limits.get("nvidia.com/gpu")
    selector = pod.get("nodeSelector") or {}
    return ReleaseRow(
        model=values[env.SERVE_MODEL_NAME],
        version=values.get(env.SERVE_MODEL_VERSION, "?"),
        image=str(container.get("image")),
        replicas=(
            f"{_int(scaler.get('minReplicaCount'))}..{_int(scaler.get('maxReplicaCount'))} (KEDA)"
            if scaler
            else "no autoscaler"
        ),
        target=f"{trigger.get('threshold', '?')} req/s per replica",
        resources=(
            f"cpu {requests.get('cpu')}/{limits.get('cpu')}, "
            f"memory {requests.get('memory')}/{limits.get('memory')}"
            + (f", gpu {gpu}" if gpu else "")
        ),
        placement=",".join(f"{k}={v}" for k, v in selector.items()),
        ingress="internal" if ingress else "off",
    )


def llm_rows(run: OfflineRun) -> list[tuple[str, str, str]]:
    """(workspace, preset, instance type) per KAITO Workspace."""
    return [
        (
            str((r.inputs.get("metadata") or {}).get("name")),
            str(((r.inputs.get("inference") or {}).get("preset") or {}).get("name")),
            str((r.inputs.get("resource") or {}).get("instanceType")),
        )
        for r in run.resources
        if r.type == WORKSPACE
    ]


def _int(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _scaled_object(i: Mapping[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    triggers = spec.get("triggers") or []
    out = [f"{_int(spec.get('minReplicaCount'))}..{_int(spec.get('maxReplicaCount'))} replicas"]
    for trigger in triggers:
        meta = trigger.get("metadata") or {}
        out.append(f"{trigger.get('type')} {meta.get('query')} / {meta.get('threshold')}")
    return out


SERVING_SUMMARIZERS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    SCALED_OBJECT: _scaled_object,
    WORKSPACE: lambda i: [
        f"preset {((i.get('inference') or {}).get('preset') or {}).get('name')}",
        f"instanceType {(i.get('resource') or {}).get('instanceType')}",
    ],
    INGRESS: lambda i: [f"class {(i.get('spec') or {}).get('ingressClassName')}"],
}
