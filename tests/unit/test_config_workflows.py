"""Workflows config: the cron parser's every rule, defaults, and what the stack files set."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, parse_config
from infra.config.workflows import WorkflowsConfig, check_cron
from tests.conftest import encode, stack_values


@pytest.mark.parametrize(
    "schedule",
    [
        "0 3 * * 0",
        "*/15 0-6 1,15 jan-mar mon-fri",
        "30 2 * * *",
        "0 0 31 12 7",
        "5-10/2 * * * SUN",
    ],
)
def test_config_workflows_cron_accepts_standard_expressions(schedule: str) -> None:
    assert check_cron(schedule) == schedule


@pytest.mark.parametrize(
    "schedule",
    [
        "",
        "* * * * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "10-5 * * * *",
        "@daily",
        "? * * * *",
        "* * * foo *",
        "1-2-3 * * * *",
    ],
)
def test_config_workflows_cron_rejects_what_kubernetes_would_not_run(schedule: str) -> None:
    with pytest.raises(Exception, match="5-field cron expression"):
        check_cron(schedule)


def test_config_workflows_off_by_default_with_safe_thresholds() -> None:
    wf = WorkflowsConfig()
    assert wf.enabled is False
    assert wf.ray.enabled is False
    assert wf.retrain.new_data.blob_threshold >= 1
    assert 0 < wf.retrain.degradation.drift_share < 1
    assert wf.ingest.chunk_overlap < wf.ingest.chunk_size


def test_config_workflows_disabled_needs_no_image() -> None:
    values = stack_values("dev")
    values["aks-mlops:workflows"] = {"enabled": False}
    values["aks-mlops:release"] = {}
    cfg = parse_config(encode(values))
    assert cfg.workflows.enabled is False


def test_config_workflows_no_schedule_is_allowed() -> None:
    values = stack_values("test")
    values["aks-mlops:workflows"]["retrain"]["schedule"] = None
    assert parse_config(encode(values)).workflows.retrain.schedule is None


def test_config_workflows_ray_on_the_cpu_pool_is_allowed() -> None:
    values = stack_values("test")
    values["aks-mlops:workflows"]["ray"] = {"enabled": True, "workerPool": "cpu"}
    assert parse_config(encode(values)).workflows.ray.worker_pool == "cpu"


def test_config_workflows_bad_values_name_the_key() -> None:
    values = stack_values("dev")
    values["aks-mlops:workflows"]["retrain"]["schedule"] = "every day"
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert info.value.problems[0].startswith('workflows.retrain.schedule ("every day")')
