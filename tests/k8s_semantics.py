"""References inside and between Kubernetes objects, as the API server and kubelet resolve them.

Schema validation accepts a pod whose volume mount names no volume, a probe on a port name the
container does not declare, or a Service whose ``targetPort`` names no port of the pods it
selects; the cluster rejects the first and never routes or probes the others. :func:`problems`
also runs the API server's validation rules (:mod:`tests.k8s_validation`), KEDA's CRDs
(:func:`tests.manifests.crds.keda_problems`) and Pod Security admission
(:mod:`tests.pod_security`). It runs on every object the component harness records
(``tests/conftest.py``) and on every stack's objects (tests/stacks/test_k8s_references.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tests import k8s_validation, pod_security
from tests.manifests.crds import KEDA_MODELS, keda_problems

Obj = Mapping[str, Any]


def pod_templates(obj: Obj) -> Iterator[Obj]:
    """The pod templates of a workload object (built-in, KEDA ScaledJob or KubeRay RayJob)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        yield spec.get("template") or {}
    elif kind == "CronJob":
        yield ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    elif kind == "ScaledJob":
        yield (spec.get("jobTargetRef") or {}).get("template") or {}
    elif kind == "RayJob":
        cluster = spec.get("rayClusterSpec") or {}
        yield (cluster.get("headGroupSpec") or {}).get("template") or {}
        for group in cluster.get("workerGroupSpecs") or []:
            yield group.get("template") or {}


def _containers(pod: Obj) -> list[Obj]:
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _probe_ports(container: Obj) -> Iterator[object]:
    for key in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(key) or {}
        for action in ("httpGet", "tcpSocket", "grpc"):
            if action in probe:
                yield probe[action].get("port")


def claim_templates(obj: Obj) -> set[str]:
    """Volumes a StatefulSet adds to its pods from its claim templates."""
    claims = (obj.get("spec") or {}).get("volumeClaimTemplates") or []
    return {str((c.get("metadata") or {}).get("name")) for c in claims}


def pod_problems(name: str, template: Obj, claims: frozenset[str] = frozenset()) -> list[str]:
    """Mounts naming no volume; probes naming no port of their container."""
    pod = template.get("spec") or {}
    volumes = {v.get("name") for v in pod.get("volumes") or []} | claims
    problems = []
    for c in _containers(pod):
        for mount in c.get("volumeMounts") or []:
            if mount.get("name") not in volumes:
                problems.append(f"{name}/{c.get('name')}: mount {mount.get('name')!r}, no volume")
        ports = {p.get("name") for p in c.get("ports") or []}
        for port in _probe_ports(c):
            if isinstance(port, str) and port not in ports:
                problems.append(f"{name}/{c.get('name')}: probe on port {port!r}, not declared")
    return problems


def service_problems(objects: list[Obj]) -> list[str]:
    """Named ``targetPort``s that no container of the selected pods declares."""
    pods = [(o.get("metadata", {}).get("namespace"), t) for o in objects for t in pod_templates(o)]
    problems = []
    for svc in (o for o in objects if o.get("kind") == "Service"):
        namespace = svc.get("metadata", {}).get("namespace")
        selector = (svc.get("spec") or {}).get("selector") or {}
        selected = [
            t
            for ns, t in pods
            if ns == namespace
            and selector
            and selector.items() <= ((t.get("metadata") or {}).get("labels") or {}).items()
        ]
        if not selected:
            continue
        names = {
            p.get("name")
            for t in selected
            for c in _containers(t.get("spec") or {})
            for p in c.get("ports") or []
        }
        for port in (svc.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort")
            if isinstance(target, str) and target not in names:
                svc_name = svc.get("metadata", {}).get("name")
                problems.append(f"Service {svc_name}: targetPort {target!r} names no pod port")
    return problems


def problems(objects: list[Obj]) -> list[str]:
    """Every problem among ``objects`` (manifests): references, API validation, KEDA's CRDs,
    and the Pod Security level of each pod's namespace (when that Namespace is among them)."""
    levels = pod_security.enforced_levels(objects)
    out = []
    for o in objects:
        kind, meta = o.get("kind"), o.get("metadata") or {}
        name = f"{kind}/{meta.get('name')}"
        out += k8s_validation.object_problems(name, o)
        if kind == "Namespace":
            out += pod_security.namespace_problems(o)
        if kind in KEDA_MODELS and str(o.get("apiVersion", "")).startswith("keda.sh/"):
            out += keda_problems(dict(o))
        for template in pod_templates(o):
            spec = template.get("spec") or {}
            out += pod_problems(name, template, frozenset(claim_templates(o)))
            out += k8s_validation.pod_spec_problems(name, spec, kind)
            out += pod_security.pod_problems(name, spec, levels.get(str(meta.get("namespace"))))
    return out + service_problems(objects)
