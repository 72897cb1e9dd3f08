"""Smoke tests: the local services that the integration tests rely on really work."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
import yaml
from clients import blob_service
from pgvector.psycopg import register_vector
from services import INSTALL_HINT, ServiceNotInstalledError, start_azurite, start_postgres

pytestmark = pytest.mark.integration


def test_pgvector_orders_rows_by_l2_distance_with_three_rows(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute("CREATE TEMP TABLE items (id int PRIMARY KEY, embedding vector(3))")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO items (id, embedding) VALUES (%s, %s)",
                [
                    (1, np.array([1.0, 1.0, 1.0])),
                    (2, np.array([2.0, 2.0, 2.0])),
                    (3, np.array([10.0, 10.0, 10.0])),
                ],
            )
        rows = conn.execute(
            "SELECT id, embedding, embedding <-> %s AS distance FROM items ORDER BY distance",
            (np.array([2.0, 2.0, 2.1]),),
        ).fetchall()

    assert [row[0] for row in rows] == [2, 1, 3]
    assert rows[0][2] == pytest.approx(0.1, abs=1e-6)
    assert rows[0][1].to_list() == [2.0, 2.0, 2.0]


def test_local_postgres_runs_major_every_stack_deploys(postgres_dsn: str) -> None:
    # Read with plain YAML: what the stacks deploy, not what the config model makes of it.
    root = Path(__file__).resolve().parents[2]
    deployed = {
        path.name: str(yaml.safe_load(path.read_text())["config"]["aks-mlops:postgres"]["version"])
        for path in sorted(root.glob("Pulumi.*.yaml"))
    }
    with psycopg.connect(postgres_dsn) as conn:
        version_num = conn.execute("SHOW server_version_num").fetchone()[0]  # type: ignore[index]

    assert len(deployed) == 3, deployed
    assert {name: str(int(version_num) // 10000) for name in deployed} == deployed


def test_azurite_roundtrips_blob_when_container_created(azurite_connection_string: str) -> None:
    service = blob_service(azurite_connection_string)
    container = service.create_container(f"smoke-{uuid.uuid4().hex[:12]}")
    payload = b"model-bytes\x00\x01" * 1000

    container.upload_blob("models/demo/model.bin", payload, overwrite=True)
    downloaded = container.download_blob("models/demo/model.bin").readall()

    assert downloaded == payload
    assert [blob.name for blob in container.list_blobs()] == ["models/demo/model.bin"]
    assert "127.0.0.1" in (service.url or "")


def test_start_postgres_raises_install_hint_when_binaries_missing(tmp_path: Path) -> None:
    with pytest.raises(ServiceNotInstalledError, match=INSTALL_HINT):
        start_postgres(bin_dir=tmp_path)


def test_start_azurite_raises_install_hint_when_binary_missing(tmp_path: Path) -> None:
    with pytest.raises(ServiceNotInstalledError, match=INSTALL_HINT):
        start_azurite(binary=tmp_path / "azurite-blob")
