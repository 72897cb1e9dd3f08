"""The promotion tool against two real MLflow servers standing in for the dev and test stacks.

Each server has its own PostgreSQL database and its own Azurite (mlflow_pair.py). A
scikit-learn model is trained and registered in "dev" (two versions; the ``champion`` alias on
the first), then ``aks-mlops-promote --from dev --to test`` runs against temporary copies of
the stack files. The test registry then serves the same model: identical predictions, the same
signature, input example, params, metric histories, dataset inputs and artifact bytes, plus
the lineage tags; the test stack file pins the new version and keeps its comments.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import sklearn
import yaml
from mlflow.tracking import MlflowClient
from mlflow_pair import LocalMlflow, start_mlflow, stop, wait_healthy
from services import AzuriteService, start_azurite
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from promote import cli, stackfile
from promote.artifacts import artifact_digests, comparable_digests, manifest_digest
from promote.copy import download_version
from promote.tracking import TrackingServer

ROOT = Path(__file__).resolve().parents[2]
MODEL = "churn"
# Both servers start together; on a busy two-core machine a fresh database's migration takes
# up to ~100 s.
START_TIMEOUT = 240.0
pytestmark = [pytest.mark.integration, pytest.mark.timeout(START_TIMEOUT + 300)]
DATASET_SOURCE = "https://stmlopsdev.blob.core.windows.net/curated/churn/2026-11-27.parquet"
LINEAGE = "aks-mlops.promotion."


@dataclass
class Promotion:
    """The two servers, the trained data and what the first promotion did."""

    dev: LocalMlflow
    test: LocalMlflow
    root: Path
    original_test_file: str
    features: pd.DataFrame
    source_run_id: str
    dry_run: tuple[int, str, str, int]
    first: tuple[int, str]
    versions_after_first: int


def _run_cli(root: Path, *args: str) -> int:
    return cli.main(["--root", str(root), *args])


def _train(server: LocalMlflow) -> tuple[pd.DataFrame, str]:
    """Two registered versions of MODEL in ``server``; champion = version 1."""
    x, y = make_classification(n_samples=200, n_features=4, random_state=7)
    frame = pd.DataFrame(x, columns=["tenure", "spend", "tickets", "logins"])
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    mlflow.set_tracking_uri(server.url)
    mlflow.set_registry_uri(server.url)
    mlflow.set_experiment("churn-training")
    requirements = [f"scikit-learn=={sklearn.__version__}", f"mlflow=={mlflow.__version__}"]
    run_ids = []
    for c in (1.0, 0.1):
        with mlflow.start_run(run_name=f"train-c{c}") as run:
            dataset = mlflow.data.from_pandas(
                frame.assign(label=y), source=DATASET_SOURCE, name="churn-train", targets="label"
            )
            mlflow.log_input(dataset, context="training")
            mlflow.log_params({"C": c, "solver": "lbfgs"})
            mlflow.set_tag("team", "ml-platform")
            for step, loss in enumerate((0.9, 0.5, 0.3)):
                mlflow.log_metric("loss", loss * c, step=step)
            model = LogisticRegression(C=c, max_iter=200).fit(frame, y)
            mlflow.log_metric("accuracy", float(model.score(frame, y)))
            mlflow.sklearn.log_model(
                model,
                name="model",
                registered_model_name=MODEL,
                input_example=frame.head(3),
                pip_requirements=requirements,
            )
            run_ids.append(run.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_model_version_tag(MODEL, "1", "validated", "true")
    return frame, run_ids[0]


def _uris(promotion: Promotion) -> list[str]:
    return ["--from-tracking-uri", promotion.dev.url, "--to-tracking-uri", promotion.test.url]


def _versions(server: LocalMlflow, name: str = MODEL) -> list[Any]:
    client = MlflowClient(tracking_uri=server.url, registry_uri=server.url)
    return list(client.search_model_versions(f"name = '{name}'"))


def _run_count(server: LocalMlflow) -> int:
    client = MlflowClient(tracking_uri=server.url)
    return len(client.search_runs([e.experiment_id for e in client.search_experiments()]))


@pytest.fixture(scope="module")
def promotion(
    postgres_dsn: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Promotion]:
    base = tmp_path_factory.mktemp("promotion")
    azurites: list[AzuriteService] = []
    servers: list[LocalMlflow] = []
    saved_uri = mlflow.get_tracking_uri()
    try:
        for stack in ("dev", "test"):
            azurites.append(start_azurite())
            servers.append(start_mlflow(stack, postgres_dsn, azurites[-1], base / stack))
        problems: list[str | None] = [None, None]

        def wait(i: int) -> None:
            problems[i] = wait_healthy(servers[i], START_TIMEOUT)

        waiters = [threading.Thread(target=wait, args=(i,)) for i in range(2)]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        if any(problems):
            pytest.fail("\n".join(p for p in problems if p), pytrace=False)
        dev, test = servers
        features, run_id = _train(dev)

        root = base / "stacks"
        root.mkdir()
        for path in ROOT.glob("Pulumi.*.yaml"):
            shutil.copy(path, root / path.name)
        # A first promotion into test: its copy pins no model (and has no record); the
        # release block's images stay.
        target = root / "Pulumi.test.yaml"
        doc = stackfile.load(target.read_text())
        doc["config"][stackfile.RELEASE_KEY].pop("models")
        target.write_text(stackfile.dump(doc))
        original = target.read_text()
        args = ["--from", "dev", "--to", "test", "--model", MODEL]
        uris = ["--from-tracking-uri", dev.url, "--to-tracking-uri", test.url]

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            dry_code = _run_cli(root, *args, *uris, "--dry-run")
        dry = (
            dry_code,
            out.getvalue(),
            (root / "Pulumi.test.yaml").read_text(),
            len(_versions(test)),
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = _run_cli(root, *args, *uris)
        yield Promotion(
            dev=dev,
            test=test,
            root=root,
            original_test_file=original,
            features=features,
            source_run_id=run_id,
            dry_run=dry,
            first=(code, out.getvalue()),
            versions_after_first=len(_versions(test)),
        )
    finally:
        mlflow.set_tracking_uri(saved_uri)
        for server in servers:
            stop(server)
        for azurite in azurites:
            azurite.stop()


def _target_version(promotion: Promotion) -> Any:
    (found,) = _versions(promotion.test)
    client = MlflowClient(tracking_uri=promotion.test.url, registry_uri=promotion.test.url)
    return client.get_model_version(MODEL, found.version)


def test_promotion_dry_run_shows_the_diff_and_writes_nothing(promotion: Promotion) -> None:
    code, output, text_after, versions = promotion.dry_run

    assert code == 0
    assert "source: churn v1 in dev (from the 'champion' alias)" in output
    assert "target: churn v1 in test (would be created)" in output
    assert "+      - name: churn\n+        version: 1" in output
    assert "dry run: nothing written" in output
    assert text_after == promotion.original_test_file
    assert versions == 0


def test_promotion_copies_the_champion_and_pins_it(promotion: Promotion) -> None:
    code, output = promotion.first

    assert code == 0, output
    assert "target: churn v1 in test: copied" in output
    assert promotion.versions_after_first == 1
    text = (promotion.root / "Pulumi.test.yaml").read_text()
    assert "    models:\n      - name: churn\n        version: 1\n" in text
    release = yaml.safe_load(text)["config"]["aks-mlops:release"]
    original = yaml.safe_load(promotion.original_test_file)["config"]["aks-mlops:release"]
    assert release == {**original, "models": [{"name": MODEL, "version": 1}]}
    assert "+        version: 1" in output


def test_promotion_keeps_every_comment_of_the_stack_file(promotion: Promotion) -> None:
    before = promotion.original_test_file
    after = (promotion.root / "Pulumi.test.yaml").read_text()

    # Only the pin's lines were added; nothing was removed or changed.
    diff = stackfile.unified_diff(before, after, "Pulumi.test.yaml").splitlines()
    assert [line for line in diff if line.startswith("-") and not line.startswith("---")] == []
    assert [line for line in diff if line.startswith("+") and not line.startswith("+++")] == [
        "+    models:",
        "+      - name: churn",
        "+        version: 1",
    ]
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) > 5
    assert all(line in after.splitlines() for line in comments)


def test_promotion_predictions_identical_from_the_test_registry(promotion: Promotion) -> None:
    version = _target_version(promotion)
    with TrackingServer("dev", promotion.dev.url).active():
        expected = mlflow.pyfunc.load_model(f"models:/{MODEL}/1").predict(promotion.features)
    with TrackingServer("test", promotion.test.url).active():
        loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}/{version.version}")
        info = mlflow.models.get_model_info(f"models:/{MODEL}/{version.version}")
        actual = loaded.predict(promotion.features)
    with TrackingServer("dev", promotion.dev.url).active():
        source_info = mlflow.models.get_model_info(f"models:/{MODEL}/1")

    assert np.array_equal(np.asarray(actual), np.asarray(expected))
    assert len(np.unique(np.asarray(actual))) == 2  # a real classifier, not a constant
    assert info.signature is not None
    assert info.signature == source_info.signature
    assert info.saved_input_example_info is not None


def test_promotion_lineage_tags_on_version_and_run(promotion: Promotion) -> None:
    version = _target_version(promotion)
    client = MlflowClient(tracking_uri=promotion.test.url, registry_uri=promotion.test.url)
    run = client.get_run(version.run_id)

    for tags in (version.tags, run.data.tags):
        assert tags[f"{LINEAGE}source-stack"] == "dev"
        assert tags[f"{LINEAGE}source-version"] == "1"
        assert tags[f"{LINEAGE}source-run-id"] == promotion.source_run_id
        assert tags[f"{LINEAGE}promoted-by"]
        promoted_at = datetime.fromisoformat(tags[f"{LINEAGE}promoted-at"])
        assert promoted_at.tzinfo is not None
    # The source version's own tags come along.
    assert version.tags["validated"] == "true"
    # No approval was needed into test, so none is claimed.
    assert f"{LINEAGE}approved-by" not in version.tags


def test_promotion_copies_params_metrics_tags_and_dataset_inputs(promotion: Promotion) -> None:
    dev = MlflowClient(tracking_uri=promotion.dev.url)
    test = MlflowClient(tracking_uri=promotion.test.url)
    source = dev.get_run(promotion.source_run_id)
    target = test.get_run(_target_version(promotion).run_id)

    def history(client: MlflowClient, run_id: str) -> list[tuple[int, float, int]]:
        return [(m.step, m.value, m.timestamp) for m in client.get_metric_history(run_id, "loss")]

    assert target.data.params == source.data.params == {"C": "1.0", "solver": "lbfgs"}
    assert target.data.metrics == source.data.metrics
    assert history(test, target.info.run_id) == history(dev, source.info.run_id)
    assert len(history(test, target.info.run_id)) == 3
    assert target.data.tags["team"] == "ml-platform"
    source_model = dev.get_logged_model(dev.get_model_version(MODEL, "1").source[len("models:/") :])
    target_model = test.get_logged_model(_target_version(promotion).source[len("models:/") :])
    assert target_model.params == source_model.params
    assert target_model.params["C"] == "1.0"
    assert target_model.name == source_model.name
    assert target.info.run_name == source.info.run_name
    (src_input,) = source.inputs.dataset_inputs
    (dst_input,) = target.inputs.dataset_inputs
    for field in ("name", "digest", "source_type", "source", "schema", "profile"):
        assert getattr(dst_input.dataset, field) == getattr(src_input.dataset, field), field
    assert DATASET_SOURCE in dst_input.dataset.source
    assert {(t.key, t.value) for t in dst_input.tags} == {(t.key, t.value) for t in src_input.tags}


def test_promotion_artifact_digests_equal(promotion: Promotion, tmp_path: Path) -> None:
    version = _target_version(promotion)
    dev = TrackingServer("dev", promotion.dev.url)
    test = TrackingServer("test", promotion.test.url)
    source_dir = download_version(dev, MODEL, 1, tmp_path / "dev")
    target_dir = download_version(test, MODEL, int(version.version), tmp_path / "test")

    source, target = artifact_digests(source_dir), artifact_digests(target_dir)
    assert {"MLmodel", "input_example.json", "requirements.txt"} <= set(source)
    assert set(source) == set(target)
    # Every file byte for byte, except MLmodel's identity fields, which name the target's
    # logged model and run (and nothing else in it differs).
    assert {p: d for p, d in source.items() if p != "MLmodel"} == {
        p: d for p, d in target.items() if p != "MLmodel"
    }
    assert comparable_digests(source_dir) == comparable_digests(target_dir)
    target_mlmodel = yaml.safe_load((target_dir / "MLmodel").read_text())
    source_mlmodel = yaml.safe_load((source_dir / "MLmodel").read_text())
    assert source_mlmodel["flavors"]["sklearn"]["pickled_model"] in source  # the weights
    # MLflow's REST client leaves ModelVersion.model_id empty; the source names the model.
    assert version.source == f"models:/{target_mlmodel['model_id']}"
    assert target_mlmodel["model_id"] != source_mlmodel["model_id"]
    assert target_mlmodel["model_uuid"] == target_mlmodel["model_id"]
    assert target_mlmodel["run_id"] == version.run_id
    for key in ("artifact_path", "model_id", "model_uuid", "run_id"):
        source_mlmodel.pop(key)
        target_mlmodel.pop(key)
    assert target_mlmodel == source_mlmodel
    assert version.tags[f"{LINEAGE}artifacts-sha256"] == manifest_digest(
        comparable_digests(source_dir)
    )


def test_promotion_record_matches_the_written_pins(promotion: Promotion) -> None:
    record = json.loads((promotion.root / "promotions" / "test.json").read_text())

    assert record["pins"] == [{"name": MODEL, "version": 1}]
    assert record["lastPromotion"]["source-stack"] == "dev"
    assert record["lastPromotion"]["source-run-id"] == promotion.source_run_id
    assert len(record["pinsSha256"]) == 64


def test_promotion_second_run_is_a_no_op(
    promotion: Promotion, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {p: p.read_bytes() for p in (promotion.root / "Pulumi.test.yaml",
                                         promotion.root / "promotions" / "test.json")}  # fmt: skip
    runs_before = _run_count(promotion.test)
    capsys.readouterr()

    code = _run_cli(promotion.root, "--from", "dev", "--to", "test", "--model", MODEL,
                    *_uris(promotion))  # fmt: skip

    output = capsys.readouterr().out
    assert code == 0, output
    assert "already there (nothing copied)" in output
    assert "already pins churn v1; nothing to write" in output
    assert len(_versions(promotion.test)) == 1
    assert {p: p.read_bytes() for p in files} == files
    assert _run_count(promotion.test) == runs_before


def test_promotion_dev_to_prod_refused(
    promotion: Promotion, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run_cli(promotion.root, "--from", "dev", "--to", "prod", "--model", MODEL,
                    "--approved-by", "alice", *_uris(promotion))  # fmt: skip

    assert code == 2
    assert "--to (prod, environment prod) skips the test stage" in capsys.readouterr().err


def test_promotion_into_prod_without_approval_refused(
    promotion: Promotion, capsys: pytest.CaptureFixture[str]
) -> None:
    prod_before = (promotion.root / "Pulumi.prod.yaml").read_bytes()

    code = _run_cli(promotion.root, "--from", "test", "--to", "prod", "--model", MODEL,
                    "--from-tracking-uri", promotion.test.url,
                    "--to-tracking-uri", promotion.dev.url)  # fmt: skip

    assert code == 2
    assert "--approved-by is required: prod is a prod environment" in capsys.readouterr().err
    assert (promotion.root / "Pulumi.prod.yaml").read_bytes() == prod_before


def test_promotion_refused_when_the_target_pin_was_edited_by_hand(
    promotion: Promotion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "stacks"
    shutil.copytree(promotion.root, root)
    path = root / "Pulumi.test.yaml"
    path.write_text(path.read_text().replace("        version: 1\n", "        version: 2\n"))
    edited = path.read_bytes()
    versions = len(_versions(promotion.test))

    code = _run_cli(root, "--from", "dev", "--to", "test", "--model", MODEL, *_uris(promotion))

    assert code == 2
    assert "release.models of Pulumi.test.yaml was edited by hand" in capsys.readouterr().err
    assert path.read_bytes() == edited
    assert len(_versions(promotion.test)) == versions


def test_promotion_refused_without_champion_unless_version_given(
    promotion: Promotion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "stacks"
    shutil.copytree(promotion.root, root)
    # A model registered in dev with no alias at all.
    with TrackingServer("dev", promotion.dev.url).active():
        mlflow.set_experiment("scratch")
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                LogisticRegression().fit(promotion.features, [0, 1] * 100),
                name="model",
                registered_model_name="nochamp",
                pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
            )
    started = time.monotonic()
    code = _run_cli(root, "--from", "dev", "--to", "test", "--model", "nochamp", "--dry-run",
                    *_uris(promotion))  # fmt: skip

    assert code == 2
    assert (
        "--model (nochamp): dev's registry has no version under the 'champion' alias; "
        "promote an explicit version with --version"
    ) in capsys.readouterr().err
    assert time.monotonic() - started < 60
    code = _run_cli(root, "--from", "dev", "--to", "test", "--model", "nochamp", "--version", "1",
                    "--dry-run", *_uris(promotion))  # fmt: skip
    assert code == 0
    assert "source: nochamp v1 in dev (from --version)" in capsys.readouterr().out


def test_promotion_refused_for_an_unknown_version_or_model(
    promotion: Promotion, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--from", "dev", "--to", "test", "--dry-run", *_uris(promotion)]

    assert _run_cli(promotion.root, *args, "--model", MODEL, "--version", "9") == 2
    assert "--version (9): dev's registry has no version 9 of churn" in capsys.readouterr().err
    assert _run_cli(promotion.root, *args, "--model", "absent") == 2
    assert "--model (absent): dev's registry has no registered model absent" in (
        capsys.readouterr().err
    )
