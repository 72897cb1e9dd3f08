"""The Kubernetes objects of one served model version (used by :class:`ModelServing`).

Deployment of the workloads image running ``python -m workloads.serve`` (readiness on the
model being loaded, liveness apart, requests/limits, restricted security context, spread over
zones), its ClusterIP Service, a PodDisruptionBudget from two replicas, the KEDA ScaledObject
on the contract's request rate, the PodMonitor managed Prometheus scrapes, and, when asked, an
internal Ingress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kit import kubernetes as kube
from components.kit.keda import KEDA_API
from components.serving.keda import azure_monitor_prometheus_trigger
from components.serving.server import (
    METRICS_PORT,
    SERVE_PORT,
    TMP_DIR,
    object_name,
    server_command,
    server_env,
)
from contract import workloads as env
from contract.queries import serving_request_rate_query

APP = "model-server"
PODMONITOR_API = "azmonitoring.coreos.com/v1"
# AKS application routing's default NGINX controller (internal when the cluster says so).
APP_ROUTING_INGRESS_CLASS = "webapprouting.kubernetes.azure.com"
MIN_REPLICAS_FOR_PDB = 2
# A model version can take minutes to download and load: readiness waits, liveness does not.
STARTUP_PERIOD_SECONDS = 10
STARTUP_FAILURES = 60
KEDA_POLLING_SECONDS = 30
KEDA_COOLDOWN_SECONDS = 300


@dataclass(frozen=True, kw_only=True)
class ServedModelSpec:
    """One model version the release block names, with this stack's serving settings."""

    name: str
    """Registered model name."""
    version: int
    """Exact registered version."""
    min_replicas: int
    """Fewest replicas (KEDA's ``minReplicaCount``)."""
    max_replicas: int
    """Most replicas (KEDA's ``maxReplicaCount``)."""
    target_requests_per_second: float
    """Request rate one replica should answer (the trigger's threshold)."""
    cpu_request: str
    """CPU request per replica."""
    cpu_limit: str
    """CPU limit per replica."""
    memory_request: str
    """Memory request per replica."""
    memory_limit: str
    """Memory limit per replica."""
    placement: kube.Placement
    """Node pool (CPU user pool, or a GPU pool)."""
    gpus: int = 0
    """GPUs per replica (only on a GPU pool)."""
    ingress_enabled: bool = False
    """An internal Ingress (application routing's internal NGINX)."""
    scratch_size_gi: int = 4
    """Size limit of ``/tmp``, where MLflow downloads the model version."""


def labels(model: ServedModelSpec) -> dict[str, str]:
    """Selector labels of one model's pods (stable across versions: a new version rolls)."""
    return {**kube.app_labels(APP, "serving"), "aks-mlops.io/model": object_name(model.name)}


def create_deployment(
    name: str,
    model: ServedModelSpec,
    *,
    namespace: str,
    image: pulumi.Input[str],
    image_reference: str,
    tracking_uri: str,
    service_account: str,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    """The model server Deployment; KEDA owns ``replicas`` after the first apply."""
    selector = labels(model)
    limits = {"cpu": model.cpu_limit, "memory": model.memory_limit, **kube.gpu_limits(model.gpus)}
    container = k8s.core.v1.ContainerArgs(
        name=APP,
        image=image,
        image_pull_policy=kube.IMAGE_PULL_POLICY,
        command=server_command(),
        env=kube.env_vars(
            server_env(
                model_name=model.name, model_version=model.version, tracking_uri=tracking_uri
            )
        ),
        ports=[
            k8s.core.v1.ContainerPortArgs(name="http", container_port=SERVE_PORT),
            k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT),
        ],
        startup_probe=kube.http_probe(
            env.SERVE_LIVE_PATH, "http", period=STARTUP_PERIOD_SECONDS, failures=STARTUP_FAILURES
        ),
        readiness_probe=kube.http_probe(env.SERVE_READY_PATH, "http", period=5),
        liveness_probe=kube.http_probe(env.SERVE_LIVE_PATH, "http", period=20, failures=3),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": model.cpu_request, "memory": model.memory_request},
            limits=limits,
        ),
        security_context=kube.container_security_context(),
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=TMP_DIR)],
    )
    pod = k8s.core.v1.PodSpecArgs(
        service_account_name=service_account,
        automount_service_account_token=False,
        security_context=kube.pod_security_context(fs_group=kube.UNPRIVILEGED_ID),
        node_selector=model.placement.node_selector(),
        tolerations=model.placement.tolerations(),
        topology_spread_constraints=spread(selector),
        containers=[container],
        volumes=[kube.scratch_volume("tmp", f"{model.scratch_size_gi}Gi")],
    )
    return k8s.apps.v1.Deployment(
        f"{name}-deployment",
        metadata=kube.workload_metadata(
            name=object_name(model.name),
            namespace=namespace,
            labels=selector,
            images=[image_reference],
        ),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            replicas=model.min_replicas,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=selector), spec=pod
            ),
        ),
        # KEDA's HPA sets the replica count from here on; a later `pulumi up` must not reset it.
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
        ),
    )


def spread(selector: Mapping[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Spread replicas over zones, then hosts; never block scheduling on it (a pool may span
    fewer zones than the cluster)."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def create_service(
    name: str, model: ServedModelSpec, *, namespace: str, opts: pulumi.ResourceOptions
) -> k8s.core.v1.Service:
    """ClusterIP Service on the prediction port (never a load balancer)."""
    return kube.create_cluster_ip_service(
        f"{name}-service",
        namespace=namespace,
        service_name=object_name(model.name),
        selector=labels(model),
        port_name="http",
        port=SERVE_PORT,
        opts=opts,
    )


def create_disruption_budget(
    name: str, model: ServedModelSpec, *, namespace: str, opts: pulumi.ResourceOptions
) -> k8s.policy.v1.PodDisruptionBudget | None:
    """At most one replica down for a node drain, from two replicas up (none below)."""
    if model.min_replicas < MIN_REPLICAS_FOR_PDB:
        return None
    return k8s.policy.v1.PodDisruptionBudget(
        f"{name}-disruption-budget",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=object_name(model.name), namespace=namespace, labels=kube.part_of_labels()
        ),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels(model)),
        ),
        opts=opts,
    )


def create_scaled_object(
    name: str,
    model: ServedModelSpec,
    *,
    namespace: str,
    query_endpoint: pulumi.Input[str],
    auth_name: str,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """KEDA scales the Deployment on the contract's request rate of this model version."""
    return k8s.apiextensions.CustomResource(
        f"{name}-scaler",
        api_version=KEDA_API,
        kind="ScaledObject",
        metadata={
            "name": object_name(model.name),
            "namespace": namespace,
            "labels": kube.part_of_labels(),
        },
        spec={
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": object_name(model.name),
            },
            "minReplicaCount": model.min_replicas,
            "maxReplicaCount": model.max_replicas,
            "pollingInterval": KEDA_POLLING_SECONDS,
            "cooldownPeriod": KEDA_COOLDOWN_SECONDS,
            "triggers": [
                azure_monitor_prometheus_trigger(
                    query_endpoint=query_endpoint,
                    query=serving_request_rate_query(model.name, model.version),
                    threshold=model.target_requests_per_second,
                    auth_name=auth_name,
                )
            ],
        },
        opts=opts,
    )


def create_pod_monitor(
    name: str,
    model: ServedModelSpec,
    *,
    namespace: str,
    scrape_interval_seconds: int,
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """Managed Prometheus (ama-metrics) scrapes the replicas' ``/metrics``."""
    return k8s.apiextensions.CustomResource(
        f"{name}-podmonitor",
        api_version=PODMONITOR_API,
        kind="PodMonitor",
        metadata={
            "name": object_name(model.name),
            "namespace": namespace,
            "labels": kube.part_of_labels(),
        },
        spec={
            "selector": {"matchLabels": labels(model)},
            "namespaceSelector": {"matchNames": [namespace]},
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "interval": f"{scrape_interval_seconds}s",
                }
            ],
        },
        opts=opts,
    )


def create_ingress(
    name: str, model: ServedModelSpec, *, namespace: str, opts: pulumi.ResourceOptions
) -> k8s.networking.v1.Ingress | None:
    """An Ingress on application routing's internal NGINX (``/<model>/...``), if enabled."""
    if not model.ingress_enabled:
        return None
    path = f"/{object_name(model.name)}"
    return k8s.networking.v1.Ingress(
        f"{name}-ingress",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=object_name(model.name),
            namespace=namespace,
            labels=kube.part_of_labels(),
            annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/$2"},
        ),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=APP_ROUTING_INGRESS_CLASS,
            rules=[
                k8s.networking.v1.IngressRuleArgs(
                    http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                        paths=[
                            k8s.networking.v1.HTTPIngressPathArgs(
                                path=f"{path}(/|$)(.*)",
                                path_type="ImplementationSpecific",
                                backend=k8s.networking.v1.IngressBackendArgs(
                                    service=k8s.networking.v1.IngressServiceBackendArgs(
                                        name=object_name(model.name),
                                        port=k8s.networking.v1.ServiceBackendPortArgs(name="http"),
                                    )
                                ),
                            )
                        ]
                    )
                )
            ],
        ),
        opts=opts,
    )
