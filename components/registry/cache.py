"""ACR artifact cache: third-party images pulled through the stack's registry.

A cache rule maps a target repository in the stack's registry to a source repository
upstream; on the first pull ACR fetches the image upstream and keeps it. One
repository-level wildcard rule per upstream host (``ghcr/*`` => ``ghcr.io/*``); the
prefixes are distinct so the rules never overlap, which ACR refuses
(https://learn.microsoft.com/azure/container-registry/wildcards-artifact-cache).
Artifact cache is available on the Basic, Standard and Premium tiers
(https://learn.microsoft.com/azure/container-registry/artifact-cache-overview).

**Rendering an image.** Config and component defaults keep the *upstream* reference (what a
user reads in release notes, e.g. ``ghcr.io/mlflow/mlflow:v3.17.2-full``); whatever writes a
container's ``image`` passes it through :func:`through_registry` with the stack's login
server, so the manifest names ``<registry>.azurecr.io/ghcr/mlflow/mlflow:v3.17.2-full`` and
the kubelet pulls it from the registry with its AcrPull identity. The composition
(``infra/workloads.py``) does this where it hands images to components::

    image=cache.through_registry(cfg.mlflow.image, inputs.image_registry)

``login_server=None`` (``registry.cacheRulesEnabled: false``) leaves the upstream reference.
An image already in the stack's registry (CI-built workloads, ``<login server>/<repo>``) is
returned unchanged. An upstream host without a prefix here raises: add the host to
:data:`TARGET_PREFIXES` (an upstream ACR supports) and to ``registry.cacheUpstreams``.

The Kubernetes provider waits for the rules (and the kubelet's AcrPull assignment): nothing
applied to the cluster can pull through a rule that does not exist yet
(``ContainerRegistry.pull_ready_ids``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TARGET_PREFIXES: dict[str, str] = {
    "docker.io": "dockerhub",
    "ghcr.io": "ghcr",
    "nvcr.io": "nvcr",
    "mcr.microsoft.com": "mcr",
}
"""Upstream host -> repository prefix in the stack's registry (an image is then pulled as
``<registry>.azurecr.io/<prefix>/<upstream repository>:<tag>``)."""

DOCKER_HUB = "docker.io"
"""The registry an image reference without a host resolves to (Docker's default)."""

ACR_DOMAIN = "azurecr.io"
"""Login server domain of registries in Azure's public cloud: ``<registry name>.azurecr.io``
(https://learn.microsoft.com/azure/container-registry/container-registry-get-started-portal)."""

# A DNS name with at least one dot (what a registry host looks like in an image reference).
REGISTRY_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def rule_name(host: str) -> str:
    """``cache-<prefix>``: the cache rule's name (letters, digits, hyphens; 5-50)."""
    return f"cache-{TARGET_PREFIXES[host]}"


def credential_set_name(host: str) -> str:
    """``creds-<prefix>``: the credential set's name (letters, digits, hyphens; 5-50)."""
    return f"creds-{TARGET_PREFIXES[host]}"


def source_repository(host: str) -> str:
    """Every repository of the upstream host."""
    return f"{host}/*"


def target_repository(host: str) -> str:
    """Every repository under the host's prefix in the stack's registry."""
    return f"{TARGET_PREFIXES[host]}/*"


def login_server(registry_name: str) -> str:
    """The registry's login server, known before the registry exists (names are lowercase)."""
    return f"{registry_name.lower()}.{ACR_DOMAIN}"


@dataclass(frozen=True)
class ImageParts:
    """An image reference split the way a registry sees it."""

    host: str
    """Registry host (``docker.io`` when the reference names none)."""
    repository: str
    """Repository path (``library/<name>`` for Docker Hub official images)."""
    tag: str
    """Tag, or empty when the reference names only a digest."""
    digest: str
    """``sha256:...`` when pinned by digest, else empty."""

    @property
    def suffix(self) -> str:
        """``:<tag>`` and/or ``@<digest>`` as written."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def reference(self) -> str:
        """The fully qualified reference."""
        return f"{self.host}/{self.repository}{self.suffix}"


def split_image(image: str) -> ImageParts:
    """Split a container image reference (Docker's reference grammar, host defaulting).

    The first path segment is a registry host only when it contains ``.`` or ``:`` or is
    ``localhost``; otherwise the image is on Docker Hub, and a one-segment name lives under
    ``library/`` (the path ACR's Docker Hub cache rules use, too).
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
    return ImageParts(host=host, repository=name, tag=tag, digest=digest)


def through_registry(image: str, login_server: str | None) -> str:
    """The reference the kubelet pulls ``image`` by: through the registry's cache rule.

    ``login_server`` None (cache rules off) returns ``image`` as written; an image already in
    that registry is returned unchanged.
    """
    if login_server is None:
        return image
    parts = split_image(image)
    if parts.host == login_server:
        return image
    prefix = TARGET_PREFIXES.get(parts.host)
    if prefix is None:
        raise ValueError(
            f"image {image!r}: its registry {parts.host} has no cache rule prefix "
            f"(known: {', '.join(sorted(TARGET_PREFIXES))})"
        )
    return f"{login_server}/{prefix}/{parts.repository}{parts.suffix}"


def upstream_of(image: str, login_server: str) -> ImageParts | None:
    """The upstream image a reference pulled through ``login_server``'s cache stands for.

    None when ``image`` is not a cached reference of that registry (an upstream image, or an
    image of the registry's own, e.g. built by CI).
    """
    parts = split_image(image)
    if parts.host != login_server:
        return None
    prefix, _, path = parts.repository.partition("/")
    hosts = {p: h for h, p in TARGET_PREFIXES.items()}
    if prefix not in hosts or not path:
        return None
    return ImageParts(host=hosts[prefix], repository=path, tag=parts.tag, digest=parts.digest)
