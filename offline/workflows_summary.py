"""One-line settings of the workflows' objects for the offline plan: each retrain and ingestion
trigger (what it counts or queries, its threshold, how many Jobs at most), the schedule, KEDA's
identity, the Ray job and the KubeRay chart. The identities' federations and roles are shown by
the general summarizers (subject; role on scope)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def _n(value: Any) -> str:
    """Whole numbers without the wire format's ``.0``."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _trigger(t: Mapping[str, Any]) -> str:
    meta = t.get("metadata") or {}
    if t.get("type") == "azure-blob":
        return (
            f"azure-blob {meta.get('blobContainerName')}/{meta.get('blobPrefix', '')} "
            f">= {meta.get('blobCount')} blob(s)"
        )
    if t.get("type") == "prometheus":
        return f"prometheus {meta.get('query')} > {meta.get('activationThreshold')}"
    return str(t.get("type"))


def _pool(pod: Mapping[str, Any]) -> list[str]:
    selector = pod.get("nodeSelector") or {}
    limits = ((pod.get("containers") or [{}])[0].get("resources") or {}).get("limits") or {}
    out = ["on " + ",".join(f"{k}={v}" for k, v in selector.items())] if selector else []
    if "nvidia.com/gpu" in limits:
        out.append(f"gpu {limits['nvidia.com/gpu']}")
    return out


def _scaled_job(i: Mapping[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    pod = ((spec.get("jobTargetRef") or {}).get("template") or {}).get("spec") or {}
    return [
        *(_trigger(t) for t in spec.get("triggers") or []),
        f"max {_n(spec.get('maxReplicaCount'))} job(s)",
        *_pool(pod),
    ]


def _cron_job(i: Mapping[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    job = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = (job.get("template") or {}).get("spec") or {}
    return [
        f"schedule '{spec.get('schedule')}' {spec.get('timeZone', '')}".rstrip(),
        f"concurrency {spec.get('concurrencyPolicy')}",
        *_pool(pod),
    ]


def _trigger_auth(i: Mapping[str, Any]) -> list[str]:
    identity = (i.get("spec") or {}).get("podIdentity") or {}
    return [f"{identity.get('provider')} identity {identity.get('identityId')}"]


def _ray_job(i: Mapping[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    groups = (spec.get("rayClusterSpec") or {}).get("workerGroupSpecs") or []
    out = [str(spec.get("entrypoint"))]
    for g in groups:
        pod = (g.get("template") or {}).get("spec") or {}
        out.append(f"{_n(g.get('replicas'))} worker(s) " + " ".join(_pool(pod)))
    return out


WORKFLOWS_SUMMARIZERS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "kubernetes:keda.sh/v1alpha1:ScaledJob": _scaled_job,
    "kubernetes:batch/v1:CronJob": _cron_job,
    "kubernetes:keda.sh/v1alpha1:TriggerAuthentication": _trigger_auth,
    "kubernetes:ray.io/v1:RayJob": _ray_job,
    "kubernetes:helm.sh/v3:Release": lambda i: [f"chart {i.get('chart')} {i.get('version')}"],
}
