"""The container image inventory of a stack, from the offline run's recorded resources.

Every container (init and app) of every Kubernetes workload object the program registers,
with the image reference split the way a registry sees it: upstream host, repository, tag and
digest. This is the list the CVE gate scans and the list ACR cache rules must cover; it reads
the mock run's inputs only (no cluster, no registry calls).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from offline.runner import OfflineRun, RecordedResource
from policies.kubernetes import POD_OWNERS, containers, pod_spec

DOCKER_HUB = "docker.io"
"""The registry an image reference without a host resolves to (Docker's default)."""


@dataclass(frozen=True, kw_only=True)
class ImageRef:
    """An image reference split into its parts."""

    host: str
    """Registry host (``docker.io`` when the reference names none)."""
    repository: str
    """Repository path (``library/<name>`` for Docker Hub official images)."""
    tag: str
    """Tag, or empty when the reference names only a digest."""
    digest: str
    """``sha256:...`` when pinned by digest, else empty."""

    @property
    def reference(self) -> str:
        """The fully qualified reference (host, repository, tag and/or digest)."""
        ref = f"{self.host}/{self.repository}"
        if self.tag:
            ref += f":{self.tag}"
        if self.digest:
            ref += f"@{self.digest}"
        return ref


def parse_image(image: str) -> ImageRef:
    """Split a container image reference (Docker's reference grammar, host defaulting).

    The first path segment is a registry host only when it contains ``.`` or ``:`` or is
    ``localhost``; otherwise the image is on Docker Hub, and a one-segment name lives under
    ``library/``.
    """
    if not image or image != image.strip():
        raise ValueError(f"not an image reference: {image!r}")
    rest, _, digest = image.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, remainder
    else:
        host, path = DOCKER_HUB, rest
    # A ':' in the last segment separates the tag (the host's port is already split off).
    name, tag = path, ""
    if ":" in path.rsplit("/", 1)[-1]:
        name, _, tag = path.rpartition(":")
    if host == DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    if not name:
        raise ValueError(f"not an image reference: {image!r}")
    return ImageRef(host=host, repository=name, tag=tag, digest=digest)


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
    host: str
    repository: str
    tag: str
    digest: str

    def as_json(self) -> dict[str, str]:
        """A flat JSON object (adds ``reference``, the fully qualified form)."""
        out = asdict(self)
        out["reference"] = ImageRef(
            host=self.host, repository=self.repository, tag=self.tag, digest=self.digest
        ).reference
        return out


def _top_component(record: RecordedResource, by_urn: dict[str, RecordedResource]) -> str:
    while record.parent and record.parent in by_urn:
        record = by_urn[record.parent]
    return record.name


def _uses(run: OfflineRun) -> Iterator[ImageUse]:
    by_urn = {r.urn: r for r in run.resources}
    for r in run.resources:
        if not r.custom or r.type not in POD_OWNERS:
            continue
        kind = r.type.rsplit(":", 1)[-1]
        for c in containers(pod_spec(r.inputs, r.type)):
            image = str(c.get("image", ""))
            ref = parse_image(image)
            yield ImageUse(
                component=_top_component(r, by_urn),
                object=f"{kind}/{r.name}",
                container=str(c.get("name", "")),
                image=image,
                host=ref.host,
                repository=ref.repository,
                tag=ref.tag,
                digest=ref.digest,
            )


def inventory(run: OfflineRun) -> list[ImageUse]:
    """Every container image use of the stack, sorted by component, object and container."""
    return sorted(_uses(run), key=lambda u: (u.component, u.object, u.container))


def upstream_hosts(uses: list[ImageUse]) -> list[str]:
    """The distinct registry hosts the stack pulls from (sorted)."""
    return sorted({u.host for u in uses})


def unique_references(uses: list[ImageUse]) -> list[str]:
    """Distinct fully qualified references (what a scanner pulls once each)."""
    return sorted({u.as_json()["reference"] for u in uses})
