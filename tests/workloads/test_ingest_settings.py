"""The ingest workload's settings: defaults, each engine's variables, and bad values named."""

from __future__ import annotations

import pytest

from workloads.common.storage import SettingsError
from workloads.ingest.settings import load

PG = {
    "PGHOST": "psql-mlops-dev.postgres.database.azure.com",
    "PGDATABASE": "vectors",
    "PGUSER": "vectors_app",
    "DB_PASSWORD_FILE": "/mnt/secrets/db-password",
}


def test_settings_defaults_when_only_postgres_sign_in_given() -> None:
    settings = load(PG)

    assert settings.container == "documents"
    assert (settings.chunk_size, settings.chunk_overlap) == (1000, 200)
    assert settings.embedder == "hashing"
    assert settings.engine == "pgvector"
    assert (settings.collection, settings.dimensions, settings.distance) == (
        "documents",
        384,
        "cosine",
    )
    assert settings.postgres is not None
    assert settings.postgres.port == 5432
    # Azure's flexible server refuses unencrypted connections.
    assert settings.postgres.sslmode == "require"
    assert settings.postgres.password_file == "/mnt/secrets/db-password"
    assert settings.qdrant_url is None


def test_settings_read_every_variable_when_set() -> None:
    settings = load(
        {
            **PG,
            "PGPORT": "6432",
            "PGSSLMODE": "verify-full",
            "DOCUMENTS_CONTAINER": "docs",
            "CHUNK_SIZE": "500",
            "CHUNK_OVERLAP": "0",
            "EMBEDDER": "sentence-transformers:all-MiniLM-L6-v2",
            "VECTOR_COLLECTION": "kb_chunks",
            "VECTOR_DIMENSIONS": "768",
            "VECTOR_DISTANCE": "l2",
        }
    )

    assert settings.postgres is not None
    assert (settings.postgres.port, settings.postgres.sslmode) == (6432, "verify-full")
    assert (settings.container, settings.chunk_size, settings.chunk_overlap) == ("docs", 500, 0)
    assert settings.embedder == "sentence-transformers:all-MiniLM-L6-v2"
    assert (settings.collection, settings.dimensions, settings.distance) == (
        "kb_chunks",
        768,
        "l2",
    )


def test_settings_qdrant_needs_url_not_postgres() -> None:
    settings = load(
        {
            "VECTOR_ENGINE": "qdrant",
            "QDRANT_URL": "http://qdrant.qdrant.svc.cluster.local:6333",
            "QDRANT_API_KEY_FILE": "/mnt/secrets/api-key",
        }
    )

    assert settings.postgres is None
    assert settings.qdrant_url == "http://qdrant.qdrant.svc.cluster.local:6333"
    assert settings.qdrant_api_key_file == "/mnt/secrets/api-key"


def test_settings_qdrant_allows_dimensions_over_pgvector_limit() -> None:
    settings = load(
        {"VECTOR_ENGINE": "qdrant", "QDRANT_URL": "http://q:6333", "VECTOR_DIMENSIONS": "3072"}
    )

    assert settings.dimensions == 3072


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"CHUNK_SIZE": "big"}, "CHUNK_SIZE ('big') must be an integer"),
        ({"CHUNK_SIZE": "10"}, "CHUNK_SIZE ('10') must be 50..1000000"),
        ({"CHUNK_OVERLAP": "-1"}, "CHUNK_OVERLAP ('-1') must be 0..1000000"),
        (
            {"CHUNK_SIZE": "400", "CHUNK_OVERLAP": "400"},
            "CHUNK_OVERLAP ('400') must be < CHUNK_SIZE (400)",
        ),
        ({"CHUNK_OVERLAP": "1000"}, "CHUNK_OVERLAP ('1000') must be < CHUNK_SIZE (1000)"),
        ({"VECTOR_ENGINE": "faiss"}, "VECTOR_ENGINE ('faiss') must be one of pgvector, qdrant"),
        (
            {"VECTOR_COLLECTION": "Docs-1"},
            "VECTOR_COLLECTION ('Docs-1') must be a lowercase SQL identifier",
        ),
        ({"VECTOR_DIMENSIONS": "0"}, "VECTOR_DIMENSIONS ('0') must be 1..65535"),
        ({"VECTOR_DIMENSIONS": "70000"}, "VECTOR_DIMENSIONS ('70000') must be 1..65535"),
        (
            {"VECTOR_DIMENSIONS": "4096"},
            "VECTOR_DIMENSIONS ('4096') must be <= 2000 with pgvector (HNSW's limit)",
        ),
        (
            {"VECTOR_DISTANCE": "dot"},
            "VECTOR_DISTANCE ('dot') must be one of cosine, inner_product, l2",
        ),
        ({"PGPORT": "70000"}, "PGPORT ('70000') must be 1..65535"),
        ({"PGHOST": ""}, "environment variable PGHOST is required"),
        ({"PGUSER": " "}, "environment variable PGUSER is required"),
        ({"DB_PASSWORD_FILE": ""}, "environment variable DB_PASSWORD_FILE is required"),
        ({"VECTOR_ENGINE": "qdrant"}, "environment variable QDRANT_URL is required"),
    ],
)
def test_settings_reject_bad_value_naming_variable(changes: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load({**PG, **changes})

    assert str(caught.value).startswith(message)
