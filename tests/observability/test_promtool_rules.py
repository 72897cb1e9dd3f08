"""Every alert of every stack, unit-tested by Prometheus's own rule tester.

Each stack's rule groups are written out as a Prometheus rules file (Azure's
PrometheusRuleGroup rules are plain Prometheus rules), checked with ``promtool check rules``,
and tested with ``promtool test rules`` against synthetic series computed from that stack's
thresholds: per alert, input that must fire it (with the exact labels and rendered
annotations) and input that must not.

promtool comes from Debian's ``prometheus`` package, unpacked without installing
(``make promtool``, also a prerequisite of ``make unit`` and ``make test``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability.alerts import alert_rule_groups, prometheus_rules_document
from infra.config import PlatformConfig, parse_config
from tests.conftest import STACKS, stack_values
from tests.observability.promtool_cases import all_cases, promtool_tests

ROOT = Path(__file__).resolve().parents[2]
LOCAL_PROMTOOL = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "promtool"
INSTALL_HINT = (
    "promtool not found: run `make promtool` (unpacks Debian's prometheus package into "
    ".tools/prometheus, no root needed) or set PROMTOOL=/path/to/promtool"
)


def promtool() -> str:
    """Path of promtool: $PROMTOOL, the project-local copy, or the PATH."""
    for candidate in (os.environ.get("PROMTOOL"), str(LOCAL_PROMTOOL), shutil.which("promtool")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(INSTALL_HINT, pytrace=False)


def _groups(cfg: PlatformConfig):  # type: ignore[no-untyped-def]
    return alert_rule_groups(
        cfg.alerts,
        gpu_pool_max_counts={p.name: p.max_count for p in cfg.gpu_pools},
        mlflow_namespace=cfg.mlflow.namespace,
    )


def _write(tmp_path: Path, cfg: PlatformConfig) -> tuple[Path, Path, list[str]]:
    groups = _groups(cfg)
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(prometheus_rules_document(groups), sort_keys=False))
    annotations = {r.alert: r.annotations for g in groups for r in g.rules if r.alert}
    tests = tmp_path / "tests.yml"
    tests.write_text(
        yaml.safe_dump(promtool_tests(all_cases(cfg), annotations, rules.name), sort_keys=False)
    )
    return rules, tests, sorted(annotations)


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("stack", STACKS)
def test_promtool_every_alert_fires_and_stays_quiet_per_stack_thresholds(
    stack: str, tmp_path: Path
) -> None:
    cfg = parse_config(stack_values(stack))
    rules, tests, alerts = _write(tmp_path, cfg)

    checked = _run("check", "rules", rules)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _run("test", "rules", tests)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout

    cases = all_cases(cfg)
    firing = {c.alert for c in cases if c.expected}
    quiet = {c.alert for c in cases if not c.expected}
    assert firing == set(alerts), "an alert without a case that fires it"
    assert quiet == set(alerts), "an alert without a case that must stay quiet"


def test_promtool_fails_when_a_threshold_is_not_the_one_tested(tmp_path: Path) -> None:
    cfg = parse_config(stack_values("prod"))
    rules, tests, _ = _write(tmp_path, cfg)
    # The rules of another stack (laxer quality threshold) against prod's cases must fail.
    laxer = cfg.model_copy(
        update={
            "alerts": cfg.alerts.model_copy(
                update={
                    "model": cfg.alerts.model.model_copy(
                        update={
                            "quality": cfg.alerts.model.quality.model_copy(
                                update={"min_score": cfg.alerts.model.quality.min_score / 4}
                            )
                        }
                    )
                }
            )
        }
    )
    rules.write_text(yaml.safe_dump(prometheus_rules_document(_groups(laxer)), sort_keys=False))

    tested = _run("test", "rules", tests)
    assert tested.returncode != 0
    assert "ModelQualityLow" in tested.stdout + tested.stderr
