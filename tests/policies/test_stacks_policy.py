"""The policy pack over every shipped stack's recorded resources, at the stack's levels, and
the ``policy`` config section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import ConfigError, parse_config
from offline import cli
from offline.policy import findings
from offline.runner import ROOT, OfflineRun
from policies.rules import Finding
from tests.conftest import stack_values


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_policy_stack_has_no_violation(stack: str, stack_runs: dict[str, OfflineRun]) -> None:
    levels = parse_config(stack_values(stack)).policy.levels()
    found = findings(stack_runs[stack], levels)
    assert found == [], "\n".join(f"{f.rule} {f.name}: {f.message}" for f in found)


@pytest.mark.parametrize("stack", ["test", "prod"])
def test_policy_enforcement_mandatory_outside_dev(stack: str) -> None:
    levels = parse_config(stack_values(stack)).policy.levels()
    assert set(levels.values()) == {"mandatory"}


def test_policy_rules_applied_to_stack_resources(stack_runs: dict[str, OfflineRun]) -> None:
    # The pack sees the real program: an unprotected copy of prod's storage account and a
    # root container in a copy of the MLflow Deployment are both reported.
    run = stack_runs["prod"]
    account = next(r for r in run.resources if r.type == "azure-native:storage:StorageAccount")
    deployment = next(r for r in run.resources if r.type == "kubernetes:apps/v1:Deployment")
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    broken_container = {**container, "securityContext": {"runAsNonRoot": False}}
    broken = OfflineRun(
        stack="prod",
        resources=[
            type(account)(**{**account.__dict__, "protect": False}),
            type(deployment)(
                **{
                    **deployment.__dict__,
                    "inputs": {
                        **deployment.inputs,
                        "spec": {
                            **deployment.inputs["spec"],
                            "template": {
                                **deployment.inputs["spec"]["template"],
                                "spec": {
                                    **deployment.inputs["spec"]["template"]["spec"],
                                    "containers": [broken_container],
                                },
                            },
                        },
                    },
                }
            ),
        ],
    )
    levels = parse_config(stack_values("prod")).policy.levels()
    rules = sorted(f.rule for f in findings(broken, levels))
    assert rules == ["k8s-containers-non-root-with-limits", "stateful-resources-protected-in-prod"]


@pytest.mark.parametrize(
    ("stack", "policy", "problem"),
    [
        (
            "dev",
            {"enforcement": "strict"},
            "policy.enforcement (\"strict\") Input should be 'advisory', 'mandatory' or 'disabled'",
        ),
        (
            "dev",
            {"rules": {"no-such-rule": "advisory"}},
            'policy.rules.no-such-rule ("advisory") is not a rule of the policy pack (known: ',
        ),
        (
            "dev",
            {"rules": {"k8s-images-pinned": "loud"}},
            "policy.rules.k8s-images-pinned (\"loud\") Input should be 'advisory', 'mandatory'",
        ),
        (
            "prod",
            {"enforcement": "advisory"},
            'policy.enforcement ("advisory") must be mandatory when tags.environment is prod',
        ),
    ],
)
def test_policy_config_bad_input_names_key(stack: str, policy: object, problem: str) -> None:
    values = stack_values(stack)
    values["policy"] = policy
    with pytest.raises(ConfigError) as info:
        parse_config(values)
    assert any(p.startswith(problem) for p in info.value.problems), info.value.problems


def test_policy_rule_override_wins_over_enforcement() -> None:
    values = stack_values("dev")
    values["policy"] = {"enforcement": "advisory", "rules": {"k8s-images-pinned": "mandatory"}}
    levels = parse_config(values).policy.levels()
    assert levels["k8s-images-pinned"] == "mandatory"
    assert levels["acr-admin-user-disabled"] == "advisory"


def test_policy_plan_writes_pack_config(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "offline.cli", "plan", "--stack", "prod", "--out", str(tmp_path)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "prod" / "policy-config.json").read_text())
    assert config["acr-admin-user-disabled"] == "mandatory"
    assert len(config) >= 20
    assert "policy pack (policies/): no violations" in done.stdout


def test_policy_plan_exits_3_on_mandatory_violation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Config rules already refuse what most rules check, so inject the finding the pack would
    # report for a resource changed outside config (a component edit, say).
    finding = Finding(
        "acr-admin-user-disabled",
        "mandatory",
        "azure-native:containerregistry:Registry",
        "registry-registry",
        "Set adminUserEnabled false",
    )
    monkeypatch.setattr(cli, "policy_findings", lambda run, levels: [finding])
    code = cli.main(["plan", "--stack", "prod", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 3
    assert "MANDATORY acr-admin-user-disabled  registry-registry (Registry): Set adminUser" in out
    assert "mandatory policy violations" in err
