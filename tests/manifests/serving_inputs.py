"""Literal inputs for calling ``build_serving`` under the mocks, and a renderer.

Shaped like a stack's: the registry's login server, the Azure Monitor workspace id and its
Prometheus query endpoint, the in-cluster MLflow tracking URI (written out, not imported).
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.kit.naming import Namer
from infra.config import PlatformConfig
from infra.serving import ServingInputs, build_serving
from offline.runner import SUBSCRIPTION_ID, OfflineRun

Runner = Callable[[Callable[[], object]], OfflineRun]
LOGIN_SERVER = "crmlopsunit0001.azurecr.io"
WORKSPACE_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-mlops-unit-weu/providers/"
    "Microsoft.Monitor/accounts/amw-mlops-unit-weu"
)
QUERY_ENDPOINT = "https://amw-mlops-unit-weu-abcd.westeurope.prometheus.monitor.azure.com"
TRACKING_URI = "http://mlflow.mlflow.svc.cluster.local:5000"


def serving_inputs(cfg: PlatformConfig) -> ServingInputs:
    """Inputs for ``cfg`` named the way a unit stack's namer names them."""
    namer = Namer(
        workload=cfg.workload, stack="unit", location=cfg.location, subscription_id=SUBSCRIPTION_ID
    )
    return ServingInputs(
        provider_opts=pulumi.ResourceOptions(),
        registry_login_server=LOGIN_SERVER,
        tracking_uri=TRACKING_URI,
        resource_group_name="rg-mlops-unit-weu",
        oidc_issuer_url="https://westeurope.oic.prod-aks.azure.com/tenant/0000/",
        monitor_workspace_resource_id=WORKSPACE_ID,
        prometheus_query_endpoint=QUERY_ENDPOINT,
        client_namespaces=["mlflow", "vector-store"],
        tags=cfg.tags.as_dict(),
        namer=namer,
    )


def render_serving(cfg: PlatformConfig, run_components: Runner) -> OfflineRun:
    """``build_serving`` for ``cfg`` under the mocks."""
    return run_components(lambda: build_serving(cfg, serving_inputs(cfg)))
