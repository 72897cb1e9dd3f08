"""Image reference parsing (Docker's reference grammar: host defaulting, tag, digest)."""

from __future__ import annotations

import pytest

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
