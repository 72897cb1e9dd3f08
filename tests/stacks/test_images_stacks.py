"""The image inventory of every shipped stack, from its offline run, and ``aks-mlops images``."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from offline.images import inventory, upstream_hosts
from offline.runner import ROOT, OfflineRun, load_stack_config, run_program

STACKS = ("dev", "test", "prod")


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_image_is_listed_with_its_tag(stack: str, stack_runs: dict[str, OfflineRun]) -> None:
    uses = inventory(stack_runs[stack])
    mlflow = [u for u in uses if u.repository == "mlflow/mlflow"]
    assert mlflow, [u.image for u in uses]
    assert {(u.host, u.tag, u.source) for u in mlflow} == {("ghcr.io", "v3.17.2-full", "cache")}
    # The server and its schema-migration Job run the same image.
    assert {u.object.split("/")[0] for u in mlflow} >= {"Deployment", "Job"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_image_has_a_tag_or_digest(stack: str, stack_runs: dict[str, OfflineRun]) -> None:
    uses = inventory(stack_runs[stack])
    assert uses
    assert [u.image for u in uses if not (u.tag or u.digest)] == []
    assert all(u.component and u.object and u.container for u in uses)


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_of_every_workload_is_listed(
    stack: str, stack_runs: dict[str, OfflineRun]
) -> None:
    run = stack_runs[stack]
    expected = 0
    for r in run.resources:
        spec = r.inputs.get("spec") or {}
        if r.type in {"kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"}:
            pod = spec["template"]["spec"]
            expected += len(pod.get("containers", [])) + len(pod.get("initContainers", []))
    listed = [u for u in inventory(run) if u.object.split("/")[0] in {"Deployment", "Job"}]
    assert len(listed) == expected > 0


def test_gpu_stack_lists_the_device_plugin_from_nvcr(stack_runs: dict[str, OfflineRun]) -> None:
    hosts = {s: upstream_hosts(inventory(r)) for s, r in stack_runs.items()}
    plugin = [
        u
        for s in STACKS
        for u in inventory(stack_runs[s])
        if u.repository == "nvidia/k8s-device-plugin"
    ]
    assert plugin, hosts
    assert {u.host for u in plugin} == {"nvcr.io"}


def test_images_cli_json() -> None:
    cmd = [sys.executable, "-m", "offline.cli", "images", "--stack", "dev", "--json"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["stack"] == "dev"
    assert doc["offline"] is True
    assert "ghcr.io/mlflow/mlflow:v3.17.2-full" in doc["references"]
    assert set(doc["hosts"]) >= {"ghcr.io"}
    # The kubelet pulls from the stack's registry only; of the registry's own repositories
    # only the CI-built workloads image (not in the scanned references: CI scans its build).
    (pulled,) = doc["pulledFrom"]
    assert re.fullmatch(r"crmlopsdevweu[a-z0-9]+\.azurecr\.io", pulled)
    assert all(b.startswith(f"{pulled}/aks-mlops/workloads") for b in doc["built"])
    assert not set(doc["built"]) & set(doc["references"])
    assert {
        "component",
        "object",
        "container",
        "source",
        "host",
        "repository",
        "tag",
        "digest",
    } <= set(doc["images"][0])


def test_images_cli_unknown_stack_exits_2() -> None:
    cmd = [sys.executable, "-m", "offline.cli", "images", "--stack", "nope"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2
    assert "error" in done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_cache_rules_cover_every_upstream_host_of_the_inventory(
    stack: str, stack_runs: dict[str, OfflineRun]
) -> None:
    run = stack_runs[stack]
    rules = [r for r in run.resources if r.type == "azure-native:containerregistry:CacheRule"]
    sources = {r.inputs["sourceRepository"] for r in rules}
    uses = inventory(run)
    assert {f"{host}/*" for host in upstream_hosts(uses)} <= sources
    # Every third-party image is pulled through the cache: none straight from upstream; what
    # the registry serves of its own is the CI-built workloads image alone.
    assert [u.image for u in uses if u.source == "upstream"] == []
    assert {u.repository for u in uses if u.source == "registry"} <= {"aks-mlops/workloads"}


def test_cache_off_pulls_upstream_and_the_policy_admits_the_upstreams() -> None:
    config, secrets = load_stack_config("dev")
    registry = json.loads(config.get("aks-mlops:registry", "{}"))
    security = json.loads(config.get("aks-mlops:security", "{}"))
    config["aks-mlops:registry"] = json.dumps({**registry, "cacheRulesEnabled": False})
    config["aks-mlops:security"] = json.dumps(
        {**security, "allowedImageUpstreams": ["docker.io", "ghcr.io", "nvcr.io"]}
    )
    run = run_program("dev", config, secrets)
    assert [r for r in run.resources if r.type.endswith("containerregistry:CacheRule")] == []
    uses = inventory(run)
    # Third-party images straight from upstream; only the CI-built image is the registry's.
    assert {u.source for u in uses if u.repository != "aks-mlops/workloads"} == {"upstream"}
    assert "ghcr.io/mlflow/mlflow:v3.17.2-full" in {u.image for u in uses}
    regex = re.compile(
        run.named("allowed-images-assignment").inputs["parameters"]["allowedContainerImagesRegex"][
            "value"
        ]
    )
    assert [u.image for u in uses if not regex.match(u.image)] == []


@pytest.mark.parametrize(
    ("stack", "effect"), [("dev", "Audit"), ("test", "Audit"), ("prod", "Deny")]
)
def test_allowed_images_policy_admits_every_image_of_the_stack(
    stack: str, effect: str, stack_runs: dict[str, OfflineRun]
) -> None:
    run = stack_runs[stack]
    assignment = run.named("allowed-images-assignment").inputs
    assert assignment["policyDefinitionId"] == (
        "/providers/Microsoft.Authorization/policyDefinitions/febd0533-8e55-448f-b837-bd0e06f16469"
    )
    assert "/providers/Microsoft.ContainerService/managedClusters/" in assignment["scope"]
    assert assignment["parameters"]["effect"] == {"value": effect}
    regex = re.compile(assignment["parameters"]["allowedContainerImagesRegex"]["value"])
    # Deny in prod must not lock out the platform's own pods.
    assert [u.image for u in inventory(run) if not regex.match(u.image)] == []


def test_prod_allowed_images_policy_admits_only_the_stack_registry(
    stack_runs: dict[str, OfflineRun],
) -> None:
    run = stack_runs["prod"]
    login = run.of_type("azure-native:containerregistry:Registry")[0].outputs["loginServer"]
    regex = re.compile(
        run.named("allowed-images-assignment").inputs["parameters"]["allowedContainerImagesRegex"][
            "value"
        ]
    )
    assert regex.match(f"{login}/ghcr/mlflow/mlflow:v3.17.2-full")
    for upstream in (
        "ghcr.io/mlflow/mlflow:v3.17.2-full",
        "docker.io/library/postgres:17.10-alpine",
        "nvcr.io/nvidia/k8s-device-plugin:v0.18.0",
        f"{login}.evil.example/x:1",
    ):
        assert not regex.match(upstream), upstream
