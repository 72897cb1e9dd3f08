"""ModelServing: online serving of the release's model versions and an optional LLM preset.

Creates, in the serving namespace (Pod Security "restricted"):

- a ServiceAccount for the model servers, **without** a workload identity: they reach the
  stack's MLflow server in the cluster over HTTP, and MLflow proxies the artifacts
  (``mlflow-artifacts:``), so no pod here holds an Azure role;
- NetworkPolicies: predictions only from the client namespaces (and the internal ingress
  controller when an ingress is on), ``/metrics`` only from ``kube-system`` (ama-metrics);
- per model (:mod:`components.serving.model_server`): Deployment, Service, PDB from two
  replicas, KEDA ScaledObject on the contract's request rate, PodMonitor, optional Ingress;
- the KEDA side (:mod:`components.serving.keda`): an identity with Monitoring Data Reader on
  the Azure Monitor workspace, federated with the KEDA operator, and a TriggerAuthentication;
- with an LLM preset: a KAITO Workspace (:mod:`components.serving.kaito`) in its own namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.kit import kubernetes as kube
from components.serving import model_server as ms
from components.serving.kaito import LlmWorkspaceSpec, create_workspace, workspace_name
from components.serving.keda import (
    create_azure_monitor_trigger_authentication,
    create_prometheus_reader_identity,
)
from components.serving.server import METRICS_PORT, SERVE_PORT, object_name

SERVICE_ACCOUNT = "model-server"
TRIGGER_AUTH = "azure-monitor-prometheus"
# The application routing add-on's NGINX controllers run here.
APP_ROUTING_NAMESPACE = "app-routing-system"


@dataclass(frozen=True, kw_only=True)
class ModelServingArgs:
    """Inputs of :class:`ModelServing`."""

    namespace: str
    """Namespace of the model servers."""
    image: pulumi.Input[str]
    """The workloads image with the registry's login server in front."""
    image_reference: str
    """The same image as the release block names it (repository@digest or :version)."""
    tracking_uri: str
    """The stack's in-cluster MLflow tracking URI."""
    models: Sequence[ms.ServedModelSpec]
    """The release block's models."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the KEDA reader identity."""
    location: str
    """Azure region."""
    keda_identity_name: str
    """Name of the KEDA reader identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    monitor_workspace_resource_id: pulumi.Input[str]
    """Azure Monitor workspace the serving series are stored in."""
    prometheus_query_endpoint: pulumi.Input[str]
    """Its Prometheus query endpoint (KEDA's ``serverAddress``)."""
    client_namespaces: Sequence[str] = ()
    """Namespaces whose pods may call the model servers (besides their own)."""
    llm: LlmWorkspaceSpec | None = None
    """A KAITO preset; None: none."""
    scrape_interval_seconds: int = 30
    """How often managed Prometheus scrapes the servers."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the Azure resources."""


class ModelServing(pulumi.ComponentResource):
    """Model servers for the release block, autoscaled by KEDA, and an optional KAITO preset."""

    namespace: pulumi.Output[str]
    """The serving namespace."""
    endpoints: pulumi.Output[dict[str, str]]
    """In-cluster prediction URL by model name."""
    llm_service: pulumi.Output[str]
    """In-cluster host of the LLM preset's Service (KAITO names it after the Workspace);
    empty without one."""

    def __init__(
        self, name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:serving:ModelServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        endpoints: dict[str, str] = {}
        if args.models:
            namespace = kube.create_namespace(f"{name}-namespace", args.namespace, opts=child)
            in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
            account = self._create_service_account(name, args, in_namespace)
            self._create_policies(name, args, in_namespace)
            reader = create_prometheus_reader_identity(
                f"{name}-keda-reader",
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity_name=args.keda_identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                monitor_workspace_resource_id=args.monitor_workspace_resource_id,
                tags=args.tags,
                parent=self,
            )
            create_azure_monitor_trigger_authentication(
                f"{name}-trigger-auth",
                namespace=args.namespace,
                auth_name=TRIGGER_AUTH,
                identity_client_id=reader.client_id,
                opts=in_namespace,
            )
            # The model servers' pods run as the account: created first, never refused.
            with_account = pulumi.ResourceOptions(parent=self, depends_on=[namespace, account])
            for model in args.models:
                endpoints[model.name] = self._create_model(name, args, model, with_account)
        llm_host = ""
        if args.llm is not None:
            # KAITO generates the inference pods (their security context is KAITO's): enforce
            # "baseline" (no privileged pods, no host paths), warn on what "restricted" refuses.
            llm_ns = kube.create_namespace(
                f"{name}-llm-namespace", args.llm.namespace, opts=child, enforce="baseline"
            )
            create_workspace(
                f"{name}-llm-workspace",
                args.llm,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[llm_ns]),
            )
            llm_host = f"{workspace_name(args.llm.preset)}.{args.llm.namespace}.svc.cluster.local"
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.endpoints = pulumi.Output.from_input(endpoints)
        self.llm_service = pulumi.Output.from_input(llm_host)
        self.register_outputs(
            {
                "namespace": self.namespace,
                "endpoints": self.endpoints,
                "llm_service": self.llm_service,
            }
        )

    def _create_model(
        self,
        name: str,
        args: ModelServingArgs,
        model: ms.ServedModelSpec,
        opts: pulumi.ResourceOptions,
    ) -> str:
        key = f"{name}-{object_name(model.name)}"
        ms.create_deployment(
            key,
            model,
            namespace=args.namespace,
            image=args.image,
            image_reference=args.image_reference,
            tracking_uri=args.tracking_uri,
            service_account=SERVICE_ACCOUNT,
            opts=opts,
        )
        ms.create_service(key, model, namespace=args.namespace, opts=opts)
        ms.create_disruption_budget(key, model, namespace=args.namespace, opts=opts)
        ms.create_scaled_object(
            key,
            model,
            namespace=args.namespace,
            query_endpoint=args.prometheus_query_endpoint,
            auth_name=TRIGGER_AUTH,
            opts=opts,
        )
        ms.create_pod_monitor(
            key,
            model,
            namespace=args.namespace,
            scrape_interval_seconds=args.scrape_interval_seconds,
            opts=opts,
        )
        ms.create_ingress(key, model, namespace=args.namespace, opts=opts)
        host = f"{object_name(model.name)}.{args.namespace}.svc.cluster.local"
        return f"http://{host}:{SERVE_PORT}"

    @staticmethod
    def _create_service_account(
        name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.ServiceAccount:
        # No client-id annotation: the servers need no Azure identity (module docstring).
        return k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SERVICE_ACCOUNT, namespace=args.namespace, labels=kube.part_of_labels()
            ),
            automount_service_account_token=False,
            opts=opts,
        )

    @staticmethod
    def _create_policies(name: str, args: ModelServingArgs, opts: pulumi.ResourceOptions) -> None:
        callers = [args.namespace, *args.client_namespaces]
        if any(m.ingress_enabled for m in args.models):
            callers.append(APP_ROUTING_NAMESPACE)
        pods = kube.app_labels(ms.APP, "serving")
        kube.create_ingress_policy(
            f"{name}-predict-policy",
            namespace=args.namespace,
            policy_name="model-server-predict",
            pod_labels=pods,
            ports=[SERVE_PORT],
            from_namespaces=callers,
            opts=opts,
        )
        kube.create_ingress_policy(
            f"{name}-metrics-policy",
            namespace=args.namespace,
            policy_name="model-server-metrics",
            pod_labels=pods,
            ports=[METRICS_PORT],
            from_namespaces=[kube.METRICS_SCRAPER_NAMESPACE],
            opts=opts,
        )
