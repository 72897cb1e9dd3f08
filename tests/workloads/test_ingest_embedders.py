"""Embedder selection and the two embedders: hashing (default) and sentence-transformers."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pytest

from workloads.common.storage import SettingsError
from workloads.ingest import embedders
from workloads.ingest.embedders import (
    EmbedderSpec,
    EmbedderUnavailableError,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    parse,
)


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("hashing", EmbedderSpec("hashing")),
        (" hashing ", EmbedderSpec("hashing")),
        (
            "sentence-transformers:sentence-transformers/all-MiniLM-L6-v2",
            EmbedderSpec("sentence-transformers", "sentence-transformers/all-MiniLM-L6-v2"),
        ),
        (
            "sentence-transformers:/models/e5:v2",
            EmbedderSpec("sentence-transformers", "/models/e5:v2"),
        ),
    ],
)
def test_parse_selects_embedder_when_value_valid(value: str, spec: EmbedderSpec) -> None:
    assert parse(value) == spec


@pytest.mark.parametrize(
    "value", ["", "openai", "sentence-transformers", "sentence-transformers: ", "Hashing"]
)
def test_parse_rejects_value_naming_variable_and_forms(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse(value)

    assert str(caught.value) == (
        f"EMBEDDER ({value!r}) must be 'hashing' or 'sentence-transformers:<model name or path>'"
    )


def test_hashing_vectors_are_unit_length_float32_of_dimensions() -> None:
    vectors = HashingEmbedder(384).embed(["one text", "another, longer text with more words"])

    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_hashing_is_deterministic_across_processes() -> None:
    # Python's own hash() is salted per process; the embedder must not depend on it.
    code = (
        "from workloads.ingest.embedders import HashingEmbedder;"
        "print(HashingEmbedder(64).embed_one('stable across processes').tolist())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            check=True,
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }

    assert len(runs) == 1
    assert runs.pop().strip() == str(
        HashingEmbedder(64).embed_one("stable across processes").tolist()
    )


def test_hashing_ranks_text_sharing_words_nearest() -> None:
    embedder = HashingEmbedder(384)
    corpus = embedder.embed(
        [
            "kubernetes node pools scale GPU workloads from zero",
            "the bakery sells sourdough bread and croissants",
            "postgres stores vectors for similarity search",
        ]
    )
    query = embedder.embed_one("which node pools scale GPU workloads")

    similarity = corpus @ query

    assert int(np.argmax(similarity)) == 0
    assert similarity[0] > 0.5 > similarity[1]


def test_hashing_refuses_text_without_words() -> None:
    with pytest.raises(ValueError, match="no words"):
        HashingEmbedder(16).embed_one("?!")


def test_hashing_name_says_hashing_and_dimensions() -> None:
    assert HashingEmbedder(384).name == "hashing-384"


def test_build_returns_hashing_by_default_value() -> None:
    embedder = embedders.build("hashing", 128)

    assert isinstance(embedder, HashingEmbedder)
    assert embedder.embed(["x"]).shape == (1, 128)


def test_sentence_transformers_fails_clearly_when_package_missing() -> None:
    # The reference image (and this test environment) does not install sentence-transformers.
    with pytest.raises(EmbedderUnavailableError) as caught:
        embedders.build("sentence-transformers:all-MiniLM-L6-v2", 384)

    message = str(caught.value)
    assert "'sentence-transformers' package" in message
    assert "EMBEDDER=sentence-transformers:all-MiniLM-L6-v2" in message
    assert "EMBEDDER=hashing" in message
    assert isinstance(caught.value.__cause__, ImportError)


class _Model:
    """Stands in for ``SentenceTransformer``: records how it was built and called."""

    built: ClassVar[list[str]] = []
    calls: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, name: str) -> None:
        self.built.append(name)

    def get_sentence_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: Sequence[str], **kwargs: Any) -> Any:
        self.calls.append({"texts": list(texts), **kwargs})
        return [[1.0, 0.0, 0.0] for _ in texts]


@pytest.fixture
def fake_package(monkeypatch: pytest.MonkeyPatch) -> type[_Model]:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = _Model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    _Model.built.clear()
    _Model.calls.clear()
    return _Model


def test_sentence_transformers_loads_model_and_encodes_normalised(
    fake_package: type[_Model],
) -> None:
    embedder = embedders.build("sentence-transformers:/models/minilm", 3)
    vectors = embedder.embed(["a", "b"])

    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name == "sentence-transformers:/models/minilm"
    assert fake_package.built == ["/models/minilm"]
    assert fake_package.calls[0]["texts"] == ["a", "b"]
    assert fake_package.calls[0]["normalize_embeddings"] is True
    assert vectors.dtype == np.float32
    assert vectors.shape == (2, 3)


def test_sentence_transformers_rejects_model_of_other_dimensions(
    fake_package: type[_Model],
) -> None:
    with pytest.raises(SettingsError, match=r"VECTOR_DIMENSIONS \(384\) must match .* \(3\)"):
        embedders.build("sentence-transformers:/models/minilm", 384)
