"""Checkov waivers (components/kit/checkov.py): every one names a check and says why."""

from __future__ import annotations

import pytest

from components.kit.checkov import (
    SkipAnnotationError,
    image_skips,
    is_digest_pinned,
    skip_annotations,
)

DIGEST = "sha256:" + "a" * 64


def test_skip_annotations_numbers_waivers_in_checkov_format() -> None:
    annotations = skip_annotations({"CKV_K8S_9": "no endpoint", "CKV_K8S_23": "needs root"})

    # checkov reads `checkov.io/skip<N>: <ID>=<reason>` and splits the value at "=".
    assert annotations == {
        "checkov.io/skip1": "CKV_K8S_23=needs root",
        "checkov.io/skip2": "CKV_K8S_9=no endpoint",
    }


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        ({"CKV_K8S_8": ""}, "CKV_K8S_8: the reason must be non-empty"),
        ({"CKV_K8S_8": "   "}, "CKV_K8S_8: the reason must be non-empty"),
        ({"CKV_K8S_8": "a=b"}, "must not contain '='"),
        ({"K8S_8": "why"}, "'K8S_8' is not a checkov Kubernetes check id"),
        ({"CKV_AZURE_1": "why"}, "'CKV_AZURE_1' is not a checkov Kubernetes check id"),
    ],
    ids=["empty", "blank", "separator", "bad-id", "other-framework"],
)
def test_skip_annotations_rejects_waiver_when_reason_or_id_unusable(
    reasons: dict[str, str], message: str
) -> None:
    with pytest.raises(SkipAnnotationError, match=message):
        skip_annotations(reasons)


def test_image_skips_waives_digest_check_only_for_tag_pinned_images() -> None:
    tagged = "ghcr.io/mlflow/mlflow:v3.17.2-full"
    pinned = f"ghcr.io/mlflow/mlflow@{DIGEST}"

    assert is_digest_pinned(pinned)
    assert not is_digest_pinned(tagged)
    assert not is_digest_pinned("ghcr.io/mlflow/mlflow@sha256:abc")
    assert image_skips(pinned) == {}
    assert set(image_skips(tagged)) == {"CKV_K8S_43"}
    assert set(image_skips(pinned, tagged)) == {"CKV_K8S_43"}
