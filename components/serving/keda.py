"""KEDA against the stack's Azure Monitor workspace (managed Prometheus): the shared pieces.

Used by the serving ScaledObjects here and meant for the workflows' ScaledJobs too:

- :func:`create_prometheus_reader_identity`: a user-assigned identity with Monitoring Data
  Reader on the Azure Monitor workspace, federated with the KEDA add-on's operator service
  account (``kube-system/keda-operator``): KEDA, not the scaled workload, queries Prometheus.
- :func:`create_azure_monitor_trigger_authentication`: a ``TriggerAuthentication`` whose
  ``podIdentity`` is ``azure-workload`` with that identity's client id (``identityId``).
- :func:`azure_monitor_prometheus_trigger`: a ``prometheus`` trigger on the workspace's query
  endpoint that uses it.

Sources: Learn, "Integrate KEDA with your Azure Kubernetes Service cluster"
(https://learn.microsoft.com/azure/azure-monitor/containers/integrate-keda: Monitoring Data
Reader on the workspace, a federated credential for the KEDA operator's service account, the
workspace's query endpoint as ``serverAddress``, ``podIdentity.provider: azure-workload``) and
KEDA's Prometheus scaler and workload identity docs
(https://keda.sh/docs/2.16/scalers/prometheus/,
https://keda.sh/docs/2.16/authentication-providers/azure-ad-workload-identity/).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.kit import kubernetes as kube
from components.kit.keda import KEDA_API, KEDA_NAMESPACE, KEDA_SERVICE_ACCOUNT
from components.kit.shared import ScopedRoleAssignmentSpec

AZURE_WORKLOAD_PROVIDER = "azure-workload"
PROMETHEUS_TRIGGER = "prometheus"
READER_ROLE = "Monitoring Data Reader"


def create_prometheus_reader_identity(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    identity_name: str,
    oidc_issuer_url: pulumi.Input[str],
    monitor_workspace_resource_id: pulumi.Input[str],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> WorkloadIdentity:
    """The identity KEDA's operator uses to read the Azure Monitor workspace."""
    return WorkloadIdentity(
        name,
        WorkloadIdentityArgs(
            resource_group_name=resource_group_name,
            location=location,
            identity_name=identity_name,
            oidc_issuer_url=oidc_issuer_url,
            namespace=KEDA_NAMESPACE,
            service_account=KEDA_SERVICE_ACCOUNT,
            role_assignments={
                "metrics-reader": ScopedRoleAssignmentSpec(
                    role=READER_ROLE, scope=monitor_workspace_resource_id
                )
            },
            tags=tags,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def create_azure_monitor_trigger_authentication(
    name: str,
    *,
    namespace: str,
    auth_name: str,
    identity_client_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A TriggerAuthentication signing KEDA in as the reader identity (no secret anywhere)."""
    return k8s.apiextensions.CustomResource(
        name,
        api_version=KEDA_API,
        kind="TriggerAuthentication",
        metadata={"name": auth_name, "namespace": namespace, "labels": kube.part_of_labels()},
        spec={
            "podIdentity": {
                "provider": AZURE_WORKLOAD_PROVIDER,
                "identityId": identity_client_id,
            }
        },
        opts=opts,
    )


def azure_monitor_prometheus_trigger(
    *,
    query_endpoint: pulumi.Input[str],
    query: str,
    threshold: float,
    auth_name: str,
    activation_threshold: float | None = None,
) -> dict[str, Any]:
    """A ``prometheus`` trigger against the workspace's query endpoint.

    KEDA takes every metadata value as a string. ``ignoreNullValues`` stays at its default
    (true): before the first scrape the query has no sample, which reads as 0.
    """
    metadata: dict[str, Any] = {
        "serverAddress": query_endpoint,
        "query": query,
        "threshold": f"{threshold:g}",
    }
    if activation_threshold is not None:
        metadata["activationThreshold"] = f"{activation_threshold:g}"
    return {
        "type": PROMETHEUS_TRIGGER,
        "metadata": metadata,
        "authenticationRef": {"name": auth_name},
    }
