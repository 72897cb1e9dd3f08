"""Pod Security admission: a namespace's ``pod-security.kubernetes.io/enforce`` level refuses pods.

The levels are the Pod Security Standards
(https://kubernetes.io/docs/concepts/security/pod-security-standards/), as the admission plugin
checks them (k8s.io/kubernetes ``staging/src/k8s.io/pod-security-admission/policy/check_*.go``).
The API server accepts a Deployment whose pods its namespace refuses: the controller then fails
to create every pod, so the schema checks and a green ``pulumi up`` both miss it. Covered here:
host namespaces, privileged, added capabilities, hostPath, hostPorts, seccomp and procMount
(baseline); volume types, privilege escalation, non-root, dropped capabilities (restricted).
Not covered (the program sets none of them): AppArmor, SELinux options, sysctls, Windows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = Mapping[str, Any]

LEVELS = ("privileged", "baseline", "restricted")
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
MODE_LABELS = (ENFORCE_LABEL, "pod-security.kubernetes.io/audit", "pod-security.kubernetes.io/warn")
# check_capabilities_baseline.go: the container runtime's default set.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
RESTRICTED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
# check_restrictedVolumes.go: the only volume sources restricted admits.
RESTRICTED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
RESTRICTED_SECCOMP = ("RuntimeDefault", "Localhost")


def namespace_problems(namespace: Obj) -> list[str]:
    """Every Namespace names its enforced level (the platform's rule: no namespace falls back
    to the cluster default), and each mode label names a real level."""
    meta = namespace.get("metadata") or {}
    labels = meta.get("labels") or {}
    where = f"Namespace/{meta.get('name')}"
    out = [] if ENFORCE_LABEL in labels else [f"{where}: no {ENFORCE_LABEL} label"]
    for label in MODE_LABELS:
        if label in labels and labels[label] not in LEVELS:
            out.append(f"{where}: {label} {labels[label]!r} is not one of {', '.join(LEVELS)}")
    return out


def enforced_levels(objects: list[Obj]) -> dict[str, str]:
    """Namespace name -> enforced level, for the Namespace objects among ``objects``."""
    return {
        str((o.get("metadata") or {}).get("name")): str(
            ((o.get("metadata") or {}).get("labels") or {})[ENFORCE_LABEL]
        )
        for o in objects
        if o.get("kind") == "Namespace"
        and ENFORCE_LABEL in ((o.get("metadata") or {}).get("labels") or {})
    }


def _containers(pod: Obj) -> list[Obj]:
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _context(container: Obj) -> Obj:
    return container.get("securityContext") or {}


def _baseline(pod: Obj) -> list[str]:
    out = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    volumes = pod.get("volumes") or []
    out += [f"hostPath volume {v.get('name')!r}" for v in volumes if "hostPath" in v]
    pod_seccomp = ((pod.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    if pod_seccomp == "Unconfined":
        out.append("pod seccompProfile Unconfined")
    for c in _containers(pod):
        name, context = c.get("name"), _context(c)
        if context.get("privileged"):
            out.append(f"container {name!r} privileged")
        added = set((context.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            out.append(f"container {name!r} adds {sorted(added)}")
        if any(p.get("hostPort") for p in c.get("ports") or []):
            out.append(f"container {name!r} hostPort")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            out.append(f"container {name!r} seccompProfile Unconfined")
        if context.get("procMount") not in (None, "Default"):
            out.append(f"container {name!r} procMount {context.get('procMount')!r}")
    return out


def _restricted(pod: Obj) -> list[str]:
    out = [
        f"volume {v.get('name')!r} of type {sorted(set(v) - {'name'})}"
        for v in pod.get("volumes") or []
        if not set(v) - {"name"} <= RESTRICTED_VOLUMES
    ]
    pod_context = pod.get("securityContext") or {}
    non_root = pod_context.get("runAsNonRoot")
    if non_root is False:
        out.append("pod runAsNonRoot=false")
    if pod_context.get("runAsUser") == 0:
        out.append("pod runAsUser=0")
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type") in RESTRICTED_SECCOMP
    for c in _containers(pod):
        name, context = c.get("name"), _context(c)
        if context.get("allowPrivilegeEscalation") is not False:
            out.append(f"container {name!r} must set allowPrivilegeEscalation=false")
        own = context.get("runAsNonRoot")
        if own is False or (own is None and non_root is not True):
            out.append(f"pod or container {name!r} must set runAsNonRoot=true")
        if context.get("runAsUser") == 0:
            out.append(f"container {name!r} runAsUser=0")
        seccomp = (context.get("seccompProfile") or {}).get("type")
        if seccomp not in RESTRICTED_SECCOMP and (seccomp is not None or not pod_seccomp):
            out.append(f"pod or container {name!r} needs seccompProfile RuntimeDefault/Localhost")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            out.append(f"container {name!r} must drop ALL capabilities")
        added = set(capabilities.get("add") or []) - RESTRICTED_CAPABILITIES
        if added:
            out.append(f"container {name!r} may add only NET_BIND_SERVICE, not {sorted(added)}")
    return out


def pod_problems(where: str, pod: Obj, level: str | None) -> list[str]:
    """What the ``level`` a pod's namespace enforces refuses in the pod spec ``pod``."""
    if level not in ("baseline", "restricted"):
        return []
    found = _baseline(pod) + (_restricted(pod) if level == "restricted" else [])
    return [f"{where}: Pod Security {level!r} refuses {detail}" for detail in found]
