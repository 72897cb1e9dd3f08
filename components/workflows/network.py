"""NetworkPolicies of the workflows namespace.

Nothing calls a Job: every workflow pod (component ``workflows``: ingestion, retraining, the
monitor) admits no ingress, and the monitor admits its ``/metrics`` port from the scraper's
namespace only (NetworkPolicies add up: the monitor is isolated by both and allowed by one).
Ray's pods (components ``ray-head`` and ``ray-worker``) are left out: Ray's workers and the
KubeRay operator reach the head on ports Ray picks at run time.
"""

from __future__ import annotations

import pulumi

from components.kit import kubernetes as kube
from contract.workloads import DEFAULT_METRICS_PORT

MONITOR_APP = "monitor"
COMPONENT = "workflows"
COMPONENT_LABEL = "app.kubernetes.io/component"


def create_policies(
    name: str, *, namespace: str, monitor: bool, opts: pulumi.ResourceOptions
) -> None:
    """The deny-all policy of the workflow pods and, with a monitor, its scrape policy."""
    kube.create_ingress_policy(
        f"{name}-deny-ingress-policy",
        namespace=namespace,
        policy_name="workflows-deny-ingress",
        pod_labels={COMPONENT_LABEL: COMPONENT},
        ports=[],
        from_namespaces=[],
        opts=opts,
    )
    if monitor:
        kube.create_ingress_policy(
            f"{name}-monitor-metrics-policy",
            namespace=namespace,
            policy_name="monitor-metrics",
            pod_labels=kube.app_labels(MONITOR_APP, COMPONENT),
            ports=[DEFAULT_METRICS_PORT],
            from_namespaces=[kube.METRICS_SCRAPER_NAMESPACE],
            opts=opts,
        )
