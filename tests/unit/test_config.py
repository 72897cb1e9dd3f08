"""Typed stack config: every bad input is rejected with its key, its value and the rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pydantic import BaseModel, ValidationError, field_validator

from infra.config import ConfigError, PlatformConfig, from_pulumi_config, parse_config
from infra.config.cluster import SUPPORTED_KUBERNETES_MINORS
from infra.config.errors import format_validation_error, show_value
from tests.conftest import STACKS, encode, stack_values

P = "aks-mlops:"


def _set(values: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b[0].c`` inside the decoded config (top-level key without the prefix)."""
    parts: list[str | int] = []
    for token in path.replace("]", "").split("."):
        name, *indexes = token.split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes)
    target: Any = values
    parts[0] = P + str(parts[0])
    for part in parts[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = value


_DELETE = object()

# (stack, {path: value}, the whole problem line): key, value and rule, exactly as a user reads
# them. One row per rule at least; a rule without a row is a rule nothing stops from vanishing
# (and `make unit` enforces 100 % branch coverage of infra/config).
BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "dev",
        {"monitoring.logAnalytics.retentionDays": 29},
        "monitoring.logAnalytics.retentionDays (29) must be 30..730 days (Azure's range for a PerGB2018 workspace)",
    ),
    (
        "prod",
        {"monitoring.logAnalytics.retentionDays": 731},
        "monitoring.logAnalytics.retentionDays (731) must be 30..730 days (Azure's range for a PerGB2018 workspace)",
    ),
    (
        "dev",
        {"monitoring.logAnalytics.dailyQuotaGb": 0},
        "monitoring.logAnalytics.dailyQuotaGb (0.0) must be > 0 GB, or -1 for no daily cap",
    ),
    (
        "dev",
        {"monitoring.logAnalytics.dailyQuotaGb": -2},
        "monitoring.logAnalytics.dailyQuotaGb (-2.0) must be > 0 GB, or -1 for no daily cap",
    ),
    (
        "dev",
        {"monitoring.containerInsights.collectionInterval": "45s"},
        'monitoring.containerInsights.collectionInterval ("45s") must be 1m..30m (whole minutes, e.g. 5m)',
    ),
    (
        "dev",
        {"monitoring.containerInsights.collectionInterval": "31m"},
        'monitoring.containerInsights.collectionInterval ("31m") must be 1m..30m (whole minutes, e.g. 5m)',
    ),
    (
        "dev",
        {"monitoring.containerInsights.namespaces": []},
        "monitoring.containerInsights.namespaces ([]) must list namespaces when "
        "namespaceFilteringMode is Exclude",
    ),
    (
        "dev",
        {"monitoring.containerInsights.namespaces": ["Kube_System"]},
        'monitoring.containerInsights.namespaces[0] ("Kube_System") must be a namespace name (DNS-1123 label)',
    ),
    (
        "prod",
        {"monitoring.grafana.privateEndpointEnabled": False},
        "monitoring.grafana.publicNetworkAccessEnabled (false) needs privateEndpointEnabled: without either nobody can reach Grafana",
    ),
    (
        "dev",
        {"monitoring.actionGroup.emails": {"platform": "not-an-email"}},
        'monitoring.actionGroup.emails.platform ("not-an-email") must be an email address',
    ),
    (
        "test",
        {"monitoring.actionGroup.webhooks": {"chatops": "http://hooks.example.com/x"}},
        'monitoring.actionGroup.webhooks.chatops ("http://hooks.example.com/x") must be an '
        "https URL",
    ),
    (
        "test",
        {"monitoring.actionGroup.webhooks": {"chatops": "hooks.example.com/x"}},
        'monitoring.actionGroup.webhooks.chatops ("hooks.example.com/x") must be an https URL',
    ),
    (
        "prod",
        {"monitoring.actionGroup.shortName": "mlops-production"},
        'monitoring.actionGroup.shortName ("mlops-production") must be 1-12 characters',
    ),
    (
        "dev",
        {"monitoring.diagnostics.aksCategories": ["kube-everything"]},
        "monitoring.diagnostics.aksCategories[0] (\"kube-everything\") Input should be 'kube-apiserver', 'kube-audit', 'kube-audit-admin', 'kube-controller-manager', 'kube-scheduler', 'cluster-autoscaler', 'cloud-controller-manager', 'guard', 'csi-azuredisk-controller', 'csi-azurefile-controller' or 'csi-snapshot-controller'",
    ),
    (
        "dev",
        {"mlflow.ingressEnabled": True},
        "mlflow.ingressEnabled (true) is not supported yet: reach MLflow in the cluster or with `kubectl port-forward svc/mlflow 5000`",
    ),
    (
        "dev",
        {"mlflow.scratchSizeGi": 0},
        "mlflow.scratchSizeGi (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"cost": {"monthlyBudgetUsd": 0}},
        "cost.monthlyBudgetUsd (0) must be a positive amount in US dollars, e.g. 1500",
    ),
    (
        "prod",
        {"cost": {"monthlyBudgetUsd": -100}},
        "cost.monthlyBudgetUsd (-100) must be a positive amount in US dollars, e.g. 1500",
    ),
    (
        "dev",
        {"cost": {"monthlyBudgetUsd": "1500"}},
        'cost.monthlyBudgetUsd ("1500") must be a positive amount in US dollars, e.g. 1500',
    ),
    (
        "dev",
        {"cost": {"monthlyBudgetUsd": True}},
        "cost.monthlyBudgetUsd (true) must be a positive amount in US dollars, e.g. 1500",
    ),
    ("dev", {"cost": {"budget": 100}}, "cost.budget (100) is not a known key"),
    (
        "dev",
        {"mlflow.ingressEnabled": True},
        "mlflow.ingressEnabled (true) is not supported yet: reach MLflow in the cluster or with `kubectl port-forward svc/mlflow 5000`",
    ),
    (
        "dev",
        {"mlflow.scratchSizeGi": 0},
        "mlflow.scratchSizeGi (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"network.peerings": {"runners": "vnet-runners"}},
        'network.peerings.runners ("vnet-runners") must be a VNet resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>)',
    ),
    (
        "dev",
        {"network.peerings": {"Runners": "/x"}},
        "network.peerings.Runners (\"Runners\") must be 1-31 lowercase letters, digits or '-'",
    ),
    (
        "dev",
        {"postgres.passwordAuthEnabled": False},
        "postgres.passwordAuthEnabled (false) must be true: MLflow signs in with the generated password (its database engine cannot refresh Entra tokens)",
    ),
    (
        "dev",
        {"gpuPools[0].minCount": 3, "gpuPools[0].maxCount": 2},
        "gpuPools[0].minCount (3) must be <= maxCount (2)",
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_D4ds_v5"},
        'gpuPools[0].vmSize ("Standard_D4ds_v5") must be an NVIDIA GPU (N-series) size, e.g. Standard_NC4as_T4_v3',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_MI300X_v5"},
        'gpuPools[0].vmSize ("Standard_ND96isr_MI300X_v5") must be an NVIDIA GPU (N-series) size, e.g. Standard_NC4as_T4_v3',
    ),
    (
        "dev",
        {"gpuPools[0].migProfile": "MIG1g"},
        'gpuPools[0].migProfile ("MIG1g") needs a MIG-capable size (A100/H100/H200 families); vmSize is Standard_NC4as_T4_v3',
    ),
    (
        "dev",
        {"gpuPools[0].name": "GPU-T4"},
        'gpuPools[0].name ("GPU-T4") must be 1-12 lowercase letters or digits, starting with a letter',
    ),
    (
        "dev",
        {"gpuPools[0].name": "gputoolongname"},
        'gpuPools[0].name ("gputoolongname") must be 1-12 lowercase letters or digits, starting with a letter',
    ),
    (
        "prod",
        {"gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_NC24ads_A100_v4 (A100/H100/H200 GPU sizes run Ubuntu only): use osSku Ubuntu',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_H100_v5", "gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_ND96isr_H100_v5 (A100/H100/H200 GPU sizes run Ubuntu only): use osSku Ubuntu',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_H200_v5", "gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_ND96isr_H200_v5 (A100/H100/H200 GPU sizes run Ubuntu only): use osSku Ubuntu',
    ),
    (
        "prod",
        {"network.subnets.apiServer": "10.42.33.0/29"},
        'network.subnets.apiServer ("10.42.33.0/29") must be /28 or larger',
    ),
    (
        "prod",
        {"cluster.maintenance.autoUpgrade.durationHours": 3},
        "cluster.maintenance.autoUpgrade.durationHours (3) must be 4-24 hours (AKS needs at least 4 hours for an upgrade to complete)",
    ),
    (
        "prod",
        {"cluster.maintenance.nodeOs.durationHours": 25},
        "cluster.maintenance.nodeOs.durationHours (25) must be 4-24 hours (AKS needs at least 4 hours for an upgrade to complete)",
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.dayOfWeek": "Funday"},
        "cluster.maintenance.autoUpgrade.dayOfWeek (\"Funday\") Input should be 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday' or 'Sunday'",
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.startTime": "2am"},
        'cluster.maintenance.autoUpgrade.startTime ("2am") must be a time of day as HH:mm (00:00-23:59)',
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.startTime": "24:00"},
        'cluster.maintenance.autoUpgrade.startTime ("24:00") must be a time of day as HH:mm (00:00-23:59)',
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.utcOffset": "+1"},
        'cluster.maintenance.nodeOs.utcOffset ("+1") must be +HH:mm or -HH:mm, e.g. +01:00',
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.schedule": "AbsoluteMonthly"},
        "cluster.maintenance.nodeOs.dayOfMonth (null) is required for an AbsoluteMonthly schedule",
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.dayOfMonth": 1},
        "cluster.maintenance.nodeOs.dayOfMonth (1) is only for an AbsoluteMonthly schedule",
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.dayOfWeek": None},
        "cluster.maintenance.nodeOs.dayOfWeek (null) is required for a Weekly schedule",
    ),
    (
        "dev",
        {
            "cluster.maintenance.nodeOs": {
                "schedule": "AbsoluteMonthly",
                "dayOfMonth": 1,
                "dayOfWeek": "Saturday",
                "startTime": "02:00",
                "durationHours": 4,
                "utcOffset": "+01:00",
            }
        },
        'cluster.maintenance.nodeOs.dayOfWeek ("Saturday") is only for a Weekly schedule',
    ),
    (
        "prod",
        {"cluster.maintenance.autoUpgrade.notAllowedDates[0].end": "2026-12-01"},
        'cluster.maintenance.autoUpgrade.notAllowedDates[0].end ("2026-12-01") must not be '
        "before start (2026-12-20)",
    ),
    (
        "dev",
        {"cluster.upgradeChannel": "none"},
        'cluster.maintenance.autoUpgrade ("set") needs an upgradeChannel other than none (nothing would use the window)',
    ),
    (
        "dev",
        {"cluster.nodeOsUpgradeChannel": "Unmanaged"},
        'cluster.maintenance.nodeOs ("set") needs nodeOsUpgradeChannel NodeImage or SecurityPatch (nothing else follows the window)',
    ),
    (
        "prod",
        {"network.egress": {"type": "userDefinedRouting"}},
        "network.egress.firewallPrivateIp (null) is required when type is userDefinedRouting",
    ),
    (
        "dev",
        {"network.egress": {"type": "natGateway", "firewallPrivateIp": "10.0.0.4"}},
        'network.egress.firewallPrivateIp ("10.0.0.4") is only used when type is '
        "userDefinedRouting (type is natGateway)",
    ),
    (
        "dev",
        {"network.egress": {"type": "userDefinedRouting", "firewallPrivateIp": "20.1.2.3"}},
        'network.egress.firewallPrivateIp ("20.1.2.3") must be a private address (the hub firewall\'s private IP)',
    ),
    (
        "dev",
        {"network.egress": {"type": "userDefinedRouting", "firewallPrivateIp": "10.40.0.4"}},
        'network.egress.firewallPrivateIp ("10.40.0.4") must be outside vnetCidr (10.40.0.0/16): the firewall lives in a hub VNet',
    ),
    (
        "dev",
        {"network.egress": {"type": "azureFirewall"}},
        "network.egress.type (\"azureFirewall\") Input should be 'loadBalancer', 'natGateway' or 'userDefinedRouting'",
    ),
    (
        "dev",
        {"gpuPools[0].osSku": "AzureLinux", "cluster.nodeOsUpgradeChannel": "SecurityPatch"},
        'gpuPools[0].osSku ("AzureLinux") cannot take cluster.nodeOsUpgradeChannel SecurityPatch (AKS does not offer it for Azure Linux GPU nodes): use Ubuntu or NodeImage',
    ),
    (
        "dev",
        {"gpuPools[0].zones": ["1", "1"]},
        'gpuPools[0].zones (["1", "1"]) must not repeat a zone',
    ),
    ("dev", {"gpuPools[0].name": "cpu"}, 'gpuPools[0].name ("cpu") is already used by cpuPool'),
    (
        "dev",
        {"gpuPools[0].minCount": -1},
        "gpuPools[0].minCount (-1) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"systemPool.minCount": 0},
        "systemPool.minCount (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"systemPool.spot": True},
        "systemPool.spot (true) is not allowed: spot VMs are for user pools only",
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "1.20"},
        'cluster.kubernetesVersion ("1.20") is outside the AKS support window (1.35, 1.36, 1.37)',
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "v1.36"},
        'cluster.kubernetesVersion ("v1.36") must look like 1.34 or 1.34.2',
    ),
    (
        "dev",
        {"cluster.apiServer.authorizedIpRanges": ["0.0.0.0/0"]},
        'cluster.apiServer.authorizedIpRanges[0] ("0.0.0.0/0") must not open the API server to all',
    ),
    (
        "dev",
        {"cluster.apiServer.authorizedIpRanges": []},
        "cluster.apiServer.authorizedIpRanges ([]) must list at least one CIDR when privateClusterEnabled is false",
    ),
    (
        "dev",
        {"cluster.adminGroupObjectIds": []},
        "cluster.adminGroupObjectIds ([]) List should have at least 1 item after validation, not 0",
    ),
    (
        "dev",
        {"cluster.adminGroupObjectIds": ["not-a-guid"]},
        'cluster.adminGroupObjectIds[0] ("not-a-guid") Input should be a valid UUID, invalid character: found `n` at 0',
    ),
    (
        "dev",
        {"network.vnetCidr": "8.8.0.0/16"},
        'network.vnetCidr ("8.8.0.0/16") must be a private (RFC 1918) range',
    ),
    (
        "dev",
        {"network.subnets.nodes": "10.99.0.0/20"},
        'network.subnets.nodes ("10.99.0.0/20") must be inside vnetCidr (10.40.0.0/16)',
    ),
    (
        "dev",
        {"network.subnets.privateEndpoints": "10.40.8.0/24"},
        'network.subnets.privateEndpoints ("10.40.8.0/24") overlaps subnets.nodes (10.40.0.0/20)',
    ),
    (
        "dev",
        {"network.podCidr": "10.40.128.0/17"},
        'network.podCidr ("10.40.128.0/17") overlaps vnetCidr (10.40.0.0/16)',
    ),
    (
        "dev",
        {"network.dnsServiceIp": "10.0.0.10"},
        'network.dnsServiceIp ("10.0.0.10") must be inside serviceCidr (172.16.0.0/16)',
    ),
    (
        "dev",
        {"network.subnets.nodez": "10.40.0.0/20"},
        'network.subnets.nodez ("10.40.0.0/20") is not a known key',
    ),
    (
        "dev",
        {"workload": "ML_Ops"},
        'workload ("ML_Ops") must be 2-10 lowercase letters or digits, starting with a letter',
    ),
    (
        "dev",
        {"location": "West Europe"},
        'location ("West Europe") must be an Azure region name such as westeurope',
    ),
    (
        "dev",
        {"tags.environment": "staging"},
        "tags.environment (\"staging\") Input should be 'dev', 'test' or 'prod'",
    ),
    ("dev", {"tags.owner": _DELETE}, "tags.owner (missing) is required"),
    (
        "dev",
        {"registry.retentionDays": 7},
        "registry.retentionDays (7) needs sku Premium, not Basic",
    ),
    (
        "dev",
        {"registry.privateEndpointEnabled": True},
        "registry.privateEndpointEnabled (true) needs sku Premium, not Basic",
    ),
    (
        "dev",
        {"registry.sku": "Ultra"},
        "registry.sku (\"Ultra\") Input should be 'Basic', 'Standard' or 'Premium'",
    ),
    (
        "prod",
        {"security.allowedImagesEffect": "Audit"},
        'security.allowedImagesEffect ("Audit") must be Deny when tags.environment is prod',
    ),
    (
        "prod",
        {"security.allowedImagesEffect": "Block"},
        "security.allowedImagesEffect (\"Block\") Input should be 'Audit', 'Deny' or 'Disabled'",
    ),
    (
        "prod",
        {"security.allowedImageUpstreams": ["ghcr.io/mlflow"]},
        'security.allowedImageUpstreams[0] ("ghcr.io/mlflow") is not a registry host name (e.g. ghcr.io)',
    ),
    (
        "prod",
        {"security.allowedImageUpstreams": ["nvcr.io", "nvcr.io"]},
        'security.allowedImageUpstreams[1] ("nvcr.io") is listed twice',
    ),
    (
        "dev",
        {"registry.cacheUpstreams": ["https://ghcr.io"]},
        'registry.cacheUpstreams[0] ("https://ghcr.io") is not a registry host name (e.g. ghcr.io)',
    ),
    (
        "dev",
        {"registry.cacheUpstreams": ["ghcr.io", "quay.io"]},
        'registry.cacheUpstreams[1] ("quay.io") has no cache target prefix (known: docker.io, ghcr.io, mcr.microsoft.com, nvcr.io)',
    ),
    (
        "dev",
        {"registry.cacheUpstreams": ["ghcr.io", "ghcr.io"]},
        'registry.cacheUpstreams[1] ("ghcr.io") is listed twice',
    ),
    (
        "dev",
        {"registry.cacheRulesEnabled": True, "registry.cacheUpstreams": []},
        "registry.cacheUpstreams ([]) must name at least one host when cacheRulesEnabled",
    ),
    (
        "dev",
        {
            "registry.cacheCredentials": {
                "docker.io": {"usernameSecret": "hub_user", "passwordSecret": "hub-token"}
            }
        },
        'registry.cacheCredentials.docker.io.usernameSecret ("hub_user") is not a Key Vault secret name (1-127 letters, digits, -)',
    ),
    (
        "dev",
        {
            "registry.cacheCredentials": {
                "docker.io": {"usernameSecret": "hub-user", "passwordSecret": "x" * 128}
            }
        },
        f'registry.cacheCredentials.docker.io.passwordSecret ("{"x" * 128}") is not a Key Vault secret name (1-127 letters, digits, -)',
    ),
    (
        "dev",
        {
            "registry.cacheCredentials": {
                "docker.io": {"usernameSecret": "hub", "passwordSecret": "hub"}
            }
        },
        'registry.cacheCredentials.docker.io.passwordSecret ("hub") must differ from usernameSecret',
    ),
    (
        "dev",
        {
            "registry.cacheRulesEnabled": False,
            "registry.cacheCredentials": {
                "docker.io": {"usernameSecret": "hub-user", "passwordSecret": "hub-token"}
            },
        },
        'registry.cacheCredentials.docker.io ("docker.io") needs cacheRulesEnabled (a credential set is used by a cache rule only)',
    ),
    (
        "dev",
        {
            "registry.cacheCredentials": {
                "mcr.microsoft.com": {"usernameSecret": "u", "passwordSecret": "p"}
            }
        },
        'registry.cacheCredentials.mcr.microsoft.com ("mcr.microsoft.com") has no cache rule: list the host in cacheUpstreams',
    ),
    (
        "dev",
        {"mlflow.image": "mcr.microsoft.com/team/mlflow:3.1.0"},
        'mlflow.image ("mcr.microsoft.com/team/mlflow:3.1.0") comes from mcr.microsoft.com, which has no cache rule: list it in registry.cacheUpstreams',
    ),
    (
        "test",
        {"registry.cacheUpstreams": ["ghcr.io", "nvcr.io"]},
        'vectorDb.qdrant.image ("docker.io/qdrant/qdrant:v1.19.0") comes from docker.io, which has no cache rule: list it in registry.cacheUpstreams',
    ),
    (
        "dev",
        {"registry.cacheRulesEnabled": False},
        "security.allowedImageUpstreams ([]) must list docker.io (registry.cacheUpstreams): with registry.cacheRulesEnabled false the cluster pulls from it directly",
    ),
    (
        "dev",
        {
            "registry.cacheRulesEnabled": False,
            "security.allowedImageUpstreams": ["docker.io", "ghcr.io", "nvcr.io"],
            "mlflow.image": "mcr.microsoft.com/team/mlflow:3.1.0",
        },
        'security.allowedImageUpstreams (["docker.io", "ghcr.io", "nvcr.io"]) must list mcr.microsoft.com (mlflow.image): with registry.cacheRulesEnabled false the cluster pulls from it directly',
    ),
    (
        "prod",
        {
            "registry.cacheRulesEnabled": False,
            "security.allowedImageUpstreams": ["docker.io", "ghcr.io", "nvcr.io"],
        },
        "registry.cacheRulesEnabled (false) must be true when tags.environment is prod (images only from the stack's registry)",
    ),
    (
        "prod",
        {"security.allowedImageUpstreams": ["ghcr.io"]},
        'security.allowedImageUpstreams (["ghcr.io"]) must be empty when tags.environment is prod (every image comes through the stack\'s registry)',
    ),
    (
        "test",
        {"security.defenderEnabled": False},
        "security.defenderEnabled (false) must be true when tags.environment is test (only dev may run without Defender for Containers)",
    ),
    (
        "prod",
        {"security.defenderEnabled": False},
        "security.defenderEnabled (false) must be true when tags.environment is prod (only dev may run without Defender for Containers)",
    ),
    (
        "prod",
        {
            "cluster.apiServer.privateClusterEnabled": False,
            "cluster.apiServer.authorizedIpRanges": ["203.0.113.0/24"],
        },
        "cluster.apiServer.privateClusterEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"cluster.zones": ["1"]},
        'cluster.zones (["1"]) must list at least 2 zones when tags.environment is prod',
    ),
    (
        "prod",
        {"cluster.zones": ["1"]},
        'cluster.zones (["1"]) must list at least 2 zones when tags.environment is prod',
    ),
    (
        "prod",
        {"cluster.skuTier": "Free"},
        'cluster.skuTier ("Free") must be Standard (uptime SLA) when tags.environment is prod',
    ),
    (
        "prod",
        {"protectStatefulResources": False},
        "protectStatefulResources (false) must not be false in prod (nothing is lost)",
    ),
    (
        "prod",
        {
            "cluster.apiServer.privateClusterEnabled": True,
            "cluster.apiServer.authorizedIpRanges": ["203.0.113.0/24"],
        },
        'cluster.apiServer.authorizedIpRanges (["203.0.113.0/24"]) must be empty when privateClusterEnabled is true (no public endpoint)',
    ),
    ("test", {"cluster.zones": ["1", "1"]}, 'cluster.zones (["1", "1"]) must not repeat a zone'),
    (
        "dev",
        {"postgres.highAvailability": "ZoneRedundant"},
        'postgres.highAvailability ("ZoneRedundant") needs tier GeneralPurpose or MemoryOptimized (not Burstable)',
    ),
    (
        "dev",
        {"postgres.storageSizeGb": 100},
        "postgres.storageSizeGb (100) must be one of [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767]",
    ),
    (
        "dev",
        {"dataLake.blobSoftDeleteDays": 0},
        "dataLake.blobSoftDeleteDays (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"dataLake.containerSoftDeleteDays": 400},
        "dataLake.containerSoftDeleteDays (400) Input should be less than or equal to 365",
    ),
    (
        "dev",
        {"keyVault.softDeleteRetentionDays": 3},
        "keyVault.softDeleteRetentionDays (3) Input should be greater than or equal to 7",
    ),
    (
        "dev",
        {"vectorDb.engine": "faiss"},
        "vectorDb.engine (\"faiss\") Input should be 'pgvector' or 'qdrant'",
    ),
    (
        "test",
        {"vectorDb.qdrant.storageClass": "managed-csi-premium"},
        'vectorDb.qdrant.storageClass ("managed-csi-premium") is an AKS built-in class whose '
        "disk SKU (LRS or ZRS) AKS picks, but Qdrant's pool (cpuPool) spans zones 1,2: leave "
        "storageClass unset for the platform's Premium_ZRS class, or name a class with skuName "
        "Premium_ZRS or StandardSSD_ZRS",
    ),
    (
        "dev",
        {
            "vectorDb.engine": "qdrant",
            "vectorDb.qdrant": {"storageClass": "managed-csi"},
            "cpuPool.zones": ["1", "3"],
        },
        'vectorDb.qdrant.storageClass ("managed-csi") is an AKS built-in class whose disk SKU '
        "(LRS or ZRS) AKS picks, but Qdrant's pool (cpuPool) spans zones 1,3: leave storageClass "
        "unset for the platform's Premium_ZRS class, or name a class with skuName Premium_ZRS or "
        "StandardSSD_ZRS",
    ),
    (
        "dev",
        {"vectorDb.dimensions": 3072},
        "vectorDb.dimensions (3072) must be <= 2000 for a pgvector HNSW index",
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:latest"},
        'mlflow.image ("ghcr.io/mlflow/mlflow:latest") must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or @sha256:<digest>; moving tags such as latest or stable are not pinned',
    ),
    (
        "dev",
        {"mlflow.image": "mlflow"},
        'mlflow.image ("mlflow") must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or @sha256:<digest>; moving tags such as latest or stable are not pinned',
    ),
    (
        "dev",
        {"mlflow.namespace": "MLflow"},
        "mlflow.namespace (\"MLflow\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
    (
        "prod",
        {"mlflow.replicas": 1},
        "mlflow.replicas (1) must be >= 2 when tags.environment is prod",
    ),
    (
        "prod",
        {"keyVault.purgeProtectionEnabled": False},
        "keyVault.purgeProtectionEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"postgres.highAvailability": "Disabled"},
        'postgres.highAvailability ("Disabled") must be ZoneRedundant when tags.environment is prod',
    ),
    (
        "dev",
        {"postgres.privateAccessEnabled": True, "network.subnets.postgres": _DELETE},
        "postgres.privateAccessEnabled (true) needs network.subnets.postgres",
    ),
    (
        "dev",
        {"dataLake.versioningEnabled": True},
        "dataLake.versioningEnabled (true) is not supported on an ADLS Gen2 (hierarchical namespace) account; blob and container soft delete protect the data instead",
    ),
    (
        "dev",
        {"postgres.entraAdmin": _DELETE},
        "postgres.entraAdmin (null) is required: the PostgreSQL server always has a Microsoft Entra administrator (objectId, principalName, principalType)",
    ),
    (
        "prod",
        {"postgres.entraAdmin.objectId": "not-a-guid"},
        'postgres.entraAdmin.objectId ("not-a-guid") Input should be a valid UUID, invalid character: found `n` at 0',
    ),
    (
        "dev",
        {"postgres.entraAdmin.principalType": "Role"},
        "postgres.entraAdmin.principalType (\"Role\") Input should be 'Group', 'User' or 'ServicePrincipal'",
    ),
    (
        "test",
        {"postgres.entraAdmin.principalName": ""},
        'postgres.entraAdmin.principalName ("") String should have at least 1 character',
    ),
    (
        "dev",
        {"postgres.entraAdmin.tenantId": "x"},
        'postgres.entraAdmin.tenantId ("x") is not a known key',
    ),
    (
        "prod",
        {"alerts.model.quality.minScore": 1.5},
        "alerts.model.quality.minScore (1.5) Input should be less than or equal to 1",
    ),
    (
        "dev",
        {"alerts.model.drift.maxShare": -0.1},
        "alerts.model.drift.maxShare (-0.1) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"alerts.model.servingLatency.p95Seconds": -0.2},
        "alerts.model.servingLatency.p95Seconds (-0.2) Input should be greater than 0",
    ),
    (
        "test",
        {"alerts.gpu.memoryNearlyFull.usedPercent": 120},
        "alerts.gpu.memoryNearlyFull.usedPercent (120) Input should be less than or equal to 100",
    ),
    (
        "dev",
        {"alerts.gpu.lowUtilisation.utilisationPercent": -5},
        "alerts.gpu.lowUtilisation.utilisationPercent (-5) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"alerts.ingestion.failures.failures": -1},
        "alerts.ingestion.failures.failures (-1) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"alerts.cluster.podCrashLooping.restarts": -2},
        "alerts.cluster.podCrashLooping.restarts (-2) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"alerts.ingestion.stalled.hours": 0},
        "alerts.ingestion.stalled.hours (0) Input should be greater than 0",
    ),
    (
        "dev",
        {"alerts.ingestion.volume.minPerHour": 30000},
        "alerts.ingestion.volume.minPerHour (30000.0) must be < maxPerHour (20000.0)",
    ),
    (
        "prod",
        {"alerts.model.mlflowDown.severity": 5},
        "alerts.model.mlflowDown.severity (5) Input should be 0, 1, 2, 3 or 4",
    ),
    (
        "prod",
        {"alerts.cluster.nodeNotReady.forMinutes": -1},
        "alerts.cluster.nodeNotReady.forMinutes (-1) Input should be greater than or equal to 0",
    ),
    (
        "dev",
        {"alerts.runbookBaseUrl": "http://wiki.example.com/runbooks"},
        'alerts.runbookBaseUrl ("http://wiki.example.com/runbooks") must be an https URL without a trailing slash',
    ),
    (
        "dev",
        {"alerts.model.quality.minScor": 0.5},
        "alerts.model.quality.minScor (0.5) is not a known key",
    ),
    # --- prod rules, Premium-only features, sizes, windows, placeholders of shape ---
    (
        "dev",
        {"monitoring.grafana": {"majorVersion": "v11"}},
        'monitoring.grafana.majorVersion ("v11") must be a major version number such as 11',
    ),
    (
        "dev",
        {
            "monitoring.actionGroup": {
                "emails": {"oncall": "a@example.com"},
                "webhooks": {"oncall": "https://hooks.example.com/x"},
            }
        },
        'monitoring.actionGroup.webhooks (["oncall"]) reuse receiver names of emails',
    ),
    (
        "dev",
        {"monitoring.actionGroup": {"emails": {"On Call": "a@example.com"}}},
        "monitoring.actionGroup.emails.On Call (\"On Call\") must be a lowercase receiver name (letters, digits, '-')",
    ),
    (
        "prod",
        {"policy.enforcement": "advisory"},
        'policy.enforcement ("advisory") must be mandatory when tags.environment is prod',
    ),
    (
        "dev",
        {"policy.enforcement": "strict"},
        "policy.enforcement (\"strict\") Input should be 'advisory', 'mandatory' or 'disabled'",
    ),
    (
        "prod",
        {"registry.privateEndpointEnabled": False},
        "registry.privateEndpointEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"dataLake.privateEndpointEnabled": False},
        "dataLake.privateEndpointEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"keyVault.privateEndpointEnabled": False},
        "keyVault.privateEndpointEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"postgres.privateAccessEnabled": False},
        "postgres.privateAccessEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"postgres.geoRedundantBackupEnabled": False},
        "postgres.geoRedundantBackupEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "dev",
        {"registry.zoneRedundancyEnabled": True},
        "registry.zoneRedundancyEnabled (true) needs sku Premium, not Basic",
    ),
    (
        "test",
        {"registry.sku": "Standard"},
        "registry.privateEndpointEnabled (true) needs sku Premium, not Standard",
    ),
    (
        "test",
        {"network.subnets.apiServer": "10.41.17.0/29"},
        'network.subnets.apiServer ("10.41.17.0/29") must be /28 or larger',
    ),
    (
        "dev",
        {"network.subnets.privateEndpoints": "10.40.16.0/29"},
        'network.subnets.privateEndpoints ("10.40.16.0/29") must be /28 or larger',
    ),
    (
        "dev",
        {"network.dnsServiceIp": "172.16.0.0"},
        'network.dnsServiceIp ("172.16.0.0") must not be the network address or the first address of serviceCidr (reserved for the kubernetes service)',
    ),
    (
        "dev",
        {"network.dnsServiceIp": "172.16.0.1"},
        'network.dnsServiceIp ("172.16.0.1") must not be the network address or the first address of serviceCidr (reserved for the kubernetes service)',
    ),
    (
        "test",
        {"network.subnets.apiServer": _DELETE},
        "cluster.apiServer.vnetIntegrationEnabled (true) needs network.subnets.apiServer",
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "1.38"},
        'cluster.kubernetesVersion ("1.38") is outside the AKS support window (1.35, 1.36, 1.37)',
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "1.34"},
        'cluster.kubernetesVersion ("1.34") is outside the AKS support window (1.35, 1.36, 1.37)',
    ),
    (
        "dev",
        {"systemPool.vmSize": "D4ds_v5"},
        'systemPool.vmSize ("D4ds_v5") must be an Azure VM size such as Standard_D4ds_v5',
    ),
    (
        "dev",
        {"vectorDb.collection": "Docs"},
        'vectorDb.collection ("Docs") must be a lowercase SQL identifier (max 63)',
    ),
    (
        "test",
        {"vectorDb.qdrant.image": "qdrant/qdrant"},
        'vectorDb.qdrant.image ("qdrant/qdrant") must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or @sha256:<digest>; moving tags such as latest or stable are not pinned',
    ),
    (
        "test",
        {"vectorDb.qdrant.namespace": "Qdrant_NS"},
        "vectorDb.qdrant.namespace (\"Qdrant_NS\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
    (
        "dev",
        {"tags.bad/name": "x"},
        'tags.bad/name ("bad/name") is not a valid tag name (max 512, none of <>%&\\?/)',
    ),
    (
        "dev",
        {"tags.costCenter": 5},
        "tags.costCenter (5) must be a string of at most 256 characters",
    ),
    (
        "dev",
        {"tags.costCenter": "x" * 257},
        'tags.costCenter ("' + "x" * 257 + '") must be a string of at most 256 characters',
    ),
    ("dev", {"nameSuffix": "AB"}, 'nameSuffix ("AB") must be 4-8 lowercase letters or digits'),
    (
        "prod",
        {"cpuPool.zones": []},
        "cpuPool.zones ([]) must list at least 2 zones when tags.environment is prod (or be left out to use cluster.zones)",
    ),
    (
        "prod",
        {"systemPool.zones": ["2"]},
        'systemPool.zones (["2"]) must list at least 2 zones when tags.environment is prod (or be left out to use cluster.zones)',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_NG32ads_V620_v1"},
        'gpuPools[0].vmSize ("Standard_NG32ads_V620_v1") must be an NVIDIA GPU (N-series) size, e.g. Standard_NC4as_T4_v3',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_NV32as_v4"},
        'gpuPools[0].vmSize ("Standard_NV32as_v4") must be an NVIDIA GPU (N-series) size, e.g. Standard_NC4as_T4_v3',
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:stable"},
        'mlflow.image ("ghcr.io/mlflow/mlflow:stable") must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or @sha256:<digest>; moving tags such as latest or stable are not pinned',
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:v3"},
        'mlflow.image ("ghcr.io/mlflow/mlflow:v3") must be registry/repository:<version> (e.g. :v1.2.3, :1.2-alpine) or @sha256:<digest>; moving tags such as latest or stable are not pinned',
    ),
    (
        "dev",
        {"network.serviceCidr": "10.244.0.0/16", "network.dnsServiceIp": "10.244.0.10"},
        'network.serviceCidr ("10.244.0.0/16") overlaps podCidr (10.244.0.0/16)',
    ),
    (
        "dev",
        {"network.serviceCidr": "10.40.0.0/16", "network.dnsServiceIp": "10.40.0.10"},
        'network.serviceCidr ("10.40.0.0/16") overlaps vnetCidr (10.40.0.0/16)',
    ),
    (
        "dev",
        {"network.subnets.postgres": "10.40.0.0/28"},
        'network.subnets.postgres ("10.40.0.0/28") overlaps subnets.nodes (10.40.0.0/20)',
    ),
    ("dev", {"cpuPool.name": "system"}, 'cpuPool.name ("system") is already used by systemPool'),
    (
        "dev",
        {
            "gpuPools": [
                {"name": "gput4", "vmSize": "Standard_NC4as_T4_v3", "minCount": 0, "maxCount": 1},
                {"name": "gput4", "vmSize": "Standard_NC4as_T4_v3", "minCount": 0, "maxCount": 1},
            ]
        },
        'gpuPools[1].name ("gput4") is already used by gpuPools[0]',
    ),
    (
        "dev",
        {"postgres.backupRetentionDays": 36},
        "postgres.backupRetentionDays (36) Input should be less than or equal to 35",
    ),
    (
        "dev",
        {"vectorDb.dimensions": 0},
        "vectorDb.dimensions (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"mlflow.replicas": 11},
        "mlflow.replicas (11) Input should be less than or equal to 10",
    ),
    (
        "dev",
        {"cluster.upgradeChannel": "weekly"},
        "cluster.upgradeChannel (\"weekly\") Input should be 'none', 'patch', 'stable', 'rapid' or 'node-image'",
    ),
    ("dev", {"cluster.zones": ["4"]}, "cluster.zones[0] (\"4\") Input should be '1', '2' or '3'"),
    (
        "dev",
        {"network.podCidr": "8.8.0.0/16"},
        'network.podCidr ("8.8.0.0/16") must be a private (RFC 1918) range',
    ),
    (
        "dev",
        {"network.serviceCidr": "8.9.0.0/16", "network.dnsServiceIp": "8.9.0.10"},
        'network.serviceCidr ("8.9.0.0/16") must be a private (RFC 1918) range',
    ),
    # release: pinned workload images relative to the stack registry, model versions as integers
    (
        "dev",
        {"release": {"images": {"workloads": "aks-mlops/workloads:latest"}}},
        'release.images.workloads ("aks-mlops/workloads:latest") must be <repository>@sha256:<digest> or <repository>:<version> relative to the stack\'s registry (no registry host; moving tags such as latest are not pinned)',
    ),
    (
        "prod",
        {"release": {"images": {"workloads": "acr.azurecr.io/aks-mlops/workloads:1.0"}}},
        'release.images.workloads ("acr.azurecr.io/aks-mlops/workloads:1.0") must be <repository>@sha256:<digest> or <repository>:<version> relative to the stack\'s registry (no registry host; moving tags such as latest are not pinned)',
    ),
    (
        "dev",
        {"release": {"models": [{"name": "churn", "version": 0}]}},
        "release.models[0].version (0) must be a positive integer (a registered model version, not an alias)",
    ),
    (
        "dev",
        {"release": {"models": [{"name": "churn", "version": "champion"}]}},
        'release.models[0].version ("champion") must be a positive integer (a registered model version, not an alias)',
    ),
    (
        "dev",
        {"release": {"models": [{"name": "churn", "version": True}]}},
        "release.models[0].version (true) must be a positive integer (a registered model version, not an alias)",
    ),
    (
        "dev",
        {"release": {"models": [{"name": "-churn", "version": 1}]}},
        "release.models[0].name (\"-churn\") must be 1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
    ),
    (
        "test",
        {"release": {"models": [{"name": "churn", "version": 1}, {"name": "churn", "version": 2}]}},
        'release.models[1].name ("churn") is listed twice',
    ),
    # workflows: triggers, thresholds, pools, chunking, the image they run
    (
        "dev",
        {"workflows.retrain.schedule": "61 3 * * 0"},
        "workflows.retrain.schedule (\"61 3 * * 0\") must be a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. '0 3 * * 0')",
    ),
    (
        "dev",
        {"workflows.retrain.schedule": "0 3 * *"},
        "workflows.retrain.schedule (\"0 3 * *\") must be a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. '0 3 * * 0')",
    ),
    (
        "dev",
        {"workflows.retrain.newData.blobThreshold": 0},
        "workflows.retrain.newData.blobThreshold (0) must be >= 1 (waiting blobs that start one job)",
    ),
    (
        "test",
        {"workflows.ingest.blobThreshold": -3},
        "workflows.ingest.blobThreshold (-3) must be >= 1 (waiting blobs that start one job)",
    ),
    (
        "dev",
        {"workflows.retrain.degradation.driftShare": 1.5},
        "workflows.retrain.degradation.driftShare (1.5) must be between 0 and 1 (exclusive): the metric is a share",
    ),
    (
        "prod",
        {"workflows.retrain.degradation.qualityFloor": 0},
        "workflows.retrain.degradation.qualityFloor (0.0) must be between 0 and 1 (exclusive): the metric is a share",
    ),
    (
        "dev",
        {"workflows.ingest.chunkOverlap": 800},
        "workflows.ingest.chunkOverlap (800) must be smaller than chunkSize (800)",
    ),
    (
        "dev",
        {"workflows.ingest.embedder": "openai"},
        'workflows.ingest.embedder ("openai") must be hashing or sentence-transformers:<model>',
    ),
    (
        "dev",
        {"workflows.modelName": "churn model"},
        "workflows.modelName (\"churn model\") must be 1-63 letters, digits, '.', '-' or '_' (a PromQL label value)",
    ),
    (
        "dev",
        {"workflows.namespace": "Workflows"},
        "workflows.namespace (\"Workflows\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
    (
        "dev",
        {"workflows.ray.namespace": "ray_system"},
        "workflows.ray.namespace (\"ray_system\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
    (
        "test",
        {"workflows.retrain.gpuPool": "gpua100"},
        'workflows.retrain.gpuPool ("gpua100") is not a GPU pool of this stack (gpuPools: gput4)',
    ),
    (
        "dev",
        {"gpuPools": [], "workflows.ray.enabled": False},
        'workflows.retrain.gpuPool ("gput4") is not a GPU pool of this stack (gpuPools: none)',
    ),
    (
        "dev",
        {"workflows.ray.workerPool": None},
        "workflows.ray.workerPool (null) is required when workflows.ray.enabled is true (a GPU pool or the CPU pool for the Ray workers)",
    ),
    (
        "dev",
        {"workflows.retrain.gpuPool": None, "gpuPools": []},
        'workflows.ray.workerPool ("gput4") is not a pool of this stack (cpuPool cpu; gpuPools: none)',
    ),
    (
        "dev",
        {"release": {}},
        "release.images.workloads (null) is required when workflows.enabled is true (the image the workflows run)",
    ),
    (
        "dev",
        {"release": {"models": [{"name": "churn", "version": 1}]}},
        "release.images.workloads (null) is required when models lists a model to serve (the model server runs from the workloads image)",
    ),
    # serving settings of a released model
    (
        "dev",
        {"release.models[0].serving.minReplicas": 3, "release.models[0].serving.maxReplicas": 2},
        "release.models[0].serving.minReplicas (3) must be <= maxReplicas (2)",
    ),
    (
        "test",
        {"release.models[0].serving.minReplicas": 0},
        "release.models[0].serving.minReplicas (0) Input should be greater than or equal to 1",
    ),
    (
        "dev",
        {"release.models[0].serving.gpuPool": "gpua100"},
        'release.models[0].serving.gpuPool ("gpua100") names no pool in gpuPools (known: gput4)',
    ),
    (
        "prod",
        {"release.models[0].serving.minReplicas": 1},
        "release.models[0].serving.minReplicas (1) must be >= 2 when tags.environment is prod",
    ),
    (
        "dev",
        {"release.models[0].serving.cpuRequest": "two"},
        'release.models[0].serving.cpuRequest ("two") must be a CPU quantity such as 250m or 1',
    ),
    (
        "dev",
        {"release.models[0].serving.memoryLimit": "1G"},
        'release.models[0].serving.memoryLimit ("1G") must be a memory quantity in Mi or Gi, e.g. 512Mi',
    ),
    # LLM presets (KAITO): a known preset, on a named whole-GPU pool with enough GPU memory
    (
        "dev",
        {"serving": {"llm": {"preset": "llama-9000", "gpuPool": "gput4"}}},
        'serving.llm.preset ("llama-9000") is not a known KAITO preset (known: phi-3-medium-128k-instruct, phi-3-medium-4k-instruct, phi-3-mini-128k-instruct, phi-3-mini-4k-instruct, phi-3.5-mini-instruct)',
    ),
    (
        "dev",
        {"serving": {"llm": {"preset": "phi-3-medium-4k-instruct", "gpuPool": "gput4"}}},
        'serving.llm.preset ("phi-3-medium-4k-instruct") needs 28 GiB of GPU memory; pool gput4 (Standard_NC4as_T4_v3) has 16 GiB',
    ),
    (
        "dev",
        {
            "gpuPools[0].vmSize": "Standard_NC6s_v3",
            "serving": {"llm": {"preset": "phi-3-mini-4k-instruct", "gpuPool": "gput4"}},
        },
        'serving.llm.preset ("phi-3-mini-4k-instruct") needs 9 GiB of GPU memory; pool gput4 (Standard_NC6s_v3) has unknown',
    ),
    (
        "prod",
        {"serving": {"llm": {"preset": "phi-3-mini-4k-instruct", "gpuPool": "gpumig"}}},
        'serving.llm.gpuPool ("gpumig") has migProfile MIG1g: KAITO presets are sized for whole GPUs',
    ),
    (
        "test",
        {"serving": {"llm": {"preset": "phi-3-mini-4k-instruct", "gpuPool": "gpu"}}},
        'serving.llm.gpuPool ("gpu") names no pool in gpuPools (known: gput4)',
    ),
    (
        "dev",
        {"serving": {"namespace": "Serving"}},
        "serving.namespace (\"Serving\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
    (
        "dev",
        {
            "serving": {
                "llm": {"preset": "phi-3-mini-4k-instruct", "gpuPool": "gput4", "namespace": "LLM"}
            }
        },
        "serving.llm.namespace (\"LLM\") must be a DNS-1123 label (lowercase, digits, '-', <= 63)",
    ),
]


# SKU <-> tier <-> feature rules, each against Azure's documented constraint: the whole problem
# line (key, value, rule) is asserted.
GP_SERIES = "D-series sizes (Dsv3, Ddsv4, Ddsv5, Dadsv5, Ddsv6, Dadsv6; e.g. D4ds_v5)"
MO_SERIES = "E-series sizes (Esv3, Edsv4, Edsv5, Eadsv5, Edsv6, Eadsv6; e.g. E4ds_v5)"
B_SERIES = "B-series sizes (Standard_B1ms .. Standard_B20ms)"
SKU_TIER_RULES: list[tuple[str, dict[str, Any], str]] = [
    # Learn, "Compute options in Azure Database for PostgreSQL": the tier fixes the series.
    (
        "dev",
        {"postgres.tier": "GeneralPurpose"},
        f'postgres.skuName ("Standard_B1ms") is a Burstable size; tier GeneralPurpose takes '
        f"{GP_SERIES}",
    ),
    (
        "test",
        {"postgres.tier": "MemoryOptimized"},
        f'postgres.skuName ("Standard_D2ds_v5") is a GeneralPurpose size; tier MemoryOptimized '
        f"takes {MO_SERIES}",
    ),
    (
        "prod",
        {"postgres.skuName": "Standard_E8ds_v5"},
        f'postgres.skuName ("Standard_E8ds_v5") is a MemoryOptimized size; tier GeneralPurpose '
        f"takes {GP_SERIES}",
    ),
    (
        "dev",
        {"postgres.skuName": "Standard_B1s"},
        'postgres.skuName ("Standard_B1s") is not an Azure Database for PostgreSQL flexible '
        f"server size; tier Burstable takes {B_SERIES}",
    ),
    (
        "test",
        {"postgres.skuName": "Standard_D2s_v5"},
        'postgres.skuName ("Standard_D2s_v5") is not an Azure Database for PostgreSQL flexible '
        f"server size; tier GeneralPurpose takes {GP_SERIES}",
    ),
    # High availability is not offered on Burstable, same-zone included.
    (
        "dev",
        {"postgres.highAvailability": "SameZone"},
        'postgres.highAvailability ("SameZone") needs tier GeneralPurpose or MemoryOptimized '
        "(not Burstable)",
    ),
    (
        "prod",
        {"postgres.storageSizeGb": 32768},
        "postgres.storageSizeGb (32768) must be one of "
        "[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767]",
    ),
    (
        "prod",
        {"postgres.backupRetentionDays": 36},
        "postgres.backupRetentionDays (36) Input should be less than or equal to 35",
    ),
    (
        "dev",
        {"registry.zoneRedundancyEnabled": True},
        "registry.zoneRedundancyEnabled (true) needs sku Premium, not Basic",
    ),
    (
        "dev",
        {"registry.sku": "Standard", "registry.privateEndpointEnabled": True},
        "registry.privateEndpointEnabled (true) needs sku Premium, not Standard",
    ),
    (
        "dev",
        {"keyVault.softDeleteRetentionDays": 91},
        "keyVault.softDeleteRetentionDays (91) Input should be less than or equal to 90",
    ),
    (
        "dev",
        {"keyVault.sku": "Premium"},
        "keyVault.sku (\"Premium\") Input should be 'standard' or 'premium'",
    ),
    # Learn, "AKS pricing tiers" + "Long-term support": Premium means LTS, and LTS has no KEDA.
    (
        "test",
        {"cluster.skuTier": "Premium"},
        'cluster.skuTier ("Premium") is not supported: Premium goes with the AKSLongTermSupport '
        "plan, which does not support the KEDA add-on the platform uses; use Standard (uptime "
        "SLA)",
    ),
    (
        "prod",
        {"cluster.skuTier": "Free"},
        'cluster.skuTier ("Free") must be Standard (uptime SLA) when tags.environment is prod',
    ),
    # Free tier: up to 1,000 nodes.
    (
        "dev",
        {"cpuPool.maxCount": 1000},
        'cluster.skuTier ("Free") supports at most 1000 nodes, but the pools\' maxCount add up '
        "to 1004 (systemPool 2, cpuPool 1000, gpuPools[0] 2)",
    ),
    # Learn, "Manage system node pools in AKS" and "Quotas, VM size restrictions".
    (
        "dev",
        {"systemPool.vmSize": "Standard_B4ms"},
        'systemPool.vmSize ("Standard_B4ms") is a B-series (burstable) size, which AKS does not '
        "support for system pools",
    ),
    (
        "dev",
        {"systemPool.vmSize": "Standard_D2ds_v5"},
        'systemPool.vmSize ("Standard_D2ds_v5") has 2 vCPUs; AKS system pools need at least 4',
    ),
    (
        "test",
        {"systemPool.vmSize": "Standard_D2_v2"},
        'systemPool.vmSize ("Standard_D2_v2") has 2 vCPUs; AKS system pools need at least 4',
    ),
    (
        "dev",
        {"systemPool.maxPods": 20},
        "systemPool.maxPods (20) must be >= 30: AKS system pools must fit 30 pods per node",
    ),
    (
        "dev",
        {"cpuPool.vmSize": "Standard_A1_v2"},
        'cpuPool.vmSize ("Standard_A1_v2") has 1 vCPU(s); AKS needs at least 2 per node',
    ),
    (
        "prod",
        {"cpuPool.vmSize": "Standard_F1s"},
        'cpuPool.vmSize ("Standard_F1s") has 1 vCPU(s); AKS needs at least 2 per node',
    ),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), SKU_TIER_RULES)
def test_config_rejects_sku_tier_mismatch_with_full_problem_line(
    stack: str, changes: dict[str, Any], expected: str
) -> None:
    values = stack_values(stack)
    for path, value in changes.items():
        _set(values, path, value)
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert info.value.problems == [expected]


@pytest.mark.parametrize(
    ("stack", "changes"),
    [
        ("test", {"postgres.tier": "MemoryOptimized", "postgres.skuName": "Standard_E20ds_v4"}),
        ("prod", {"postgres.skuName": "Standard_D192ds_v6", "postgres.storageSizeGb": 32767}),
        ("dev", {"postgres.skuName": "Standard_B20ms"}),
        ("dev", {"systemPool.vmSize": "Standard_D3_v2", "cpuPool.vmSize": "Standard_F2s_v2"}),
        ("test", {"cluster.skuTier": "Standard", "cpuPool.maxCount": 1000}),
    ],
    ids=["memory-optimized", "largest-gp-and-disk", "largest-burstable", "old-sizes", "5000"],
)
def test_config_accepts_sizes_their_tier_allows(stack: str, changes: dict[str, Any]) -> None:
    values = stack_values(stack)
    for path, value in changes.items():
        _set(values, path, value)
    parse_config(encode(values))


@pytest.mark.parametrize(("stack", "changes", "expected"), BAD_INPUTS)
def test_config_rejects_bad_input_with_key_value_and_rule(
    stack: str, changes: dict[str, Any], expected: str
) -> None:
    values = stack_values(stack)
    for path, value in changes.items():
        _set(values, path, value)
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert expected in info.value.problems, info.value.problems


@pytest.mark.parametrize("stack", STACKS)
def test_config_accepts_each_stack_file(stack: str) -> None:
    cfg = parse_config(encode(stack_values(stack)))
    assert cfg.environment == stack


def test_config_rejects_unknown_top_level_key_listing_known_keys() -> None:
    values = stack_values("dev")
    values[P + "gpuPool"] = []
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert "gpuPool ([]) is not a known key (known: " in str(info.value)
    assert "gpuPools" in str(info.value)


def test_config_reports_every_problem_at_once() -> None:
    values = stack_values("dev")
    _set(values, "workload", "X")
    _set(values, "gpuPools[0].vmSize", "Standard_D2_v5")
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert len(info.value.problems) == 2, info.value.problems


def test_config_ignores_other_namespaces() -> None:
    values = stack_values("dev")
    values["azure-native:location"] = "westeurope"
    values["pulumi:tags"] = "{}"
    assert parse_config(encode(values)).location == "westeurope"


def test_config_keeps_version_string_when_it_parses_as_number() -> None:
    values = stack_values("dev")
    _set(values, "cluster.kubernetesVersion", SUPPORTED_KUBERNETES_MINORS[-1])
    cfg = parse_config(encode(values))
    assert cfg.cluster.kubernetes_version == SUPPORTED_KUBERNETES_MINORS[-1]


def test_config_protect_defaults_to_true_only_in_prod() -> None:
    assert parse_config(encode(stack_values("prod"))).protect is True
    assert parse_config(encode(stack_values("dev"))).protect is False


def test_config_tags_add_managed_by_and_keep_extra_tags() -> None:
    tags = parse_config(encode(stack_values("dev"))).tags.as_dict()
    assert tags["managed-by"] == "pulumi"
    assert tags["costCenter"] == "ml-research"
    assert {"environment", "owner", "workload"} <= set(tags)


def test_config_reads_structured_value_that_is_not_json_as_a_string() -> None:
    values = stack_values("dev")
    values[P + "tags"] = "environment=dev"
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    assert info.value.problems == [
        'tags ("environment=dev") Input should be a valid dictionary or instance of TagsConfig'
    ]


# (stack, {path: value}, what the model must then say) -- valid values the rules must let through.
ACCEPTED: list[tuple[str, dict[str, Any], Callable[[PlatformConfig], object], object]] = [
    (
        "prod",
        {"release": {"images": {"workloads": "aks-mlops/workloads@sha256:" + "0f" * 32}}},
        lambda c: c.release.images.workloads,
        "aks-mlops/workloads@sha256:" + "0f" * 32,
    ),
    (
        "dev",
        {"release.models": [{"name": "churn_model", "version": 12}]},
        lambda c: [(m.name, m.version) for m in c.release.models],
        [("churn_model", 12)],
    ),
    (
        "dev",
        {
            "release": {
                "images": {"workloads": "aks-mlops/workloads:1.2.0"},
                "models": [{"name": "churn_model", "version": 12}],
            }
        },
        lambda c: [(m.name, m.version, m.serving.min_replicas) for m in c.release.models],
        [("churn_model", 12, 1)],
    ),
    (
        "dev",
        {"release.models[0].serving": {"gpuPool": "gput4", "gpus": 1, "ingressEnabled": True}},
        lambda c: (
            c.release.models[0].serving.gpu_pool,
            c.release.models[0].serving.ingress_enabled,
        ),
        ("gput4", True),
    ),
    (
        "prod",
        {"release.models[0].serving.minReplicas": 2, "release.models[0].serving.maxReplicas": 2},
        lambda c: (
            c.release.models[0].serving.min_replicas,
            c.release.models[0].serving.max_replicas,
        ),
        (2, 2),
    ),
    (
        "test",
        {
            "release.models[0].serving.cpuRequest": "0.5",
            "release.models[0].serving.cpuLimit": "1500m",
            "release.models[0].serving.memoryRequest": "768Mi",
            "release.models[0].serving.memoryLimit": "2Gi",
        },
        lambda c: c.release.models[0].serving.model_dump(include={"cpu_request", "memory_limit"}),
        {"cpu_request": "0.5", "memory_limit": "2Gi"},
    ),
    ("dev", {"serving": {}}, lambda c: (c.serving.namespace, c.serving.llm), ("serving", None)),
    (
        "prod",
        {"serving": {"llm": {"preset": "phi-3-medium-4k-instruct", "gpuPool": "gpua100"}}},
        lambda c: (c.serving.llm.preset, c.serving.llm.namespace),
        ("phi-3-medium-4k-instruct", "llm"),
    ),
    # An explicit null budget means no budget check.
    ("dev", {"cost": {"monthlyBudgetUsd": None}}, lambda c: c.cost.monthly_budget_usd, None),
    (
        "dev",
        {
            "cluster.maintenance.nodeOs": {
                "schedule": "AbsoluteMonthly",
                "dayOfMonth": 1,
                "startTime": "02:00",
                "durationHours": 4,
                "utcOffset": "+01:00",
            }
        },
        lambda c: (
            c.cluster.maintenance.node_os.schedule,
            c.cluster.maintenance.node_os.day_of_month,
        ),
        ("AbsoluteMonthly", 1),
    ),
    (
        "test",
        {"vectorDb.qdrant.image": "docker.io/qdrant/qdrant@sha256:" + "a" * 64},
        lambda c: c.vector_db.qdrant.image,
        "docker.io/qdrant/qdrant@sha256:" + "a" * 64,
    ),
    (
        "test",
        {"vectorDb.qdrant.namespace": "vectors"},
        lambda c: c.vector_db.qdrant.namespace,
        "vectors",
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:3.17.2"},
        lambda c: c.mlflow.image,
        "ghcr.io/mlflow/mlflow:3.17.2",
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:v3.17.2-full"},
        lambda c: c.mlflow.image,
        "ghcr.io/mlflow/mlflow:v3.17.2-full",
    ),
    (
        "dev",
        {
            "mlflow.image": "registry.local:5000/team/mlflow:17.10-alpine",
            "registry.cacheRulesEnabled": False,
            "security.allowedImagesEffect": "Disabled",
        },
        lambda c: c.mlflow.image,
        "registry.local:5000/team/mlflow:17.10-alpine",
    ),
    ("dev", {"mlflow.namespace": "tracking"}, lambda c: c.mlflow.namespace, "tracking"),
    (
        "prod",
        {
            "registry.cacheCredentials": {
                "docker.io": {"usernameSecret": "hub-user", "passwordSecret": "hub-token"}
            }
        },
        lambda c: (c.registry.cache_credentials["docker.io"].password_secret, c.environment),
        ("hub-token", "prod"),
    ),
    (
        "dev",
        {},
        lambda c: (c.security.defender_enabled, c.registry.cache_rules_enabled),
        (False, True),
    ),
    (
        "test",
        {},
        lambda c: (c.security.defender_enabled, c.security.allowed_image_upstreams),
        (True, []),
    ),
    ("dev", {"mlflow.ingressEnabled": False}, lambda c: c.mlflow.ingress_enabled, False),
    ("dev", {"dataLake.versioningEnabled": False}, lambda c: c.data_lake.versioning_enabled, False),
    ("dev", {"vectorDb.collection": "chunks_v2"}, lambda c: c.vector_db.collection, "chunks_v2"),
    ("dev", {"nameSuffix": "ab12"}, lambda c: c.name_suffix, "ab12"),
    (
        "dev",
        {"monitoring.grafana": {"majorVersion": "11"}},
        lambda c: c.monitoring.grafana.major_version,
        "11",
    ),
    ("test", {}, lambda c: c.protect, False),
    ("prod", {"protectStatefulResources": True}, lambda c: c.protect, True),
    ("prod", {"gpuPools[0].zones": ["1", "2"]}, lambda c: c.gpu_pools[0].zones, ["1", "2"]),
    ("dev", {"gpuPools[0].zones": ["1"]}, lambda c: c.gpu_pools[0].zones, ["1"]),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_NV36ads_A10_v5"},
        lambda c: c.gpu_pools[0].vm_size,
        "Standard_NV36ads_A10_v5",
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "1.35.4"},
        lambda c: c.cluster.kubernetes_version,
        "1.35.4",
    ),
]


@pytest.mark.parametrize(("stack", "changes", "read", "expected"), ACCEPTED)
def test_config_accepts_valid_input(
    stack: str, changes: dict[str, Any], read: Callable[[PlatformConfig], object], expected: object
) -> None:
    values = stack_values(stack)
    for path, value in changes.items():
        _set(values, path, value)
    assert read(parse_config(encode(values))) == expected


def test_config_rejects_an_unknown_policy_rule_listing_the_known_ones() -> None:
    values = stack_values("dev")
    _set(values, "policy.rules", {"no-such-rule": "mandatory"})
    with pytest.raises(ConfigError) as info:
        parse_config(encode(values))
    (problem,) = info.value.problems
    # The list of known rules grows with the pack; the key, value and rule come first.
    assert problem.startswith(
        'policy.rules.no-such-rule ("mandatory") is not a rule of the policy pack (known: '
        "acr-admin-user-disabled, "
    )
    assert "k8s-images-pinned" in problem


def test_config_policy_levels_override_the_enforcement_per_rule() -> None:
    values = stack_values("dev")
    _set(values, "policy", {"enforcement": "advisory", "rules": {"k8s-images-pinned": "mandatory"}})
    levels = parse_config(encode(values)).policy.levels()
    assert levels["k8s-images-pinned"] == "mandatory"
    assert levels["acr-admin-user-disabled"] == "advisory"


def test_config_error_shows_an_unserialisable_value_with_repr() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert show_value(loop) == "[[...]]"


def test_config_error_drops_pydantics_value_error_prefix() -> None:
    class Model(BaseModel):
        value: int

        @field_validator("value")
        @classmethod
        def _odd(cls, value: int) -> int:
            if value % 2 == 0:
                raise ValueError("must be odd")
            return value

    with pytest.raises(ValidationError) as info:
        Model(value=2)
    assert format_validation_error(info.value) == ["value (2) must be odd"]


def test_config_from_pulumi_config_reads_the_engines_values() -> None:
    values = stack_values("test")
    pulumi.runtime.set_all_config(encode(values))
    try:
        cfg = from_pulumi_config()
    finally:
        pulumi.runtime.set_all_config({})
    assert (cfg.environment, cfg.vector_db.engine) == ("test", "qdrant")
