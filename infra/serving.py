"""Serving: the release block's model versions and the optional KAITO LLM preset.

:func:`build_serving` turns the validated config and the outputs serving needs
(:class:`ServingInputs`) into a :class:`ModelServing` component. Built after observability:
KEDA's trigger queries the Azure Monitor workspace's Prometheus endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.kit.kubernetes import Placement
from components.kit.naming import Kind, Namer
from components.serving.kaito import LlmWorkspaceSpec
from components.serving.model_server import ServedModelSpec
from components.serving.serving import ModelServing, ModelServingArgs
from infra.config import PlatformConfig
from infra.config.release import ReleaseModel


@dataclass(frozen=True, kw_only=True)
class ServingInputs:
    """The outputs of other components serving consumes."""

    provider_opts: pulumi.ResourceOptions
    """Options that put Kubernetes objects on the cluster (its provider)."""
    registry_login_server: pulumi.Input[str]
    """The stack registry's login server (the workloads image is relative to it)."""
    tracking_uri: str
    """The stack's in-cluster MLflow tracking URI."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the KEDA reader identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    monitor_workspace_resource_id: pulumi.Input[str]
    """Azure Monitor workspace (managed Prometheus)."""
    prometheus_query_endpoint: pulumi.Input[str]
    """Its Prometheus query endpoint."""
    client_namespaces: list[str]
    """Namespaces whose pods may call the model servers."""
    tags: Mapping[str, str]
    """Tags on Azure resources."""
    namer: Namer
    """The stack's namer."""


def served_model(cfg: PlatformConfig, model: ReleaseModel) -> ServedModelSpec:
    """One release entry with its placement resolved (CPU pool, or the named GPU pool)."""
    s = model.serving
    gpu_pool = next((p for p in cfg.gpu_pools if p.name == s.gpu_pool), None)
    placement = (
        Placement(pool=gpu_pool.name, spot=gpu_pool.spot, gpu=True)
        if gpu_pool is not None
        else Placement(pool=cfg.cpu_pool.name, spot=cfg.cpu_pool.spot)
    )
    return ServedModelSpec(
        name=model.name,
        version=model.version,
        min_replicas=s.min_replicas,
        max_replicas=s.max_replicas,
        target_requests_per_second=s.target_requests_per_second,
        cpu_request=s.cpu_request,
        cpu_limit=s.cpu_limit,
        memory_request=s.memory_request,
        memory_limit=s.memory_limit,
        placement=placement,
        gpus=s.gpus if gpu_pool is not None else 0,
        ingress_enabled=s.ingress_enabled,
    )


def llm_workspace(cfg: PlatformConfig) -> LlmWorkspaceSpec | None:
    """The KAITO Workspace the config asks for (its pool's VM size as instance type)."""
    llm = cfg.serving.llm
    if llm is None:
        return None
    pool = next(p for p in cfg.gpu_pools if p.name == llm.gpu_pool)
    return LlmWorkspaceSpec(
        preset=llm.preset, pool=pool.name, instance_type=pool.vm_size, namespace=llm.namespace
    )


def build_serving(cfg: PlatformConfig, inputs: ServingInputs) -> ModelServing | None:
    """The serving component; None when the stack serves nothing."""
    release = cfg.release
    llm = llm_workspace(cfg)
    if not release.models and llm is None:
        return None
    image_reference = release.images.workloads or ""
    return ModelServing(
        "serving",
        ModelServingArgs(
            namespace=cfg.serving.namespace,
            image=pulumi.Output.concat(inputs.registry_login_server, "/", image_reference),
            image_reference=image_reference,
            tracking_uri=inputs.tracking_uri,
            models=[served_model(cfg, m) for m in release.models],
            resource_group_name=inputs.resource_group_name,
            location=cfg.location,
            keda_identity_name=inputs.namer.name(Kind.MANAGED_IDENTITY, "kedaprom"),
            oidc_issuer_url=inputs.oidc_issuer_url,
            monitor_workspace_resource_id=inputs.monitor_workspace_resource_id,
            prometheus_query_endpoint=inputs.prometheus_query_endpoint,
            client_namespaces=inputs.client_namespaces,
            llm=llm,
            tags=dict(inputs.tags),
        ),
        opts=inputs.provider_opts,
    )
