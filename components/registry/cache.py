"""ACR artifact cache: which upstream registries the stack's registry may pull through.

A cache rule maps a target repository in the stack's registry to a source repository
upstream; on the first pull ACR fetches the image upstream and keeps it. One
repository-level wildcard rule per upstream host (``ghcr/*`` => ``ghcr.io/*``); the
prefixes are distinct so the rules never overlap, which ACR refuses
(https://learn.microsoft.com/azure/container-registry/wildcards-artifact-cache).
Artifact cache is available on the Basic, Standard and Premium tiers
(https://learn.microsoft.com/azure/container-registry/artifact-cache-overview).
"""

from __future__ import annotations

import re

TARGET_PREFIXES: dict[str, str] = {
    "docker.io": "dockerhub",
    "ghcr.io": "ghcr",
    "nvcr.io": "nvcr",
    "mcr.microsoft.com": "mcr",
}
"""Upstream host -> repository prefix in the stack's registry (an image is then pulled as
``<registry>.azurecr.io/<prefix>/<upstream repository>:<tag>``)."""

# A DNS name with at least one dot (what a registry host looks like in an image reference).
REGISTRY_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def rule_name(host: str) -> str:
    """``cache-<prefix>``: the cache rule's name (letters, digits, hyphens; 5-50)."""
    return f"cache-{TARGET_PREFIXES[host]}"


def source_repository(host: str) -> str:
    """Every repository of the upstream host."""
    return f"{host}/*"


def target_repository(host: str) -> str:
    """Every repository under the host's prefix in the stack's registry."""
    return f"{TARGET_PREFIXES[host]}/*"
