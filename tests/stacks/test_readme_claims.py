"""What the README promises, each as a test that fails when the promise stops being true.

Claims about config rules (NVIDIA-only GPU sizes, pinned images, prod zones on every pool,
placeholders) also have their bad-input rows in tests/unit/test_config.py and
tests/unit/test_placeholders.py; here they are checked on what the real program registers.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest
import yaml

from infra.config.placeholders import PlaceholderError
from offline.cli import plan_document
from offline.runner import (
    MASK,
    SECRET_PLACEHOLDER,
    OfflineMocks,
    OfflineRun,
    RecordingMonitor,
    run_callable,
    run_program,
)
from tests.conftest import STACKS, encode, stack_values
from tests.stacks.test_wiring import plain_config
from tests.unit.test_placeholders import _real

# "Values marked secure ... secret values are written as [secret]" (README, The offline plan).


def test_claim_secret_stack_outputs_are_written_masked() -> None:
    def program() -> None:
        pulumi.export("plain", "visible")
        pulumi.export("token", pulumi.Output.secret("s3cr3t-value"))
        pulumi.export("nested", {"inner": pulumi.Output.secret("also-secret")})

    doc = plan_document(run_callable(program))
    assert doc["outputs"] == {"plain": "visible", "token": MASK, "nested": MASK}
    assert "s3cr3t-value" not in json.dumps(doc)
    assert "also-secret" not in json.dumps(doc)


@pytest.mark.parametrize("stack", STACKS)
def test_claim_no_secret_value_in_any_plan(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    text = json.dumps(plan_document(stack_runs[stack]), default=str)
    assert SECRET_PLACEHOLDER not in text
    assert MASK in text


# "In prod the registry, storage account (and containers), Key Vault (and its secrets),
#  PostgreSQL server (and databases) are protected and retained: `pulumi destroy` cannot lose
#  data."
STATEFUL_TYPES = (
    "azure-native:containerregistry:Registry",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
    "azure-native:keyvault:Vault",
    "azure-native:keyvault:Secret",
    "azure-native:dbforpostgresql:Server",
    "azure-native:dbforpostgresql:Database",
)


def test_claim_prod_destroy_cannot_lose_data(stack_runs: dict[str, OfflineRun]) -> None:
    run = stack_runs["prod"]
    for typ in STATEFUL_TYPES:
        records = run.of_type(typ)
        assert records, typ
        for record in records:
            assert (record.protect, record.retain_on_delete) == (True, True), record.name


# "an NSG per subnet"


@pytest.mark.parametrize("stack", STACKS)
def test_claim_an_nsg_per_subnet(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    run = stack_runs[stack]
    (vnet,) = run.of_type("azure-native:network:VirtualNetwork")
    nsg_ids = {r.id for r in run.of_type("azure-native:network:NetworkSecurityGroup")}
    subnets = vnet.inputs["subnets"]
    assert len(subnets) == len(plain_config(stack)["network"]["subnets"])
    for subnet in subnets:
        assert subnet.get("networkSecurityGroup", {}).get("id") in nsg_ids, subnet["name"]


# "images pinned by version tag or digest" -- every container of every workload.
PINNED = re.compile(r"^[^@\s]+(:v?\d+(\.\d+)+([-+._][A-Za-z0-9._-]+)?|@sha256:[0-9a-f]{64})$")
WORKLOADS = ("apps/v1:Deployment", "apps/v1:StatefulSet", "apps/v1:DaemonSet", "batch/v1:Job")


def _containers(run: OfflineRun) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for kind in WORKLOADS:
        for r in run.of_type(f"kubernetes:{kind}"):
            spec = r.inputs["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                out.append((r.name, c))
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_claim_every_image_is_pinned(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    containers = _containers(stack_runs[stack])
    assert len(containers) >= 3
    for name, container in containers:
        assert PINNED.match(container["image"]), f"{name}: {container['image']}"


# "NVIDIA N-series sizes" -- AMD sizes (NG family, MI300X, NVv4) are config errors (see the
# bad-input table); on the plan every GPU pool is an NVIDIA NC/ND/NV size.


@pytest.mark.parametrize("stack", STACKS)
def test_claim_gpu_pools_are_nvidia_sizes(stack_runs: dict[str, OfflineRun], stack: str) -> None:
    gpu = [
        r
        for r in stack_runs[stack].of_type("azure-native:containerservice:AgentPool")
        if "gpuProfile" in r.inputs
    ]
    assert gpu
    for pool in gpu:
        assert re.match(r"^Standard_N[CDV]\d", pool.inputs["vmSize"]), pool.inputs["vmSize"]


# "Prod rules: ... at least two zones" -- on the cluster and on every pool.


def test_claim_prod_every_pool_spans_two_zones(stack_runs: dict[str, OfflineRun]) -> None:
    run = stack_runs["prod"]
    (cluster,) = run.of_type("azure-native:containerservice:ManagedCluster")
    pools = cluster.inputs["agentPoolProfiles"] + [
        r.inputs for r in run.of_type("azure-native:containerservice:AgentPool")
    ]
    assert len(pools) == 2 + len(plain_config("prod")["gpuPools"])
    for pool in pools:
        assert len(pool.get("availabilityZones") or []) >= 2, pool.get("name")


# "Placeholders ... a real `pulumi up` refuses them before creating anything."


@pytest.mark.parametrize("stack", STACKS)
def test_claim_placeholders_stop_a_real_deployment_before_any_resource(stack: str) -> None:
    monitor = RecordingMonitor(OfflineMocks())
    with pytest.raises(PlaceholderError) as info:
        run_program(stack, encode(stack_values(stack)), monitor=monitor, offline_plan=False)
    assert monitor.records == []
    assert len(info.value.problems) == 4


@pytest.mark.parametrize("stack", STACKS)
def test_claim_real_values_deploy(stack: str) -> None:
    run = run_program(stack, encode(_real(stack)), offline_plan=False)
    assert run.of_type("azure-native:containerservice:ManagedCluster")


# "password sign-in (generated passwords, kept in Key Vault)" -- whichever workloads and logins
#  use them, passwords reach pods only from Key Vault through the CSI driver.


@pytest.mark.parametrize("stack", STACKS)
def test_claim_database_password_only_through_key_vault(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    run = stack_runs[stack]
    (server,) = run.of_type("azure-native:dbforpostgresql:Server")
    assert server.inputs["authConfig"]["passwordAuth"] == "Enabled"
    assert server.inputs["administratorLoginPassword"] == MASK
    vault_secrets = {r.inputs["secretName"] for r in run.of_type("azure-native:keyvault:Secret")}
    providers = run.of_type("kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass")
    assert providers
    for spc in providers:
        objects = yaml.safe_load(spc.inputs["spec"]["parameters"]["objects"])["array"]
        for obj in objects:
            assert yaml.safe_load(obj)["objectName"] in vault_secrets, spc.name
    assert not run.of_type("kubernetes:core/v1:Secret")
    for _, container in _containers(run):
        for env in container.get("env", []):
            assert "valueFrom" not in env or "secretKeyRef" not in env["valueFrom"], env
