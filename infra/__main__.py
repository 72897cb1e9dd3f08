"""The aks-mlops program: validate the stack config, compose the platform, export.

Config is validated in full before any resource is registered; an invalid stack file
stops here with every problem listed (``pulumi.RunError``: no traceback), and so does a real
deployment of a stack file that still has documentation placeholders.
"""

import pulumi

from infra.config import from_pulumi_config
from infra.config.placeholders import enforce_no_placeholders
from infra.platform import build_platform

config = from_pulumi_config()
# Documentation placeholders in the stack file: an error for a real deployment (nothing is
# registered), a warning in the offline plan.
enforce_no_placeholders(config)
platform = build_platform(config, pulumi.get_stack())

pulumi.export("resourceGroupName", platform.network.resource_group_name)
pulumi.export("clusterName", platform.cluster.name)
pulumi.export("oidcIssuerUrl", platform.cluster.oidc_issuer_url)
pulumi.export("acrLoginServer", platform.registry.login_server)
pulumi.export("nodePools", sorted(platform.node_pools))
# Names and endpoints only: the PostgreSQL password lives in Key Vault and is never exported.
pulumi.export("storageAccountName", platform.data_lake.name)
pulumi.export("keyVaultName", platform.key_vault.name)
pulumi.export("keyVaultUri", platform.key_vault.vault_uri)
pulumi.export("postgresFqdn", platform.postgres.fqdn)
pulumi.export("mlflowTrackingUri", platform.workloads.mlflow.tracking_uri)
pulumi.export("vectorStoreEndpoint", platform.workloads.vector_store.endpoint)
obs = platform.observability
pulumi.export("logAnalyticsWorkspaceId", obs.log_analytics.resource_id)
pulumi.export("azureMonitorWorkspaceId", obs.prometheus.workspace_resource_id)
pulumi.export("prometheusQueryEndpoint", obs.prometheus.query_endpoint)
pulumi.export("grafanaName", obs.grafana.name)
pulumi.export("grafanaEndpoint", obs.grafana.endpoint)
pulumi.export(
    "getCredentials",
    pulumi.Output.concat(
        "az aks get-credentials --resource-group ",
        platform.network.resource_group_name,
        " --name ",
        platform.cluster.name,
        " && kubelogin convert-kubeconfig -l azurecli",
    ),
)
serving = platform.serving
pulumi.export("servingEndpoints", serving.endpoints if serving else {})
pulumi.export("llmService", serving.llm_service if serving else "")
