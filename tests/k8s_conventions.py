"""The project's own rules for every pod it renders (beyond what the API server enforces,
which ``tests/k8s_semantics.py`` checks). Run on every object the component harness records
(``tests/conftest.py``) and on every shipped stack (tests/stacks/test_k8s_references.py).

- No pod mounts a Kubernetes API token: none of the program's workloads talks to the API
  server, and Entra workload identity projects its own token (the webhook's
  ``azure-identity-token`` volume) whatever ``automountServiceAccountToken`` says
  (https://learn.microsoft.com/azure/aks/workload-identity-overview).
- Every volume a pod declares is mounted by one of its containers: a declared, unmounted
  volume is a mount that went missing (the Key Vault secrets, a scratch directory under a
  read-only root file system).
- Every volume names exactly one source (the API server rejects none or two; a schema
  validator accepts a volume with a name only).
"""

from __future__ import annotations

from tests.k8s_semantics import Obj, pod_templates

# Volume sources of core/v1 Volume (the Kubernetes API reference, "Volume" fields).
VOLUME_SOURCES = frozenset(
    {
        "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap",
        "csi", "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume", "flocker",
        "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "image", "iscsi", "nfs",
        "persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected",
        "quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume",
    }
)  # fmt: skip


def pod_convention_problems(name: str, template: Obj) -> list[str]:
    """The rules above for one pod template."""
    pod = template.get("spec") or {}
    problems = []
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: automountServiceAccountToken is not false")
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    mounted = {m.get("name") for c in containers for m in c.get("volumeMounts") or []}
    for volume in pod.get("volumes") or []:
        sources = sorted(k for k in volume if k in VOLUME_SOURCES and volume[k] is not None)
        if len(sources) != 1:
            problems.append(f"{name}: volume {volume.get('name')!r} has sources {sources}")
        if volume.get("name") not in mounted:
            problems.append(f"{name}: volume {volume.get('name')!r} is mounted by no container")
    return problems


def problems(objects: list[Obj]) -> list[str]:
    """Every convention problem among ``objects`` (manifests)."""
    out = []
    for o in objects:
        name = f"{o.get('kind')}/{(o.get('metadata') or {}).get('name')}"
        for template in pod_templates(o):
            out += pod_convention_problems(name, template)
    return out
