"""Artifact comparison of a promoted version: every byte, except MLmodel's identity fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from promote.artifacts import (
    artifact_digests,
    comparable_digests,
    manifest_digest,
    rewrite_identity,
)
from promote.tracking import check_uri

MLMODEL = (
    "artifact_path: mlflow-artifacts:/1/models/m-aaa/artifacts\n"
    "flavors:\n"
    "  python_function:\n"
    "    model_path: model.pkl\n"
    "model_id: m-aaa\n"
    "model_uuid: m-aaa\n"
    "run_id: 0123abcd\n"
    "signature:\n"
    '  inputs: \'[{"type": "double", "name": "x"}]\'\n'
)


def _model_dir(path: Path, mlmodel: str, weights: bytes = b"weights") -> Path:
    (path / "sub").mkdir(parents=True)
    (path / "MLmodel").write_text(mlmodel)
    (path / "sub" / "model.pkl").write_bytes(weights)
    return path


def test_rewrite_identity_changes_only_the_identity_lines() -> None:
    new = rewrite_identity(
        MLMODEL,
        {"artifact_path": "mlflow-artifacts:/7/models/m-bbb/artifacts", "model_id": "m-bbb",
         "model_uuid": "m-bbb", "run_id": "ffff", "flavors": "ignored"},
    )  # fmt: skip

    assert new == (
        MLMODEL.replace("/1/models/m-aaa", "/7/models/m-bbb")
        .replace("model_id: m-aaa", "model_id: m-bbb")
        .replace("model_uuid: m-aaa", "model_uuid: m-bbb")
        .replace("run_id: 0123abcd", "run_id: ffff")
    )


def test_comparable_digests_equal_when_only_identity_differs(tmp_path: Path) -> None:
    a = _model_dir(tmp_path / "a", MLMODEL)
    b = _model_dir(tmp_path / "b", MLMODEL.replace("m-aaa", "m-bbb"))

    assert artifact_digests(a)["MLmodel"] != artifact_digests(b)["MLmodel"]
    assert comparable_digests(a) == comparable_digests(b)
    assert set(comparable_digests(a)) == {"MLmodel", "sub/model.pkl"}
    assert manifest_digest(comparable_digests(a)) == manifest_digest(comparable_digests(b))


@pytest.mark.parametrize(
    ("mlmodel", "weights"),
    [
        (MLMODEL.replace('"double"', '"float"'), b"weights"),
        (MLMODEL.replace("model.pkl", "other.pkl"), b"weights"),
        (MLMODEL, b"weights!"),
    ],
)
def test_comparable_digests_differ_on_any_other_byte(
    tmp_path: Path, mlmodel: str, weights: bytes
) -> None:
    a = _model_dir(tmp_path / "a", MLMODEL)
    b = _model_dir(tmp_path / "b", mlmodel, weights)

    assert comparable_digests(a) != comparable_digests(b)


def test_artifact_digests_are_sha256_of_each_file(tmp_path: Path) -> None:
    directory = _model_dir(tmp_path / "a", MLMODEL, b"abc")

    # sha256("abc"), FIPS 180-2 test vector.
    assert artifact_digests(directory)["sub/model.pkl"] == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize("uri", ["postgresql://db/mlflow", "127.0.0.1:5000", "http://"])
def test_tracking_uri_must_be_http(uri: str) -> None:
    with pytest.raises(ValueError, match=r"^--to-tracking-uri .* must be the http\(s\) URL"):
        check_uri(uri, "--to-tracking-uri")


def test_tracking_uri_trailing_slash_dropped() -> None:
    assert check_uri("http://127.0.0.1:5001/", "--from-tracking-uri") == "http://127.0.0.1:5001"
