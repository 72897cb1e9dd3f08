"""The retrain job end to end on real services: Azurite (the raw container), PostgreSQL (the
MLflow backend) and a real MLflow server (artifacts proxied to Azurite).

One model's history, in order: a small noisy batch becomes version 1 and champion; a large
clean batch scores better on its held-out rows by more than the margin and takes champion; a
noisy batch's version scores worse there and stays challenger; a bad batch (missing values,
wrong types, out-of-range values) is rejected with a report and registers nothing. Then the
lock (a second run while the lease is held changes nothing) and the Ray Tune path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import mlflow
import pandas as pd
import pytest
import ray
from azure.storage.blob import BlobServiceClient, ContainerClient
from clients import blob_service
from mlflow.tracking import MlflowClient

from workloads.common.metrics import Exporter
from workloads.data.generate import bad_batch, good_batch, to_csv_bytes
from workloads.retrain.batch import REPORT_NAME
from workloads.retrain.job import EXIT_OK, EXIT_REJECTED, Settings, lock_name, run
from workloads.retrain.lock import BlobLock

# Set-up (PostgreSQL, Azurite, MLflow's first start, the first retrain's imports) is paid by the
# first test of the module: 213 s measured on a two-core machine shared by ~8 test runs.
pytestmark = pytest.mark.timeout(420)

MARGIN = 0.02
CODE_VERSION = "3f2a9c1"
IMAGE_DIGEST = "sha256:" + "ab" * 32


@dataclass
class Step:
    """One retrain run and what it was given."""

    code: int
    files: dict[str, bytes]


@dataclass
class World:
    service: BlobServiceClient
    raw: ContainerClient
    settings: Settings
    exporter: Exporter = field(default_factory=Exporter)

    def retrain(self, files: dict[str, pd.DataFrame]) -> Step:
        data = {name: to_csv_bytes(frame) for name, frame in files.items()}
        for name, content in data.items():
            self.raw.upload_blob(f"incoming/{name}", content)
        return Step(code=run(self.settings, self.service, self.exporter), files=data)

    def names(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.raw.list_blobs(name_starts_with=prefix))

    def sample(self, name: str, **labels: str) -> float | None:
        return self.exporter.registry.get_sample_value(name, labels)


def _world(connection_string: str, tracking_uri: str, **overrides: Any) -> World:
    suffix = uuid.uuid4().hex[:8]
    service = blob_service(connection_string)
    raw = service.create_container(f"raw-{suffix}")
    settings = Settings(
        model_name=f"churn-{suffix}",
        tracking_uri=tracking_uri,
        raw_container=raw.container_name,
        margin=MARGIN,
        code_version=CODE_VERSION,
        image_digest=IMAGE_DIGEST,
        **overrides,
    )
    return World(service=service, raw=raw, settings=settings)


@pytest.fixture(scope="module")
def world(azurite_connection_string: str, mlflow_tracking_uri: str) -> World:
    return _world(azurite_connection_string, mlflow_tracking_uri)


@pytest.fixture(scope="module")
def history(world: World) -> dict[str, Step]:
    """The model's four runs, in order."""
    return {
        "first": world.retrain({"2026-11-01/part-1.csv": good_batch(400, 100, label_noise=0.25)}),
        "better": world.retrain(
            {
                "2026-11-08/part-1.csv": good_batch(1000, 200),
                "2026-11-08/part-2.csv": good_batch(1000, 201),
            }
        ),
        "worse": world.retrain({"2026-11-15/part-1.csv": good_batch(1000, 303, label_noise=0.35)}),
        "bad": world.retrain({"2026-11-22/part-1.csv": bad_batch(300, 1)}),
    }


@pytest.fixture(scope="module")
def client(mlflow_tracking_uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_tracking_uri)


def _versions(client: MlflowClient, name: str) -> dict[str, Any]:
    return {v.version: v for v in client.search_model_versions(f"name = '{name}'")}


def _champion(client: MlflowClient, name: str) -> str:
    return client.get_registered_model(name).aliases["champion"]


def _batch_id(step: Step) -> str:
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in step.files.items()}
    content = "\n".join(f"{n}\t{d}" for n, d in sorted(digests.items()))
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def test_retrain_first_good_batch_snapshotted_registered_champion(
    world: World, history: dict[str, Step], client: MlflowClient
) -> None:
    step = history["first"]
    batch = _batch_id(step)
    version = client.get_model_version(world.settings.model_name, "1")
    run = client.get_run(version.run_id)
    (dataset_input,) = run.inputs.dataset_inputs
    input_tags = {t.key: t.value for t in dataset_input.tags}
    snapshot = f"snapshots/{batch}/2026-11-01/part-1.csv"

    assert step.code == EXIT_OK
    assert world.raw.download_blob(snapshot).readall() == step.files["2026-11-01/part-1.csv"]
    assert dataset_input.dataset.digest == batch
    assert (
        input_tags["sha256:2026-11-01/part-1.csv"]
        == hashlib.sha256(step.files["2026-11-01/part-1.csv"]).hexdigest()
    )
    assert input_tags["mlflow.data.context"] == "training"
    assert input_tags["snapshot"] == f"snapshots/{batch}/"
    assert json.loads(dataset_input.dataset.source)["url"].endswith(
        f"/{world.raw.container_name}/snapshots/{batch}/"
    )
    schema_columns = {c["name"] for c in json.loads(dataset_input.dataset.schema)["mlflow_colspec"]}
    assert schema_columns == {
        "tenure_months", "monthly_charges", "support_calls", "data_usage_gb",
        "contract_months", "churned",
    }  # fmt: skip
    assert version.tags["code_version"] == CODE_VERSION
    assert version.tags["image_digest"] == IMAGE_DIGEST
    assert version.tags["decision"] == "first version"
    assert run.data.tags["code_version"] == CODE_VERSION


def test_retrain_version_has_signature_and_input_example(
    world: World, history: dict[str, Step]
) -> None:
    info = mlflow.models.get_model_info(f"models:/{world.settings.model_name}/1")

    assert info.signature is not None
    assert [c["name"] for c in info.signature.inputs.to_dict()] == [
        "tenure_months", "monthly_charges", "support_calls", "data_usage_gb", "contract_months",
    ]  # fmt: skip
    assert info.saved_input_example_info is not None


def test_retrain_better_challenger_moves_champion(
    world: World, history: dict[str, Step], client: MlflowClient
) -> None:
    version = client.get_model_version(world.settings.model_name, "2")
    metrics = client.get_run(version.run_id).data.metrics

    assert history["better"].code == EXIT_OK
    assert metrics["holdout_roc_auc"] - metrics["champion_holdout_roc_auc"] >= MARGIN
    assert version.tags["champion_version"] == "1"
    assert version.tags["decision"].startswith("promoted")
    assert _champion(client, world.settings.model_name) == "2"


def test_retrain_worse_challenger_registered_champion_unchanged(
    world: World, history: dict[str, Step], client: MlflowClient
) -> None:
    name = world.settings.model_name
    version = client.get_model_version(name, "3")
    metrics = client.get_run(version.run_id).data.metrics

    assert history["worse"].code == EXIT_OK
    assert metrics["holdout_roc_auc"] < metrics["champion_holdout_roc_auc"]
    assert version.tags["decision"].startswith("kept champion")
    assert _champion(client, name) == "2"
    assert client.get_registered_model(name).aliases["challenger"] == "3"
    assert world.sample("model_quality_score_ratio", model=name, alias="champion") == (
        pytest.approx(metrics["champion_holdout_roc_auc"])
    )
    assert world.sample("model_quality_score_ratio", model=name, alias="challenger") == (
        pytest.approx(metrics["holdout_roc_auc"])
    )
    assert world.sample("retrain_last_success_timestamp_seconds", model=name) is not None


def test_retrain_bad_batch_rejected_with_report_nothing_registered(
    world: World, history: dict[str, Step], client: MlflowClient
) -> None:
    step = history["bad"]
    batch = _batch_id(step)
    report = json.loads(world.raw.download_blob(f"rejected/{batch}/{REPORT_NAME}").readall())
    checks = {(p["column"], p["check"]) for p in report["validation"]["problems"]}

    assert step.code == EXIT_REJECTED
    assert world.names("incoming/") == []
    assert world.names(f"snapshots/{batch}/") == []
    assert world.names(f"rejected/{batch}/") == [
        f"rejected/{batch}/2026-11-22/part-1.csv",
        f"rejected/{batch}/{REPORT_NAME}",
    ]
    assert report["files"] == [
        {
            "name": "2026-11-22/part-1.csv",
            "bytes": len(step.files["2026-11-22/part-1.csv"]),
            "sha256": hashlib.sha256(step.files["2026-11-22/part-1.csv"]).hexdigest(),
        }
    ]
    assert ("monthly_charges", "not_nullable") in checks  # missing
    assert ("support_calls", "coerce_dtype('int64')") in checks  # wrong type
    assert ("tenure_months", "in_range(0, 120)") in checks  # out of range
    assert sorted(_versions(client, world.settings.model_name)) == ["1", "2", "3"]
    assert _champion(client, world.settings.model_name) == "2"
    assert (
        world.sample("retrain_failures_total", model=world.settings.model_name, stage="validate")
        == 1.0
    )


def test_retrain_second_run_while_lock_leased_exits_cleanly(
    world: World,
    history: dict[str, Step],
    client: MlflowClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="workloads.retrain")
    world.raw.upload_blob("incoming/2026-11-29/part-1.csv", to_csv_bytes(good_batch(300, 9)))

    with BlobLock(world.raw, lock_name(world.settings.model_name)):
        code = run(world.settings, world.service, world.exporter)

    assert code == EXIT_OK
    assert "another retrain of" in caplog.text
    assert "exiting without changes" in caplog.text
    assert world.names("incoming/") == ["incoming/2026-11-29/part-1.csv"]
    assert sorted(_versions(client, world.settings.model_name)) == ["1", "2", "3"]
    world.raw.delete_blob("incoming/2026-11-29/part-1.csv")


@pytest.fixture
def local_ray() -> Iterator[None]:
    """A real Ray cluster in this process: two CPUs, no dashboard."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.timeout(240)
def test_retrain_ray_path_tunes_then_registers_best(
    azurite_connection_string: str,
    mlflow_tracking_uri: str,
    client: MlflowClient,
    local_ray: None,
) -> None:
    world = _world(azurite_connection_string, mlflow_tracking_uri, use_ray=True, trials=3)
    step = world.retrain({"part-1.csv": good_batch(800, 11)})
    version = client.get_model_version(world.settings.model_name, "1")
    data = client.get_run(version.run_id).data

    assert step.code == EXIT_OK
    assert data.params["engine"] == "ray"
    assert data.metrics["tune_trials"] == 3
    assert 0.5 < data.metrics["validation_roc_auc"] <= 1.0
    assert {"n_estimators", "max_depth", "learning_rate", "subsample"} <= set(data.params)
    assert _champion(client, world.settings.model_name) == "1"
