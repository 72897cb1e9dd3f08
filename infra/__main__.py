"""The aks-mlops program: validate the stack config, compose the platform, export.

Config is validated in full before any resource is registered; an invalid stack file
stops here with every problem listed (``pulumi.RunError``: no traceback).
"""

import pulumi

from infra.config import from_pulumi_config
from infra.platform import build_platform

config = from_pulumi_config()
platform = build_platform(config, pulumi.get_stack())

pulumi.export("resourceGroupName", platform.network.resource_group_name)
pulumi.export("clusterName", platform.cluster.name)
pulumi.export("oidcIssuerUrl", platform.cluster.oidc_issuer_url)
pulumi.export("acrLoginServer", platform.registry.login_server)
pulumi.export("nodePools", sorted(platform.node_pools))
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
