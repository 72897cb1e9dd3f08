"""Embedders: text to L2-normalised float32 vectors of the collection's dimensions.

- ``hashing`` (default): **not a semantic model**. Feature hashing of lowercased word unigrams
  and bigrams into ``VECTOR_DIMENSIONS`` buckets with a sign bit, L2-normalised. Deterministic
  across processes and machines (BLAKE2b, never Python's salted ``hash``), no download, no
  GPU: texts that share words land near each other, which is enough to prove the pipeline
  and to search by keywords, not to find paraphrases.
- ``sentence-transformers:<model>``: a real sentence-embedding model for production, e.g.
  ``sentence-transformers:sentence-transformers/all-MiniLM-L6-v2`` (384 dimensions) or a local
  directory baked into the image. The package (and PyTorch) is imported only when selected; the
  reference image does not install it, so a team that selects it adds it to its image.
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from contract import workloads as env
from workloads.common.storage import SettingsError

Vectors = npt.NDArray[np.float32]

HASHING = "hashing"
SENTENCE_TRANSFORMERS = "sentence-transformers"
_TOKEN = re.compile(r"\w+")
_HASH_BYTES = 8
_SIGN_BIT = 1 << (_HASH_BYTES * 8 - 1)


class EmbedderUnavailableError(RuntimeError):
    """The selected embedder cannot run in this image (missing package or model)."""


class Embedder(Protocol):
    """What the ingest loop needs from an embedder."""

    @property
    def name(self) -> str:
        """Recorded in each chunk's metadata (which model made the vector)."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per text, ``(len(texts), dimensions)``."""
        ...


@dataclass(frozen=True)
class EmbedderSpec:
    """A parsed ``EMBEDDER`` value."""

    kind: str
    """``hashing`` or ``sentence-transformers``."""
    model: str | None = None
    """The sentence-transformers model name or path."""


def parse(value: str) -> EmbedderSpec:
    """``EMBEDDER``'s value, or a :class:`SettingsError` naming the accepted forms."""
    text = value.strip()
    if text == HASHING:
        return EmbedderSpec(HASHING)
    kind, sep, model = text.partition(":")
    if kind == SENTENCE_TRANSFORMERS and sep and model.strip():
        return EmbedderSpec(SENTENCE_TRANSFORMERS, model.strip())
    raise SettingsError(
        f"{env.EMBEDDER} ({value!r}) must be {HASHING!r} or "
        f"'{SENTENCE_TRANSFORMERS}:<model name or path>'"
    )


@lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = int.from_bytes(
        hashlib.blake2b(feature.encode("utf-8"), digest_size=_HASH_BYTES).digest(), "big"
    )
    return digest % dimensions, (-1.0 if digest & _SIGN_BIT else 1.0)


class HashingEmbedder:
    """Feature hashing of word unigrams and bigrams (see the module docstring)."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions

    @property
    def name(self) -> str:
        return f"{HASHING}-{self.dimensions}"

    def embed_one(self, text: str) -> Vectors:
        vector = np.zeros(self.dimensions, dtype=np.float32)
        words = _TOKEN.findall(text.lower())
        features = [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]
        for feature in features:
            index, sign = _bucket(feature, self.dimensions)
            vector[index] += sign
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            # Only possible without any word: the chunker never emits such a chunk, and a zero
            # vector has no cosine distance.
            raise ValueError("text has no words to embed")
        return vector / np.float32(norm)

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows = [self.embed_one(text) for text in texts]
        return np.vstack(rows) if rows else np.zeros((0, self.dimensions), dtype=np.float32)


class SentenceTransformerEmbedder:
    """A sentence-transformers model, normalised output; checked against the dimensions."""

    def __init__(self, model: str, dimensions: int) -> None:
        try:
            module: Any = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbedderUnavailableError(
                f"{env.EMBEDDER}={SENTENCE_TRANSFORMERS}:{model} needs the "
                "'sentence-transformers' package, which this image does not install: add it "
                "(and the model, or network access to it) to the workload image, or use "
                f"{env.EMBEDDER}={HASHING}"
            ) from exc
        self._model = module.SentenceTransformer(model)
        found = int(self._model.get_sentence_embedding_dimension())
        if found != dimensions:
            raise SettingsError(
                f"{env.VECTOR_DIMENSIONS} ({dimensions}) must match the embedding size of "
                f"model {model!r} ({found})"
            )
        self._label = model
        self.dimensions = dimensions

    @property
    def name(self) -> str:
        return f"{SENTENCE_TRANSFORMERS}:{self._label}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = self._model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=32
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimensions)


def build(value: str, dimensions: int) -> Embedder:
    """The embedder ``EMBEDDER`` selects."""
    spec = parse(value)
    if spec.kind == SENTENCE_TRANSFORMERS and spec.model:
        return SentenceTransformerEmbedder(spec.model, dimensions)
    return HashingEmbedder(dimensions)
