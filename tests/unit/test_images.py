"""Image references: parsing (Docker's grammar: host defaulting, tag, digest) and re-pointing
them through the stack registry's cache rules."""

from __future__ import annotations

import pytest

from components.registry.cache import login_server, through_registry, upstream_of
from offline.images import parse_image

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("image", "host", "repository", "tag", "digest"),
    [
        ("ghcr.io/mlflow/mlflow:v3.17.2-full", "ghcr.io", "mlflow/mlflow", "v3.17.2-full", ""),
        ("postgres:17.10-alpine", "docker.io", "library/postgres", "17.10-alpine", ""),
        ("qdrant/qdrant:v1.19.0", "docker.io", "qdrant/qdrant", "v1.19.0", ""),
        (
            "nvcr.io/nvidia/k8s-device-plugin:v0.18.0",
            "nvcr.io",
            "nvidia/k8s-device-plugin",
            "v0.18.0",
            "",
        ),
        (f"mcr.microsoft.com/a/b@{DIGEST}", "mcr.microsoft.com", "a/b", "", DIGEST),
        (f"localhost:5000/x/y:1.2@{DIGEST}", "localhost:5000", "x/y", "1.2", DIGEST),
        ("myacr.azurecr.io/team/app", "myacr.azurecr.io", "team/app", "", ""),
    ],
)
def test_parse_image(image: str, host: str, repository: str, tag: str, digest: str) -> None:
    ref = parse_image(image)
    assert (ref.host, ref.repository, ref.tag, ref.digest) == (host, repository, tag, digest)


def test_parse_image_fully_qualified_reference() -> None:
    assert parse_image("postgres:17").reference == "docker.io/library/postgres:17"


@pytest.mark.parametrize("bad", ["", " ghcr.io/x:1", "ghcr.io/:1"])
def test_parse_image_rejects_non_references(bad: str) -> None:
    with pytest.raises(ValueError, match="not an image reference"):
        parse_image(bad)


LOGIN = "crunit1234.azurecr.io"


@pytest.mark.parametrize(
    ("upstream", "pulled"),
    [
        ("ghcr.io/mlflow/mlflow:v3.17.2-full", f"{LOGIN}/ghcr/mlflow/mlflow:v3.17.2-full"),
        # Docker Hub official images live under library/ (the path the cache rule fetches).
        ("postgres:17.10-alpine", f"{LOGIN}/dockerhub/library/postgres:17.10-alpine"),
        ("docker.io/qdrant/qdrant:v1.19.0", f"{LOGIN}/dockerhub/qdrant/qdrant:v1.19.0"),
        (
            "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless",
            f"{LOGIN}/nvcr/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless",
        ),
        (f"mcr.microsoft.com/a/b:1.0@{DIGEST}", f"{LOGIN}/mcr/a/b:1.0@{DIGEST}"),
        # Already in the stack's registry (built by CI): unchanged.
        (f"{LOGIN}/aks-mlops/workloads@{DIGEST}", f"{LOGIN}/aks-mlops/workloads@{DIGEST}"),
    ],
)
def test_through_registry_points_upstream_images_at_the_cache(upstream: str, pulled: str) -> None:
    assert through_registry(upstream, LOGIN) == pulled
    assert through_registry(upstream, None) == upstream


def test_through_registry_rejects_a_host_without_cache_prefix() -> None:
    with pytest.raises(ValueError, match=r"quay.io has no cache rule prefix \(known: docker.io"):
        through_registry("quay.io/kuberay/operator:v1.4.2", LOGIN)


@pytest.mark.parametrize(
    ("pulled", "upstream"),
    [
        (f"{LOGIN}/ghcr/mlflow/mlflow:v3.17.2-full", "ghcr.io/mlflow/mlflow:v3.17.2-full"),
        (f"{LOGIN}/dockerhub/library/postgres:17", "docker.io/library/postgres:17"),
        (f"{LOGIN}/aks-mlops/workloads:1.2.0", None),
        (f"{LOGIN}/ghcr", None),
        ("ghcr.io/mlflow/mlflow:v3.17.2-full", None),
        ("othercr.azurecr.io/ghcr/mlflow/mlflow:v3", None),
    ],
)
def test_upstream_of_a_cached_reference(pulled: str, upstream: str | None) -> None:
    found = upstream_of(pulled, LOGIN)
    assert (found.reference if found else None) == upstream


def test_login_server_is_the_lowercase_registry_name_under_azurecr_io() -> None:
    # https://learn.microsoft.com/azure/container-registry/container-registry-get-started-portal
    assert login_server("crMlopsDev1a2b") == "crmlopsdev1a2b.azurecr.io"
