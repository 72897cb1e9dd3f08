"""The rendered Kubernetes manifests are valid for the cluster they would be applied to.

Built-in kinds: kubernetes-validate, strict (unknown fields fail), for the stack's configured
Kubernetes version. SecretProviderClass: tests/schemas/secretproviderclass-v1.json (from the
Secrets Store CSI driver v1.6.0 CRD, stricter where the project needs it). PodMonitor
(ama-metrics): prometheus-operator's CRD model, strict (tests/manifests/crds.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components.cluster.dcgm_exporter import NAMESPACE as DCGM_NAMESPACE
from components.cluster.device_plugin import NAMESPACE as DEVICE_PLUGIN_NAMESPACE
from infra.config import PlatformConfig
from offline.manifests import KIND_ORDER, manifest_filename, write_manifests
from offline.runner import MASK, OfflineRun, run_callable
from tests.manifests.crds import validate_pod_monitor
from tests.manifests.workload_inputs import render, stack_config

Runner = Callable[[Callable[[], object]], OfflineRun]
SCHEMA = json.loads(
    (Path(__file__).parent.parent / "schemas" / "secretproviderclass-v1.json").read_text()
)
CRD_KINDS = {"SecretProviderClass", "PodMonitor"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
QDRANT = {"engine": "qdrant"}
OWN_CLASS = {"engine": "qdrant", "qdrant": {"storageClass": "premium-zrs-retain"}}
# Every engine, one and several MLflow replicas, protected and not, spot and on-demand, the
# platform's storage class and the user's own.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev-pgvector": ("dev", {}),
    "dev-qdrant-spot": ("dev", {"vectorDb": QDRANT, "cpuPool": {"spot": True}}),
    "test-qdrant": ("test", {}),
    "prod-pgvector": ("prod", {}),
    "prod-qdrant": ("prod", {"vectorDb": QDRANT}),
    "prod-qdrant-own-class": ("prod", {"vectorDb": OWN_CLASS}),
}


@pytest.fixture(params=sorted(VARIANTS))
def rendered(
    request: pytest.FixtureRequest, run_components: Runner, tmp_path: Path
) -> tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]]:
    """One variant's manifests as written to disk and read back."""
    stack, overrides = VARIANTS[request.param]
    cfg = stack_config(stack, **overrides)
    run, _ = render(cfg, stack, run_components)
    paths = write_manifests(run, tmp_path)
    return cfg, [(p, yaml.safe_load(p.read_text())) for p in paths]


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    if obj["kind"] in WORKLOAD_KINDS:
        return [obj["spec"]["template"]["spec"]]
    return []


def test_manifests_builtin_kinds_valid_strict_for_cluster_version(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    cfg, docs = rendered
    checked = [
        kubernetes_validate.validate(obj, cfg.cluster.kubernetes_version, strict=True)
        for _, obj in docs
        if obj["kind"] not in CRD_KINDS
    ]

    assert len(checked) >= 10
    assert {obj["kind"] for _, obj in docs} - CRD_KINDS <= set(KIND_ORDER)


def test_manifests_secret_provider_classes_valid_against_crd_schema(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    classes = [obj for _, obj in docs if obj["kind"] == "SecretProviderClass"]

    # MLflow, the vector engine and the database-roles Job: one each.
    assert len(classes) == 3
    for obj in classes:
        jsonschema.validate(obj, SCHEMA)
        for item in yaml.safe_load(obj["spec"]["parameters"]["objects"])["array"]:
            jsonschema.validate(yaml.safe_load(item), SCHEMA["$defs"]["keyVaultObject"])


def test_manifests_pod_monitors_valid_against_crd_model(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    monitors = [obj for _, obj in docs if obj["kind"] == "PodMonitor"]

    assert len(monitors) == 1
    for obj in monitors:
        validate_pod_monitor(obj)


def test_manifests_mount_only_secret_provider_classes_that_exist(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    classes = {
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for _, o in docs
        if o["kind"] == "SecretProviderClass"
    }
    mounted = {
        (obj["metadata"]["namespace"], v["csi"]["volumeAttributes"]["secretProviderClass"])
        for _, obj in docs
        for pod in _pod_specs(obj)
        for v in pod["volumes"]
        if "csi" in v
    }

    assert mounted == classes


def test_manifests_contain_no_kubernetes_secret_when_rendered(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    text = "\n".join(p.read_text() for p, _ in docs)

    assert all(obj["kind"] != "Secret" for _, obj in docs)
    assert "secretKeyRef" not in text
    assert "secretObjects" not in text


def test_manifests_every_pod_runs_restricted_when_rendered(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    pods = [pod for _, obj in docs for pod in _pod_specs(obj)]

    assert pods
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert pod["nodeSelector"] == {"pool": "cpu"}
        for c in pod["containers"]:
            security = c["securityContext"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True
            assert security["capabilities"]["drop"] == ["ALL"]
            assert set(c["resources"]) == {"requests", "limits"}


def test_manifests_namespaces_enforce_restricted_pod_security(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    levels = {
        obj["metadata"]["name"]: obj["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for _, obj in docs
        if obj["kind"] == "Namespace"
    }
    # The device plugin and the DCGM exporter alone need host paths (the kubelet's
    # device-plugin and pod-resources sockets).
    assert levels.pop(DEVICE_PLUGIN_NAMESPACE) == "privileged"
    assert levels.pop(DCGM_NAMESPACE) == "privileged"
    assert len(levels) == 3
    assert set(levels.values()) == {"restricted"}


def test_manifests_files_named_by_order_kind_namespace_and_name(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    _, docs = rendered
    ranks = [KIND_ORDER.index(obj["kind"]) for _, obj in docs]

    assert ranks == sorted(ranks)
    for index, (path, obj) in enumerate(docs, start=1):
        assert path.name == manifest_filename(index, obj)
        assert path.parent.name == "manifests"
        assert list(obj)[:3] == ["apiVersion", "kind", "metadata"]
    assert docs[0][0].name.startswith("01-namespace-cluster-")


def test_kubernetes_validate_rejects_unknown_field_when_strict(
    rendered: tuple[PlatformConfig, list[tuple[Path, dict[str, Any]]]],
) -> None:
    cfg, docs = rendered
    deployment = copy.deepcopy(next(o for _, o in docs if o["kind"] in WORKLOAD_KINDS))
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, cfg.cluster.kubernetes_version, strict=True)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda o: o["spec"].__setitem__("secretObjects", []), "secretObjects"),
        (lambda o: o["spec"].__setitem__("paramaters", {}), "paramaters"),
        (lambda o: o["spec"]["parameters"].pop("clientID"), "clientID"),
        (lambda o: o["spec"]["parameters"].__setitem__("usePodIdentity", "true"), "usePodIdentity"),
    ],
    ids=["secret-objects", "typo", "no-client-id", "pod-identity"],
)
def test_secret_provider_class_schema_rejects_object_when_unsafe(
    run_components: Runner, mutate: Callable[[dict[str, Any]], object], path: str
) -> None:
    run, _ = render(stack_config("dev"), "dev", run_components)
    spc = copy.deepcopy(
        next(r.inputs for r in run.resources if r.inputs.get("kind") == "SecretProviderClass")
    )
    jsonschema.validate(spc, SCHEMA)
    mutate(spc)

    with pytest.raises(jsonschema.ValidationError) as caught:
        jsonschema.validate(spc, SCHEMA)
    assert path in f"{caught.value.json_path} {caught.value.message}"


def test_write_manifests_keeps_secret_masked_when_input_secret(
    run_components: Runner, tmp_path: Path
) -> None:
    # One object at the stack's root, not a component: the runner without the component harness.
    run = run_callable(
        lambda: k8s.core.v1.ConfigMap(
            "cm",
            metadata={"name": "settings", "namespace": "mlflow"},
            data={"token": pulumi.Output.secret("s3cr3t-value"), "plain": "visible"},
        )
    )
    (path,) = write_manifests(run, tmp_path)
    text = path.read_text()

    assert path.name == "01-configmap-mlflow-settings.yaml"
    assert "s3cr3t-value" not in text
    assert yaml.safe_load(text)["data"] in ({"token": MASK, "plain": "visible"}, MASK)


def test_write_manifests_replaces_previous_files_when_rerun(
    run_components: Runner, tmp_path: Path
) -> None:
    first, _ = render(stack_config("dev"), "dev", run_components)
    stale = write_manifests(first, tmp_path)
    # The harness refuses a Namespace without a Pod Security level (tests/pod_security.py).
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    second = run_callable(
        lambda: k8s.core.v1.Namespace("ns", metadata={"name": "only", "labels": labels}),
        stack="unit",
    )
    fresh = write_manifests(second, tmp_path)

    assert len(stale) > 1
    assert [p.name for p in fresh] == ["01-namespace-cluster-only.yaml"]
    assert sorted(p.name for p in fresh[0].parent.iterdir()) == ["01-namespace-cluster-only.yaml"]
    assert not any(p.name.startswith(".manifests-") for p in fresh[0].parent.parent.iterdir())


def test_write_manifests_writes_identical_files_when_run_twice(
    run_components: Runner, tmp_path: Path
) -> None:
    runs = [render(stack_config("test"), "test", run_components)[0] for _ in range(2)]
    first = {p.name: p.read_text() for p in write_manifests(runs[0], tmp_path / "a")}
    second = {p.name: p.read_text() for p in write_manifests(runs[1], tmp_path / "b")}

    assert first == second
    assert any("replicas: 1\n" in text for text in first.values())
