"""Render the Kubernetes objects of an offline run as YAML manifests.

Every ``kubernetes:*`` resource the program registered becomes one file under
``build/<stack>/manifests/``, named ``<NN>-<kind>-<namespace>-<name>.yaml`` and numbered in the
order a cluster can take them (namespaces first, workloads after what they mount, policies
last). The content is what Pulumi would send: the recorded inputs, with numbers that are
whole restored to integers (the wire format carries every number as a float) and keys
sorted, so two runs of the same program give byte-identical files. Secret inputs
stay ``[secret]``. The files are for reading, diffing and validating (kubernetes-validate,
checkov); ``pulumi up`` applies the objects itself.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.kit.kubernetes import block_str
from offline.runner import OfflineRun, RecordedResource

KUBERNETES_PREFIX = "kubernetes:"
HELM_PREFIX = "kubernetes:helm.sh/"
MANIFESTS_DIR = "manifests"


class _ManifestDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The program's ``BlockDumper`` rules (multi-line strings as ``|`` blocks) on libyaml's
    C emitter when PyYAML has it: the same bytes, without the pure-Python emitter's time
    (about a tenth of a plan's own work)."""


_ManifestDumper.add_representer(str, block_str)

# Apply order, the way Helm orders a release: what others reference comes first.
KIND_ORDER: tuple[str, ...] = (
    "Namespace",
    "StorageClass",
    "ServiceAccount",
    "ConfigMap",
    "SecretProviderClass",
    "PersistentVolumeClaim",
    "Service",
    "DaemonSet",
    "Deployment",
    "StatefulSet",
    "Job",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
    "PodMonitor",
    "TriggerAuthentication",
    "ScaledObject",
    "Workspace",
)
_HEAD_KEYS = ("apiVersion", "kind", "metadata")


def _normalise(value: Any) -> Any:
    """Whole floats back to ints; mapping keys sorted (the wire format keeps no order)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _normalise(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def manifest(resource: RecordedResource) -> dict[str, Any]:
    """The Kubernetes object of one recorded resource (Pulumi-internal keys dropped)."""
    body = _normalise(
        {k: v for k, v in resource.inputs.items() if not k.startswith("__") and v is not None}
    )
    head = {k: body.pop(k) for k in _HEAD_KEYS if k in body}
    return {**head, **body}


def kubernetes_resources(run: OfflineRun) -> list[RecordedResource]:
    """The run's Kubernetes objects in apply order (kind, then namespace, then name)."""
    # A Helm release is not an object of its own: Helm renders and applies its chart.
    found = [
        r
        for r in run.resources
        if r.custom and r.type.startswith(KUBERNETES_PREFIX) and not r.type.startswith(HELM_PREFIX)
    ]

    def key(resource: RecordedResource) -> tuple[int, str, str]:
        obj = manifest(resource)
        kind = str(obj.get("kind", ""))
        rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        meta = obj.get("metadata") or {}
        return rank, str(meta.get("namespace", "")), str(meta.get("name", resource.name))

    return sorted(found, key=key)


def manifest_filename(index: int, obj: Mapping[str, Any]) -> str:
    """``<NN>-<kind>-<namespace>-<name>.yaml``; cluster-scoped objects use ``cluster``."""
    meta = obj.get("metadata") or {}
    kind = str(obj.get("kind", "object")).lower()
    namespace = str(meta.get("namespace") or "cluster")
    return f"{index:02d}-{kind}-{namespace}-{meta.get('name', 'unnamed')}.yaml"


def write_manifests(run: OfflineRun, out_dir: Path) -> list[Path]:
    """Write ``<out_dir>/<stack>/manifests/*.yaml``, replacing the folder; returns the files.

    The new folder is filled beside the old one and swapped in, so a reader never sees a mix
    of two runs. A run with no Kubernetes objects leaves an empty folder.
    """
    stack_dir = out_dir / run.stack
    stack_dir.mkdir(parents=True, exist_ok=True)
    target = stack_dir / MANIFESTS_DIR
    staging = Path(tempfile.mkdtemp(prefix=f".{MANIFESTS_DIR}-", dir=stack_dir))
    names: list[str] = []
    try:
        for index, resource in enumerate(kubernetes_resources(run), start=1):
            obj = manifest(resource)
            name = manifest_filename(index, obj)
            (staging / name).write_text(
                # Scripts and SQL as `|` blocks, readable in a diff.
                yaml.dump(obj, Dumper=_ManifestDumper, sort_keys=False, default_flow_style=False)
            )
            names.append(name)
        if target.exists():
            shutil.rmtree(target)
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / name for name in names]
