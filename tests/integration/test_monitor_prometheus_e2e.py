"""The monitor scraped by a real Prometheus, and the retraining triggers' exact PromQL.

Real services: Azurite (raw and curated containers), PostgreSQL + a real MLflow server (the
champion, registered by the real retrain job), and Prometheus's own server binary (Debian's
package, unpacked by ``make promtool``) scraping the monitor's ``/metrics`` every second.

Each trigger is one (query, threshold) pair read from the degradation ScaledJob that the
program renders for the dev stack (a mock run): the query strings are the ones KEDA runs
(KEDA starts a job when the value is above the threshold). Before: the champion is scored
on recent data like its training data -> every query below its threshold. After a degraded
batch lands under ``curated/labelled/`` -> every query above it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from azure.storage.blob import BlobServiceClient, ContainerClient
from clients import blob_service
from prometheus_client import start_http_server
from services import PROJECT_ROOT, free_port, log_tail

from offline.manifests import manifest
from offline.runner import load_stack_config, run_program
from workloads.common.metrics import Exporter
from workloads.data.generate import degraded_batch, good_batch, to_csv_bytes
from workloads.monitor.service import Monitor, Observation, Settings
from workloads.retrain.job import EXIT_OK
from workloads.retrain.job import Settings as RetrainSettings
from workloads.retrain.job import run as retrain

pytestmark = pytest.mark.timeout(420)

PROMETHEUS = PROJECT_ROOT / ".tools" / "prometheus" / "usr" / "bin" / "prometheus"
MODEL = f"churn-mon-{uuid.uuid4().hex[:6]}"
RENDERED_STACK = "dev"
"""The stack whose rendered degradation ScaledJob supplies the triggers (query, threshold)."""


def _rendered_triggers() -> dict[str, tuple[str, float]]:
    """Trigger name -> (PromQL, threshold) exactly as the program renders the degradation
    ScaledJob of :data:`RENDERED_STACK` (a mock run of the real program). The only change is the
    ``model`` label value: this module's model has a name of its own on the shared MLflow."""
    config, secrets = load_stack_config(RENDERED_STACK)
    run = run_program(RENDERED_STACK, config, secrets)
    jobs = [
        manifest(r)
        for r in run.of_type("kubernetes:keda.sh/v1alpha1:ScaledJob")
        if r.inputs["metadata"]["name"] == "retrain-degradation"
    ]
    assert len(jobs) == 1, "the stack renders one degradation ScaledJob"
    stack_model = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{RENDERED_STACK}.yaml").read_text())[
        "config"
    ]["aks-mlops:workflows"]["modelName"]
    found: dict[str, tuple[str, float]] = {}
    for trigger in jobs[0]["spec"]["triggers"]:
        assert trigger["type"] == "prometheus"
        query = trigger["metadata"]["query"]
        assert f'model="{stack_model}"' in query
        found[trigger["name"]] = (
            query.replace(f'model="{stack_model}"', f'model="{MODEL}"'),
            float(trigger["metadata"]["threshold"]),
        )
    assert set(found) == set(TRIGGER_NAMES)
    return found


TRIGGER_NAMES = ("drift", "quality-breach")
"""The degradation ScaledJob's triggers (the fixture checks the rendered job has exactly these)."""


@pytest.fixture(scope="module")
def triggers() -> dict[str, tuple[str, float]]:
    """Trigger -> (PromQL, threshold), exactly as the degradation ScaledJob carries them."""
    return _rendered_triggers()


SCRAPE_WAIT_S = 30.0
HTTP_TIMEOUT_S = 5


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT_S)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Prometheus:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def query(self, promql: str) -> float | None:
        """Instant query through the HTTP API; the single value, None when no sample."""
        status, body = _get(self.port, "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        answer = json.loads(body)
        assert status == 200, body
        assert answer["status"] == "success", body
        result = answer["data"]["result"]
        if not result:
            return None
        assert len(result) == 1, result
        return float(result[0]["value"][1])


@pytest.fixture(scope="module")
def prometheus_binary() -> Path:
    if not PROMETHEUS.is_file():
        pytest.fail(f"Prometheus server not found at {PROMETHEUS}: run `make promtool`", False)
    return PROMETHEUS


@pytest.fixture(scope="module")
def metrics_port() -> Iterator[tuple[int, Exporter]]:
    """The monitor's registry on /metrics (loopback, free port), stopped at the end."""
    exporter = Exporter()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=exporter.registry)
    try:
        yield port, exporter
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def prometheus(
    prometheus_binary: Path,
    metrics_port: tuple[int, Exporter],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Prometheus]:
    base = tmp_path_factory.mktemp("prometheus")
    config = base / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: monitor\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{metrics_port[0]}']\n"
    )
    port = free_port()
    log = base / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(prometheus_binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={base / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            cwd=base, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if _get(port, "/-/ready")[0] == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"prometheus did not get ready:\n{log_tail(log)}", False)
            time.sleep(0.2)
        yield Prometheus(port=port, proc=proc, log=log)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Deployed:
    service: BlobServiceClient
    raw: ContainerClient
    curated: ContainerClient
    settings: Settings


@pytest.fixture(scope="module")
def deployed(azurite_connection_string: str, mlflow_tracking_uri: str) -> Deployed:
    """Containers, and a champion registered by the real retrain job from a good batch."""
    suffix = uuid.uuid4().hex[:8]
    service = blob_service(azurite_connection_string)
    raw = service.create_container(f"raw-{suffix}")
    curated = service.create_container(f"curated-{suffix}")
    raw.upload_blob("incoming/part-1.csv", to_csv_bytes(good_batch(1500, 21)))
    code = retrain(
        RetrainSettings(
            model_name=MODEL, tracking_uri=mlflow_tracking_uri, raw_container=raw.container_name
        ),
        service,
        Exporter(),
    )
    assert code == EXIT_OK
    raw.upload_blob("incoming/waiting-1.csv", b"tenure_months\n")
    raw.upload_blob("incoming/waiting-2.csv", b"tenure_months\n")
    settings = Settings(
        model_name=MODEL,
        tracking_uri=mlflow_tracking_uri,
        raw_container=raw.container_name,
        curated_container=curated.container_name,
        interval_seconds=1.0,
    )
    return Deployed(service=service, raw=raw, curated=curated, settings=settings)


def _scraped(prometheus: Prometheus, seen: Observation) -> None:
    """Wait until Prometheus holds the round's values (a scrape after the round)."""
    expected = {
        f'model_quality_score_ratio{{model="{MODEL}",alias="champion"}}': seen.quality,
        f'data_drift_share_ratio{{model="{MODEL}"}}': seen.drift_share,
    }
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while True:
        values = {q: prometheus.query(q) for q in expected}
        if all(v is not None and abs(v - expected[q]) < 1e-9 for q, v in values.items()):  # type: ignore[operator]
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not scraped in {SCRAPE_WAIT_S:.0f} s: {values} != {expected}\n"
                        f"{log_tail(prometheus.log)}", False)  # fmt: skip
        time.sleep(0.5)


@pytest.fixture(scope="module")
def trigger_values(
    deployed: Deployed,
    metrics_port: tuple[int, Exporter],
    prometheus: Prometheus,
    triggers: dict[str, tuple[str, float]],
) -> dict[str, dict[str, float | None]]:
    """Each trigger's value before and after a degraded batch, and what the monitor saw."""
    monitor = Monitor(deployed.settings, deployed.service, metrics_port[1])
    values: dict[str, dict[str, float | None]] = {"before": {}, "after": {}}
    batches = {
        "before": ("labelled/2026-11-27.csv", good_batch(600, 31)),
        "after": ("labelled/2026-11-28.csv", degraded_batch(600, 32)),
    }
    for moment, (name, frame) in batches.items():
        deployed.curated.upload_blob(name, to_csv_bytes(frame))
        seen = monitor.run_once()
        assert seen.recent_blob == name
        assert seen.problems == [], seen.problems
        _scraped(prometheus, seen)
        for trigger, (query, _threshold) in triggers.items():
            values[moment][trigger] = prometheus.query(query)
        values[moment]["waiting"] = prometheus.query('ingest_waiting_blobs{prefix="raw"}')
    return values


@pytest.mark.parametrize("trigger", TRIGGER_NAMES)
def test_monitor_trigger_below_threshold_before_degraded_batch(
    trigger: str,
    trigger_values: dict[str, dict[str, float | None]],
    triggers: dict[str, tuple[str, float]],
) -> None:
    _query, threshold = triggers[trigger]
    value = trigger_values["before"][trigger]

    assert value is not None
    assert value < threshold


@pytest.mark.parametrize("trigger", TRIGGER_NAMES)
def test_monitor_trigger_above_threshold_after_degraded_batch(
    trigger: str,
    trigger_values: dict[str, dict[str, float | None]],
    triggers: dict[str, tuple[str, float]],
) -> None:
    _query, threshold = triggers[trigger]
    value = trigger_values["after"][trigger]

    assert value is not None
    assert value > threshold


def test_monitor_waiting_blobs_scraped(
    trigger_values: dict[str, dict[str, float | None]],
) -> None:
    assert trigger_values["before"]["waiting"] == 2.0


def test_monitor_malformed_recent_data_reported_loop_carries_on(
    deployed: Deployed, mlflow_tracking_uri: str
) -> None:
    curated = deployed.service.create_container(f"curated-bad-{uuid.uuid4().hex[:8]}")
    exporter = Exporter()
    monitor = Monitor(
        Settings(
            model_name=MODEL,
            tracking_uri=mlflow_tracking_uri,
            raw_container=deployed.raw.container_name,
            curated_container=curated.container_name,
        ),
        deployed.service,
        exporter,
    )
    curated.upload_blob("labelled/good.csv", to_csv_bytes(good_batch(300, 41)))
    good = monitor.run_once()
    # Same or later last-modified second than the good file; the name breaks a tie.
    curated.upload_blob("labelled/zz-broken.csv", b"tenure_months,churned\nabc,1\n\x00\xff,2\n")
    broken = monitor.run_once()
    quality = exporter.registry.get_sample_value(
        "model_quality_score_ratio", {"model": MODEL, "alias": "champion"}
    )

    assert good.problems == []
    assert good.quality is not None
    assert broken.recent_blob == "labelled/zz-broken.csv"
    assert broken.quality is None
    assert any("zz-broken.csv" in p for p in broken.problems), broken.problems
    assert broken.waiting == {"raw": 2}
    assert quality == good.quality  # the last good value stays exported
