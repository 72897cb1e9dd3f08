"""What the API server's validation code refuses although the OpenAPI schema accepts it.

kubeconform and kubernetes-validate check types and field names; many fields are plain strings
whose allowed values only the API server's Go validation knows (``operator: EXISTS`` is a valid
string, and a refused object). The enumerations below are the API reference's (the v1.36 field
descriptions, https://kubernetes.io/docs/reference/kubernetes-api/) and the checks follow
k8s.io/kubernetes ``pkg/apis/core/validation/validation.go`` (tolerations, node selector
requirements, pull policy, restart policy, ports, Services, seccomp), ``pkg/apis/batch/
validation`` (a Job's pods restart OnFailure or Never; CronJob concurrencyPolicy),
``pkg/apis/apps/validation`` (a Deployment's, StatefulSet's or DaemonSet's pods restart Always),
``pkg/apis/networking/validation`` (Ingress pathType, NetworkPolicy policyTypes) and apimachinery's
``ValidateLabelSelector``. Pod Security admission is in :mod:`tests.pod_security`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

Obj = Mapping[str, Any]

TOLERATION_OPERATORS = ("Exists", "Equal")
# Lt and Gt exist only behind the alpha feature gate TaintTolerationComparisonOperators (off on
# AKS, which enables no alpha gates).
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
LABEL_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("TCP", "UDP", "SCTP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
JOB_RESTART_POLICIES = ("OnFailure", "Never")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")
SECCOMP_TYPES = ("RuntimeDefault", "Localhost", "Unconfined")
FS_GROUP_CHANGE_POLICIES = ("OnRootMismatch", "Always")
HOST_PATH_TYPES = (
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
)
PROBE_SCHEMES = ("HTTP", "HTTPS")
POLICY_TYPES = ("Ingress", "Egress")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
UNHEALTHY_POD_EVICTION_POLICIES = ("IfHealthyBudget", "AlwaysAllow")
# spec.strategy.type (Deployment) / spec.updateStrategy.type (DaemonSet, StatefulSet).
UPDATE_STRATEGIES = {
    "Deployment": ("strategy", ("Recreate", "RollingUpdate")),
    "DaemonSet": ("updateStrategy", ("RollingUpdate", "OnDelete")),
    "StatefulSet": ("updateStrategy", ("RollingUpdate", "OnDelete")),
}
# A pod restartPolicy left unset is defaulted to Always before validation, so a Job's pod must
# name OnFailure or Never; controllers that keep pods running accept only Always.
JOB_KINDS = frozenset({"Job", "CronJob", "ScaledJob"})
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})


def one_of(where: str, field: str, value: object, allowed: Iterable[str]) -> list[str]:
    """A problem when ``value`` is set and not exactly (case included) one of ``allowed``."""
    allowed = tuple(allowed)
    if value is None or value in allowed:
        return []
    shown = ", ".join(v or '""' for v in allowed)
    return [f"{where}: {field} {value!r} is not one of {shown}"]


def label_selector_problems(where: str, selector: Obj | None) -> list[str]:
    """``matchExpressions``: the four set operators; In/NotIn need values, the others none."""
    out = []
    for req in (selector or {}).get("matchExpressions") or []:
        op, values = req.get("operator"), req.get("values") or []
        out += one_of(where, "matchExpressions operator", op, LABEL_SELECTOR_OPERATORS)
        if op in ("In", "NotIn") and not values:
            out.append(f"{where}: matchExpressions {req.get('key')!r} {op} needs values")
        if op in ("Exists", "DoesNotExist") and values:
            out.append(f"{where}: matchExpressions {req.get('key')!r} {op} takes no values")
    return out


def node_requirement_problems(where: str, req: Obj) -> list[str]:
    op, values = req.get("operator"), req.get("values") or []
    out = one_of(where, "node selector operator", op, NODE_SELECTOR_OPERATORS)
    key = req.get("key")
    if op in ("In", "NotIn") and not values:
        out.append(f"{where}: node selector {key!r} {op} needs values")
    if op in ("Exists", "DoesNotExist") and values:
        out.append(f"{where}: node selector {key!r} {op} takes no values")
    if op in ("Gt", "Lt") and (len(values) != 1 or not str(values[0]).lstrip("-").isdigit()):
        out.append(f"{where}: node selector {key!r} {op} needs one integer value")
    return out


def _node_selector_terms(affinity: Obj) -> Iterator[Obj]:
    node = affinity.get("nodeAffinity") or {}
    required = node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    yield from required.get("nodeSelectorTerms") or []
    for preferred in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
        yield preferred.get("preference") or {}


def _pod_affinity_selectors(affinity: Obj) -> Iterator[Obj]:
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = affinity.get(kind) or {}
        yield from rules.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        for weighted in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or []:
            yield weighted.get("podAffinityTerm") or {}


def toleration_problems(where: str, toleration: Obj) -> list[str]:
    op = toleration.get("operator")
    out = one_of(where, "toleration operator", op, TOLERATION_OPERATORS)
    out += one_of(where, "toleration effect", toleration.get("effect"), TAINT_EFFECTS)
    key = toleration.get("key")
    if op == "Exists" and toleration.get("value"):
        out.append(f"{where}: toleration {key!r} Exists takes no value")
    if not key and op != "Exists":
        out.append(f"{where}: toleration without a key must use operator Exists")
    if toleration.get("tolerationSeconds") is not None and toleration.get("effect") != "NoExecute":
        out.append(f"{where}: toleration {key!r} tolerationSeconds needs effect NoExecute")
    return out


def _seccomp_problems(where: str, context: Obj | None) -> list[str]:
    profile = (context or {}).get("seccompProfile")
    if not profile:
        return []
    out = one_of(where, "seccompProfile type", profile.get("type"), SECCOMP_TYPES)
    if profile.get("type") == "Localhost" and not profile.get("localhostProfile"):
        out.append(f"{where}: seccompProfile type Localhost needs a localhostProfile")
    if profile.get("type") != "Localhost" and profile.get("localhostProfile"):
        out.append(f"{where}: seccompProfile localhostProfile needs type Localhost")
    return out


# A resource quantity as the API server parses it (apimachinery resource.Quantity: a signed
# decimal number, then a binary suffix Ki..Ei, a decimal suffix n, u, m, "", k, M, G, T, P, E,
# or a decimal exponent). Case matters: "256mi" and "64MI" are refused, "1m" is a thousandth.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")


def quantity_problems(where: str, field: str, value: object) -> list[str]:
    """A quantity given as a string must parse; an int or float is a plain number."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return [f"{where}: {field} {value!r} is not a quantity"]
    if isinstance(value, str) and not QUANTITY.match(value):
        return [f"{where}: {field} {value!r} is not a quantity"]
    return []


def container_problems(where: str, container: Obj) -> list[str]:
    out = one_of(where, "imagePullPolicy", container.get("imagePullPolicy"), PULL_POLICIES)
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        for name, value in (resources.get(bound) or {}).items():
            out += quantity_problems(where, f"{bound}.{name}", value)
    for port in container.get("ports") or []:
        out += one_of(where, "port protocol", port.get("protocol"), PROTOCOLS)
    out += _seccomp_problems(where, container.get("securityContext"))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = (container.get(probe) or {}).get("httpGet") or {}
        out += one_of(where, f"{probe} scheme", http.get("scheme"), PROBE_SCHEMES)
    return out


def pod_spec_problems(where: str, pod: Obj, owner_kind: str | None) -> list[str]:
    """Everything above for one pod spec; ``owner_kind`` decides the allowed restartPolicy."""
    restart = pod.get("restartPolicy")
    out = one_of(where, "restartPolicy", restart, RESTART_POLICIES)
    if owner_kind in JOB_KINDS and restart not in JOB_RESTART_POLICIES:
        out.append(f"{where}: a {owner_kind}'s pods restart OnFailure or Never, not {restart!r}")
    if owner_kind in SERVING_KINDS and restart not in (None, "Always"):
        out.append(f"{where}: a {owner_kind}'s pods restart Always, not {restart!r}")
    for toleration in pod.get("tolerations") or []:
        out += toleration_problems(where, toleration)
    affinity = pod.get("affinity") or {}
    for term in _node_selector_terms(affinity):
        for req in [*(term.get("matchExpressions") or []), *(term.get("matchFields") or [])]:
            out += node_requirement_problems(where, req)
    for term in _pod_affinity_selectors(affinity):
        out += label_selector_problems(where, term.get("labelSelector"))
    for spread in pod.get("topologySpreadConstraints") or []:
        how = spread.get("whenUnsatisfiable")
        out += one_of(where, "whenUnsatisfiable", how, WHEN_UNSATISFIABLE)
        out += label_selector_problems(where, spread.get("labelSelector"))
    context = pod.get("securityContext") or {}
    out += _seccomp_problems(where, context)
    policy = context.get("fsGroupChangePolicy")
    out += one_of(where, "fsGroupChangePolicy", policy, FS_GROUP_CHANGE_POLICIES)
    for volume in pod.get("volumes") or []:
        size = (volume.get("emptyDir") or {}).get("sizeLimit")
        if size is not None:
            out += quantity_problems(f"{where}/{volume.get('name')}", "emptyDir sizeLimit", size)
        if "hostPath" in volume:
            kind = volume["hostPath"].get("type")
            out += one_of(f"{where}/{volume.get('name')}", "hostPath type", kind, HOST_PATH_TYPES)
    for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        out += container_problems(f"{where}/{c.get('name')}", c)
    return out


def _network_policy_problems(where: str, spec: Obj) -> list[str]:
    out = []
    for policy_type in spec.get("policyTypes") or []:
        out += one_of(where, "policyType", policy_type, POLICY_TYPES)
    out += label_selector_problems(where, spec.get("podSelector"))
    for rule, peers in [
        *((r, "from") for r in spec.get("ingress") or []),
        *((r, "to") for r in spec.get("egress") or []),
    ]:
        for peer in rule.get(peers) or []:
            out += label_selector_problems(where, peer.get("podSelector"))
            out += label_selector_problems(where, peer.get("namespaceSelector"))
        for port in rule.get("ports") or []:
            out += one_of(where, "port protocol", port.get("protocol"), PROTOCOLS)
    return out


def object_problems(where: str, obj: Obj) -> list[str]:
    """The object-level rules (the pod templates are checked by :func:`pod_spec_problems`)."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    out = []
    if kind in SERVING_KINDS or kind == "Job":
        out += label_selector_problems(where, spec.get("selector"))
    if kind in UPDATE_STRATEGIES:
        key, allowed = UPDATE_STRATEGIES[kind]
        out += one_of(where, f"{key} type", (spec.get(key) or {}).get("type"), allowed)
    if kind == "Service":
        out += one_of(where, "type", spec.get("type"), SERVICE_TYPES)
        for port in spec.get("ports") or []:
            out += one_of(where, "port protocol", port.get("protocol"), PROTOCOLS)
    elif kind == "CronJob":
        policy = spec.get("concurrencyPolicy")
        out += one_of(where, "concurrencyPolicy", policy, CONCURRENCY_POLICIES)
    elif kind == "Ingress":
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                # Required in networking.k8s.io/v1: an unset pathType is refused too.
                if path.get("pathType") is None:
                    out.append(f"{where}: path {path.get('path')!r} needs a pathType")
                out += one_of(where, "pathType", path.get("pathType"), PATH_TYPES)
    elif kind == "NetworkPolicy":
        out += _network_policy_problems(where, spec)
    elif kind == "PodDisruptionBudget":
        out += label_selector_problems(where, spec.get("selector"))
        policy = spec.get("unhealthyPodEvictionPolicy")
        out += one_of(where, "unhealthyPodEvictionPolicy", policy, UNHEALTHY_POD_EVICTION_POLICIES)
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            out.append(f"{where}: minAvailable and maxUnavailable are mutually exclusive")
    return out
