"""ModelServing: the model servers, KEDA, PodMonitor, ingress and KAITO objects it renders.

Rendered with ``infra.serving.build_serving`` from each stack file's config under the mocks,
with literal inputs shaped like the stack's (login server, workspace id, query endpoint).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import promql_parser
import pytest

from infra.config import PlatformConfig
from infra.serving import build_serving
from offline.runner import OfflineRun
from tests.manifests.crds import keda_problems, validate_pod_monitor
from tests.manifests.serving_inputs import (
    LOGIN_SERVER,
    QUERY_ENDPOINT,
    TRACKING_URI,
    WORKSPACE_ID,
    render_serving,
    serving_inputs,
)
from tests.manifests.workload_inputs import objects, one, stack_config
from tests.unit.test_well_known_values import (
    CLIENT_ID_ANNOTATION,
    ROLE_IDS,
    TOKEN_EXCHANGE_AUDIENCE,
    USE_LABEL,
)

Runner = Callable[[Callable[[], object]], OfflineRun]
WORKSPACE_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "schemas" / "kaito-workspace-v1beta1.json").read_text()
)
BUILT_IN_KINDS = {
    "Namespace",
    "ServiceAccount",
    "Service",
    "Deployment",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
}


def serve(cfg: PlatformConfig, run_components: Runner) -> OfflineRun:
    return render_serving(cfg, run_components)


def server(run: OfflineRun, name: str = "churn") -> dict[str, Any]:
    return one(run, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


@pytest.fixture
def dev(run_components: Runner) -> OfflineRun:
    return serve(stack_config("dev"), run_components)


@pytest.fixture
def prod(run_components: Runner) -> OfflineRun:
    return serve(stack_config("prod"), run_components)


def test_serving_deployment_serves_exact_release_version_from_stack_registry(
    dev: OfflineRun,
) -> None:
    c = server(dev)
    env = env_of(c)

    assert c["image"] == f"{LOGIN_SERVER}/aks-mlops/workloads@sha256:" + "0" * 64
    assert c["command"] == ["python", "-m", "workloads.serve"]
    assert env["SERVE_MODEL_NAME"] == "churn"
    assert env["SERVE_MODEL_VERSION"] == "1"
    assert env["MLFLOW_TRACKING_URI"] == TRACKING_URI
    assert (env["SERVE_PORT"], env["METRICS_PORT"]) == ("8080", "9100")
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080, "metrics": 9100}


def test_serving_readiness_waits_for_model_and_liveness_is_separate(dev: OfflineRun) -> None:
    c = server(dev)

    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/live", "port": "http"}
    # Loading a model version can take minutes: the startup probe holds liveness off.
    startup = c["startupProbe"]
    assert startup["httpGet"]["path"] == "/live"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


def test_serving_pod_restricted_without_azure_identity(dev: OfflineRun) -> None:
    deployment = one(dev, "Deployment", "churn")
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    account = one(dev, "ServiceAccount", "model-server")

    assert pod["serviceAccountName"] == "model-server"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert pod["nodeSelector"] == {"pool": "cpu"}
    # Reaching MLflow in the cluster needs no Azure role: no workload identity at all.
    assert CLIENT_ID_ANNOTATION not in (account["metadata"].get("annotations") or {})
    assert USE_LABEL not in deployment["spec"]["template"]["metadata"]["labels"]
    # One model's pods, selected by name and model (stable across versions: a new one rolls).
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "model-server",
        "app.kubernetes.io/component": "serving",
        "aks-mlops.io/model": "churn",
    }
    assert {v["name"]: v["emptyDir"] for v in pod["volumes"]} == {"tmp": {"sizeLimit": "4Gi"}}


def test_serving_prod_has_two_replicas_pdb_and_zone_spread(prod: OfflineRun) -> None:
    deployment = one(prod, "Deployment", "churn")
    pdb = one(prod, "PodDisruptionBudget", "churn")
    scaler = one(prod, "ScaledObject", "churn")
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]

    assert deployment["spec"]["replicas"] == 2
    assert scaler["spec"]["minReplicaCount"] == 2
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    assert [s["topologyKey"] for s in spread] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]


def test_serving_dev_single_replica_has_no_pdb(dev: OfflineRun) -> None:
    assert objects(dev, "PodDisruptionBudget") == []
    assert one(dev, "ScaledObject", "churn")["spec"]["minReplicaCount"] == 1


def test_serving_replicas_left_to_keda_after_first_apply(dev: OfflineRun) -> None:
    record = next(r for r in dev.resources if r.inputs.get("kind") == "Deployment")

    assert record.ignore_changes == ["spec.replicas"]


def test_serving_scaled_object_queries_contract_rate_on_azure_monitor(dev: OfflineRun) -> None:
    scaler = one(dev, "ScaledObject", "churn")
    (trigger,) = scaler["spec"]["triggers"]
    auth = one(dev, "TriggerAuthentication", trigger["authenticationRef"]["name"])

    # Strict: an unknown key (a misspelt pollingInterval) is pruned by the API server.
    assert keda_problems(scaler) + keda_problems(auth) == []
    assert {k: v for k, v in scaler["spec"].items() if k != "triggers"} == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "churn"},
        "minReplicaCount": 1,
        "maxReplicaCount": 2,
        # Polled twice a minute; a scale-in waits five minutes of low traffic.
        "pollingInterval": 30,
        "cooldownPeriod": 300,
    }
    assert (scaler["spec"]["minReplicaCount"], scaler["spec"]["maxReplicaCount"]) == (1, 2)
    assert trigger["type"] == "prometheus"
    assert trigger["metadata"]["serverAddress"] == QUERY_ENDPOINT
    assert trigger["metadata"]["threshold"] == "20"
    query = trigger["metadata"]["query"]
    promql_parser.parse(query)
    assert query == 'sum(rate(serving_requests_total{model="churn",version="1"}[2m]))'
    assert auth["spec"] == {
        "podIdentity": {
            "provider": "azure-workload",
            "identityId": auth["spec"]["podIdentity"]["identityId"],
        }
    }


def test_serving_keda_identity_reads_workspace_as_keda_operator(dev: OfflineRun) -> None:
    identity = next(r for r in dev.resources if r.type.endswith("UserAssignedIdentity"))
    federation = next(r for r in dev.resources if r.type.endswith("FederatedIdentityCredential"))
    (grant,) = [r for r in dev.resources if r.type == "azure-native:authorization:RoleAssignment"]
    auth = one(dev, "TriggerAuthentication", "azure-monitor-prometheus")

    # https://learn.microsoft.com/azure/azure-monitor/containers/integrate-keda
    assert grant.inputs["roleDefinitionId"].endswith(ROLE_IDS["Monitoring Data Reader"])
    assert grant.inputs["scope"] == WORKSPACE_ID
    assert federation.inputs["subject"] == "system:serviceaccount:kube-system:keda-operator"
    assert federation.inputs["audiences"] == [TOKEN_EXCHANGE_AUDIENCE]
    assert auth["spec"]["podIdentity"]["identityId"] == identity.outputs["clientId"]


def test_serving_pod_monitor_scrapes_metrics_port(dev: OfflineRun) -> None:
    monitor = one(dev, "PodMonitor", "churn")
    deployment = one(dev, "Deployment", "churn")

    validate_pod_monitor(monitor)
    assert (
        monitor["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    )
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics"


def test_serving_network_policies_admit_clients_and_scraper_only(dev: OfflineRun) -> None:
    def admitted(name: str) -> tuple[list[int], list[str]]:
        (rule,) = one(dev, "NetworkPolicy", name)["spec"]["ingress"]
        ports = [p["port"] for p in rule["ports"]]
        namespaces = rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"]
        return ports, namespaces

    assert admitted("model-server-predict") == ([8080], ["mlflow", "serving", "vector-store"])
    assert admitted("model-server-metrics") == ([9100], ["kube-system"])
    assert objects(dev, "Ingress") == []


def test_serving_ingress_internal_class_when_enabled(run_components: Runner) -> None:
    cfg = stack_config(
        "test",
        release={"models": [{"name": "churn", "version": 4, "serving": {"ingressEnabled": True}}]},
    )
    run = serve(cfg, run_components)
    ingress = one(run, "Ingress", "churn")
    (rule,) = one(run, "NetworkPolicy", "model-server-predict")["spec"]["ingress"]

    assert ingress["spec"]["ingressClassName"] == "webapprouting.kubernetes.azure.com"
    (path,) = ingress["spec"]["rules"][0]["http"]["paths"]
    assert path["backend"]["service"] == {"name": "churn", "port": {"name": "http"}}
    # ingress-nginx matches a regex path (ImplementationSpecific) and rewrites to the target
    # with the path's groups ($2: what follows the model's prefix), so the server sees its own
    # routes: /churn/predict -> /predict, /churn -> /; another model's prefix does not match.
    assert path["pathType"] == "ImplementationSpecific"
    target = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]

    def rewritten(uri: str) -> str | None:
        match = re.match(path["path"], uri)
        return re.sub(r"\$(\d)", lambda g: match[int(g[1])] or "", target) if match else None

    assert rewritten("/churn/predict") == "/predict"
    assert rewritten("/churn/") == "/"
    assert rewritten("/churn") == "/"
    assert rewritten("/churner/predict") is None
    assert rewritten("/other/predict") is None
    assert (
        "app-routing-system"
        in rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"]
    )
    assert all(o["spec"]["type"] == "ClusterIP" for o in objects(run, "Service"))


def test_serving_gpu_pool_placement_when_configured(run_components: Runner) -> None:
    cfg = stack_config(
        "dev",
        release={
            "models": [{"name": "churn", "version": 2, "serving": {"gpuPool": "gput4", "gpus": 1}}]
        },
    )
    run = serve(cfg, run_components)
    pod = one(run, "Deployment", "churn")["spec"]["template"]["spec"]

    assert pod["nodeSelector"] == {"pool": "gput4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    # dev's T4 pool is a spot pool: AKS's spot taint is tolerated too.
    assert {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    } in pod["tolerations"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_serving_kaito_workspace_valid_for_preset_on_gpu_pool(dev: OfflineRun) -> None:
    (workspace,) = [
        r.inputs for r in dev.resources if r.type == "kubernetes:kaito.sh/v1beta1:Workspace"
    ]
    namespace = one(dev, "Namespace", "llm")

    jsonschema.validate(workspace, WORKSPACE_SCHEMA)
    assert workspace["resource"] == {
        "instanceType": "Standard_NC4as_T4_v3",
        "labelSelector": {"matchLabels": {"pool": "gput4"}},
    }
    assert workspace["inference"] == {"preset": {"name": "phi-3-mini-4k-instruct"}}
    assert workspace["metadata"]["namespace"] == "llm"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda w: w.__setitem__("spec", {}), "spec"),
        (lambda w: w["resource"].pop("instanceType"), "instanceType"),
        (lambda w: w["inference"]["preset"].__setitem__("nmae", "x"), "nmae"),
        (lambda w: w.__setitem__("tuning", {}), "tuning"),
    ],
    ids=["spec-key", "no-instance-type", "typo", "tuning"],
)
def test_kaito_workspace_schema_rejects_object_when_wrong(
    dev: OfflineRun, mutate: Callable[[dict[str, Any]], object], where: str
) -> None:
    (record,) = [r for r in dev.resources if r.type == "kubernetes:kaito.sh/v1beta1:Workspace"]
    workspace = json.loads(json.dumps(record.inputs))
    mutate(workspace)

    with pytest.raises(jsonschema.ValidationError) as caught:
        jsonschema.validate(workspace, WORKSPACE_SCHEMA)
    assert where in f"{caught.value.json_path} {caught.value.message}"


@pytest.mark.parametrize("stack", ["dev", "test", "prod"])
def test_serving_builtin_manifests_valid_strict_for_cluster_version(
    stack: str, run_components: Runner
) -> None:
    cfg = stack_config(stack)
    run = serve(cfg, run_components)
    built_in = [
        r.inputs
        for r in run.resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") in BUILT_IN_KINDS
    ]

    assert {o["kind"] for o in built_in} >= {"Namespace", "Deployment", "Service", "NetworkPolicy"}
    for obj in built_in:
        kubernetes_validate.validate(obj, cfg.cluster.kubernetes_version, strict=True)


def test_serving_absent_when_release_and_llm_empty(run_components: Runner) -> None:
    cfg = stack_config("test", release={"images": {}, "models": []})

    assert serve(cfg, run_components).resources == []


def test_serving_service_targets_the_named_http_port(dev: OfflineRun) -> None:
    service = one(dev, "Service", "churn")
    deployment = one(dev, "Deployment", "churn")

    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_serving_endpoints_output_names_each_model_service(run_components: Runner) -> None:
    cfg = stack_config("dev")
    seen: list[object] = []

    def body() -> None:
        built = build_serving(cfg, serving_inputs(cfg))
        assert built is not None
        built.endpoints.apply(seen.append)

    run_components(body)

    assert seen == [{"churn": "http://churn.serving.svc.cluster.local:8080"}]
