"""Read the CI definitions as data, and the rules a deploy workflow must keep.

Used by the tests; the rules are plain functions so a mutated copy of a workflow can be checked
the same way (a workflow that deploys prod without the environment gate must fail).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONS = ROOT / ".github" / "actions"
PIPELINES = ROOT / "pipelines"
PULUMI_ACTION = "./.github/actions/pulumi"
PROMOTION = ("dev", "test", "prod")


def load(path: Path) -> dict[str, Any]:
    """A YAML file; PyYAML reads a bare ``on:`` key as True, so it is renamed back."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.yml"))


def pipeline_files() -> list[Path]:
    return sorted(PIPELINES.rglob("*.yml"))


def steps_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of a workflow's jobs or of a composite action."""
    if "runs" in doc:
        return list(doc["runs"].get("steps", []))
    return [step for job in doc.get("jobs", {}).values() for step in job.get("steps", [])]


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses") == PULUMI_ACTION]


def deploy_jobs(doc: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Jobs that run ``pulumi up``: stack -> (job id, job)."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for job_id, job in doc.get("jobs", {}).items():
        for step in pulumi_steps(job):
            if step.get("with", {}).get("command") == "up":
                out[str(step["with"]["stack"])] = (job_id, job)
    return out


def environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        return env.get("name")
    return env


def needs(job: dict[str, Any]) -> set[str]:
    value = job.get("needs") or []
    return {value} if isinstance(value, str) else set(value)


def deployment_gate_problems(doc: dict[str, Any]) -> list[str]:
    """Why a deploy workflow does not keep dev -> test -> prod behind environment gates."""
    problems: list[str] = []
    jobs = deploy_jobs(doc)
    if set(jobs) != set(PROMOTION):
        problems.append(f"deploys {sorted(jobs)}, expected {list(PROMOTION)}")
    for i, stack in enumerate(PROMOTION):
        if stack not in jobs:
            continue
        job_id, job = jobs[stack]
        if environment_name(job) != stack:
            problems.append(f"{job_id}: environment {environment_name(job)!r}, expected {stack!r}")
        previous = PROMOTION[i - 1] if i else None
        if previous and (previous not in jobs or jobs[previous][0] not in needs(job)):
            problems.append(f"{job_id}: does not need the {previous} deploy job")
        group = (job.get("concurrency") or {}).get("group")
        if group != f"pulumi-{stack}":
            problems.append(f"{job_id}: concurrency group {group!r}, expected 'pulumi-{stack}'")
        if (job.get("concurrency") or {}).get("cancel-in-progress") is not False:
            problems.append(f"{job_id}: a running deployment must never be cancelled")
    return problems


MAKE_TARGET = re.compile(r"\bmake\s+(?:-\S+\s+)*([a-z][a-z0-9-]*)")


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.MULTILINE))


def shell_snippets() -> list[tuple[str, str]]:
    """(file, script) for every shell snippet in workflows, actions and Azure Pipelines."""
    out: list[tuple[str, str]] = []
    for path in [*workflow_files(), *action_files()]:
        out.extend((path.name, s["run"]) for s in steps_of(load(path)) if "run" in s)
    for path in pipeline_files():
        text = yaml.safe_load(path.read_text())
        out.extend((path.name, snippet) for snippet in _ado_scripts(text))
    return out


def _ado_scripts(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"script", "inlineScript", "bash"} and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_ado_scripts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_ado_scripts(item))
    return found
