"""Checkov skip annotations: a check that cannot pass is waived on the object, with its reason.

``make test`` runs checkov's Kubernetes checks over every stack's rendered manifests and fails
on any failed check. Where a check cannot pass for a reason a reviewer accepts (the NVIDIA
device plugin must run as root to reach the kubelet's socket directory; an image pinned by tag
whose digest cannot be resolved offline), the waiver is an annotation on the object itself,
``checkov.io/skip<N>: <CHECK_ID>=<reason>`` — checkov's own format (it splits the value at
``=``, so a reason never contains one). The reason travels with the object: a reviewer reading
the manifest sees why, and a new object gets no waiver it has not asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SKIP_ANNOTATION_PREFIX = "checkov.io/skip"
_CHECK_ID = re.compile(r"^CKV2?_K8S_\d+$")

IMAGE_DIGEST_CHECK = "CKV_K8S_43"
"""Checkov: "Image should use digest"."""
TAG_PINNED_REASON = (
    "pinned by version tag: the digest cannot be resolved offline; "
    "give the image as registry/repository@sha256:<digest> in config to pin the content"
)


class SkipAnnotationError(ValueError):
    """A waiver without a valid check id or a usable reason."""


def skip_annotations(reasons: Mapping[str, str]) -> dict[str, str]:
    """``{"checkov.io/skip1": "CKV_K8S_8=<reason>", ...}`` in check-id order.

    Every reason must say why the check cannot pass (non-empty, no ``=``, which checkov uses
    as the separator).
    """
    annotations: dict[str, str] = {}
    for index, check in enumerate(sorted(reasons), start=1):
        reason = reasons[check].strip()
        if not _CHECK_ID.match(check):
            raise SkipAnnotationError(f"{check!r} is not a checkov Kubernetes check id")
        if not reason or "=" in reason:
            raise SkipAnnotationError(
                f"{check}: the reason must be non-empty and must not contain '='"
            )
        annotations[f"{SKIP_ANNOTATION_PREFIX}{index}"] = f"{check}={reason}"
    return annotations


def is_digest_pinned(image: str) -> bool:
    """The image names its content (``...@sha256:<64 hex>``), not only a tag."""
    return re.search(r"@sha256:[0-9a-f]{64}$", image) is not None


def image_skips(*images: str) -> dict[str, str]:
    """The digest waiver when some image of the workload is pinned by tag only, else none."""
    if all(is_digest_pinned(image) for image in images):
        return {}
    return {IMAGE_DIGEST_CHECK: TAG_PINNED_REASON}
