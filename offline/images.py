"""The container image inventory of a stack, from the offline run's recorded resources.

Every container (init and app) of every Kubernetes workload object the program registers,
with the image reference split the way a registry sees it: upstream host, repository, tag and
digest. An image pulled through the stack's registry cache
(``<registry>.azurecr.io/<prefix>/<repository>``) is listed by the upstream image it stands
for (what the CVE gate scans: the registry is private, the upstream is public); an image of
the registry's own (built by CI) is listed as ``source: registry``. It reads the mock run's
inputs only (no cluster, no registry calls).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from components.registry import cache
from offline.runner import OfflineRun, RecordedResource

DOCKER_HUB = cache.DOCKER_HUB
REGISTRY = "azure-native:containerregistry:Registry"
KUBERNETES = "kubernetes:"

Source = Literal["cache", "registry", "upstream"]
"""Where the kubelet pulls from: the stack registry's cache of an upstream image, the stack
registry's own repositories, or an upstream registry directly."""

ImageRef = cache.ImageParts


def parse_image(image: str) -> ImageRef:
    """Split a container image reference (see :func:`components.registry.cache.split_image`)."""
    return cache.split_image(image)


@dataclass(frozen=True, kw_only=True)
class ImageUse:
    """One container's image: where in the stack it is used, and the reference's parts."""

    component: str
    """Top-level component the object belongs to (e.g. ``mlflow``)."""
    object: str
    """Kubernetes kind and logical name, e.g. ``Deployment/mlflow-server``."""
    container: str
    """Container name (init containers included)."""
    image: str
    """The reference exactly as written in the manifest."""
    source: Source
    """Where the kubelet pulls it from (see :data:`Source`)."""
    host: str
    """Upstream host (for a cached image: the host the cache rule pulls from)."""
    repository: str
    tag: str
    digest: str

    def as_json(self) -> dict[str, str]:
        """A flat JSON object (adds ``reference``, the fully qualified upstream form)."""
        out = asdict(self)
        out["reference"] = ImageRef(
            host=self.host, repository=self.repository, tag=self.tag, digest=self.digest
        ).reference
        return out


def registry_login_server(run: OfflineRun) -> str | None:
    """The stack registry's login server (the mocks' computed output), if it has one."""
    for r in run.resources:
        if r.type == REGISTRY and isinstance(r.outputs.get("loginServer"), str):
            return str(r.outputs["loginServer"])
    return None


def _top_component(record: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    while record.parent and record.parent in by_urn:
        record = by_urn[record.parent]
    return record.name


def _classify(image: str, login_server: str | None) -> tuple[Source, ImageRef]:
    parts = parse_image(image)
    if login_server is not None and parts.host == login_server:
        upstream = cache.upstream_of(image, login_server)
        return ("cache", upstream) if upstream is not None else ("registry", parts)
    return "upstream", parts


def pod_containers(value: Any) -> Iterator[Mapping[str, Any]]:
    """Init and app containers of every pod spec anywhere inside a Kubernetes object.

    Any mapping with a ``containers`` list is a pod spec: Deployments, DaemonSets, Jobs and
    CronJobs, but also custom resources that embed pod templates (a KEDA ScaledJob's job
    target, a RayJob's head and worker groups) without this module knowing their layout.
    """
    if isinstance(value, Mapping):
        if isinstance(value.get("containers"), list):
            for group in ("initContainers", "containers"):
                yield from (c for c in value.get(group) or [] if isinstance(c, Mapping))
            return
        for item in value.values():
            yield from pod_containers(item)
    elif isinstance(value, list):
        for item in value:
            yield from pod_containers(item)


def _uses(run: OfflineRun) -> Iterator[ImageUse]:
    by_urn = {r.urn: r for r in run.resources}
    login_server = registry_login_server(run)
    for r in run.resources:
        if not r.custom or not r.type.startswith(KUBERNETES):
            continue
        kind = r.type.rsplit(":", 1)[-1]
        for c in pod_containers(r.inputs.get("spec")):
            image = str(c.get("image", ""))
            source, ref = _classify(image, login_server)
            yield ImageUse(
                component=_top_component(r, by_urn),
                object=f"{kind}/{r.name}",
                container=str(c.get("name", "")),
                image=image,
                source=source,
                host=ref.host,
                repository=ref.repository,
                tag=ref.tag,
                digest=ref.digest,
            )


def inventory(run: OfflineRun) -> list[ImageUse]:
    """Every container image use of the stack, sorted by component, object and container."""
    return sorted(_uses(run), key=lambda u: (u.component, u.object, u.container))


def upstream_hosts(uses: list[ImageUse]) -> list[str]:
    """The distinct upstream registry hosts the stack's third-party images come from."""
    return sorted({u.host for u in uses if u.source != "registry"})


def pulled_hosts(uses: list[ImageUse]) -> list[str]:
    """The distinct registry hosts the kubelet pulls from (as written in the manifests)."""
    return sorted({parse_image(u.image).host for u in uses})


def unique_references(uses: list[ImageUse]) -> list[str]:
    """Distinct upstream references of third-party images (what a scanner pulls once each;
    the registry's own images are scanned where CI builds them)."""
    return sorted({u.as_json()["reference"] for u in uses if u.source != "registry"})


def built_references(uses: list[ImageUse]) -> list[str]:
    """Distinct references of images from the stack registry's own repositories (CI-built)."""
    return sorted({u.image for u in uses if u.source == "registry"})
