"""Typed stack config: every bad input is rejected with its key, its value and the rule."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, parse_config
from infra.config.cluster import SUPPORTED_KUBERNETES_MINORS
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

# (stack, {path: value}, expected message fragment) -- the fragment names key, value and rule.
BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "dev",
        {"monitoring.logAnalytics.retentionDays": 29},
        "monitoring.logAnalytics.retentionDays (29) must be 30..730 days",
    ),
    (
        "prod",
        {"monitoring.logAnalytics.retentionDays": 731},
        "monitoring.logAnalytics.retentionDays (731) must be 30..730 days",
    ),
    (
        "dev",
        {"monitoring.logAnalytics.dailyQuotaGb": 0},
        "monitoring.logAnalytics.dailyQuotaGb (0.0) must be > 0 GB, or -1 for no daily cap",
    ),
    (
        "dev",
        {"monitoring.logAnalytics.dailyQuotaGb": -2},
        "monitoring.logAnalytics.dailyQuotaGb (-2.0) must be > 0 GB, or -1",
    ),
    (
        "dev",
        {"monitoring.containerInsights.collectionInterval": "45s"},
        'monitoring.containerInsights.collectionInterval ("45s") must be 1m..30m',
    ),
    (
        "dev",
        {"monitoring.containerInsights.collectionInterval": "31m"},
        'monitoring.containerInsights.collectionInterval ("31m") must be 1m..30m',
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
        'monitoring.containerInsights.namespaces[0] ("Kube_System") must be a namespace name',
    ),
    (
        "prod",
        {"monitoring.grafana.privateEndpointEnabled": False},
        "monitoring.grafana.publicNetworkAccessEnabled (false) needs privateEndpointEnabled",
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
        'monitoring.diagnostics.aksCategories[0] ("kube-everything") Input should be',
    ),
    ("dev", {"mlflow.ingressEnabled": True}, "mlflow.ingressEnabled (true) is not supported yet"),
    ("dev", {"mlflow.scratchSizeGi": 0}, "mlflow.scratchSizeGi (0) Input should be greater"),
    (
        "dev",
        {"network.peerings": {"runners": "vnet-runners"}},
        'network.peerings.runners ("vnet-runners") must be a VNet resource id',
    ),
    (
        "dev",
        {"network.peerings": {"Runners": "/x"}},
        'network.peerings.Runners ("Runners") must be 1-31 lowercase letters',
    ),
    (
        "dev",
        {"postgres.passwordAuthEnabled": False},
        "postgres.passwordAuthEnabled (false) must be true: MLflow signs in",
    ),
    (
        "dev",
        {"gpuPools[0].minCount": 3, "gpuPools[0].maxCount": 2},
        "gpuPools[0].minCount (3) must be <= maxCount (2)",
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_D4ds_v5"},
        'gpuPools[0].vmSize ("Standard_D4ds_v5") must be an NVIDIA GPU (N-series) size',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_MI300X_v5"},
        'gpuPools[0].vmSize ("Standard_ND96isr_MI300X_v5") must be an NVIDIA GPU',
    ),
    (
        "dev",
        {"gpuPools[0].migProfile": "MIG1g"},
        'gpuPools[0].migProfile ("MIG1g") needs a MIG-capable size',
    ),
    (
        "dev",
        {"gpuPools[0].name": "GPU-T4"},
        'gpuPools[0].name ("GPU-T4") must be 1-12 lowercase letters or digits',
    ),
    (
        "dev",
        {"gpuPools[0].name": "gputoolongname"},
        'gpuPools[0].name ("gputoolongname") must be 1-12',
    ),
    (
        "prod",
        {"gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_NC24ads_A100_v4',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_H100_v5", "gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_ND96isr_H100_v5',
    ),
    (
        "dev",
        {"gpuPools[0].vmSize": "Standard_ND96isr_H200_v5", "gpuPools[0].osSku": "AzureLinux"},
        'gpuPools[0].osSku ("AzureLinux") is not offered by AKS for Standard_ND96isr_H200_v5',
    ),
    (
        "prod",
        {"network.subnets.apiServer": "10.42.33.0/29"},
        'network.subnets.apiServer ("10.42.33.0/29") must be /28 or larger',
    ),
    (
        "prod",
        {"cluster.maintenance.autoUpgrade.durationHours": 3},
        "cluster.maintenance.autoUpgrade.durationHours (3) must be 4-24 hours",
    ),
    (
        "prod",
        {"cluster.maintenance.nodeOs.durationHours": 25},
        "cluster.maintenance.nodeOs.durationHours (25) must be 4-24 hours",
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.dayOfWeek": "Funday"},
        'cluster.maintenance.autoUpgrade.dayOfWeek ("Funday") Input should be',
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.startTime": "2am"},
        'cluster.maintenance.autoUpgrade.startTime ("2am") must be a time of day as HH:mm',
    ),
    (
        "dev",
        {"cluster.maintenance.autoUpgrade.startTime": "24:00"},
        'cluster.maintenance.autoUpgrade.startTime ("24:00") must be a time of day as HH:mm',
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.utcOffset": "+1"},
        'cluster.maintenance.nodeOs.utcOffset ("+1") must be +HH:mm or -HH:mm',
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.schedule": "AbsoluteMonthly"},
        "cluster.maintenance.nodeOs.dayOfMonth (null) is required for an AbsoluteMonthly",
    ),
    (
        "dev",
        {"cluster.maintenance.nodeOs.dayOfMonth": 1},
        "cluster.maintenance.nodeOs.dayOfMonth (1) is only for an AbsoluteMonthly schedule",
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
        'cluster.maintenance.autoUpgrade ("set") needs an upgradeChannel other than none',
    ),
    (
        "dev",
        {"cluster.nodeOsUpgradeChannel": "Unmanaged"},
        'cluster.maintenance.nodeOs ("set") needs nodeOsUpgradeChannel NodeImage or',
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
        "userDefinedRouting",
    ),
    (
        "dev",
        {"network.egress": {"type": "userDefinedRouting", "firewallPrivateIp": "20.1.2.3"}},
        'network.egress.firewallPrivateIp ("20.1.2.3") must be a private address',
    ),
    (
        "dev",
        {"network.egress": {"type": "userDefinedRouting", "firewallPrivateIp": "10.40.0.4"}},
        'network.egress.firewallPrivateIp ("10.40.0.4") must be outside vnetCidr',
    ),
    (
        "dev",
        {"network.egress": {"type": "azureFirewall"}},
        'network.egress.type ("azureFirewall") Input should be',
    ),
    (
        "dev",
        {"gpuPools[0].osSku": "AzureLinux", "cluster.nodeOsUpgradeChannel": "SecurityPatch"},
        'gpuPools[0].osSku ("AzureLinux") cannot take cluster.nodeOsUpgradeChannel SecurityPatch',
    ),
    ("dev", {"gpuPools[0].zones": ["1", "1"]}, 'gpuPools[0].zones (["1", "1"]) must not repeat'),
    ("dev", {"gpuPools[0].name": "cpu"}, 'gpuPools[0].name ("cpu") is already used by cpuPool'),
    ("dev", {"gpuPools[0].minCount": -1}, "gpuPools[0].minCount (-1) Input should be greater"),
    ("dev", {"systemPool.minCount": 0}, "systemPool.minCount (0) Input should be greater"),
    ("dev", {"systemPool.spot": True}, "systemPool.spot (true) is not allowed: spot VMs are for"),
    (
        "dev",
        {"cluster.kubernetesVersion": "1.20"},
        'cluster.kubernetesVersion ("1.20") is outside the AKS support window',
    ),
    (
        "dev",
        {"cluster.kubernetesVersion": "v1.36"},
        'cluster.kubernetesVersion ("v1.36") must look like 1.34 or 1.34.2',
    ),
    (
        "dev",
        {"cluster.apiServer.authorizedIpRanges": ["0.0.0.0/0"]},
        'cluster.apiServer.authorizedIpRanges[0] ("0.0.0.0/0") must not open the API server',
    ),
    (
        "dev",
        {"cluster.apiServer.authorizedIpRanges": []},
        "cluster.apiServer.authorizedIpRanges ([]) must list at least one CIDR",
    ),
    ("dev", {"cluster.adminGroupObjectIds": []}, "cluster.adminGroupObjectIds ([]) List should"),
    (
        "dev",
        {"cluster.adminGroupObjectIds": ["not-a-guid"]},
        'cluster.adminGroupObjectIds[0] ("not-a-guid")',
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
        'network.subnets.privateEndpoints ("10.40.8.0/24") overlaps subnets.nodes',
    ),
    (
        "dev",
        {"network.podCidr": "10.40.128.0/17"},
        'network.podCidr ("10.40.128.0/17") overlaps vnetCidr (10.40.0.0/16)',
    ),
    (
        "dev",
        {"network.dnsServiceIp": "10.0.0.10"},
        'network.dnsServiceIp ("10.0.0.10") must be inside serviceCidr',
    ),
    ("dev", {"network.subnets.nodez": "10.40.0.0/20"}, "network.subnets.nodez"),
    ("dev", {"workload": "ML_Ops"}, 'workload ("ML_Ops") must be 2-10 lowercase letters'),
    ("dev", {"location": "West Europe"}, 'location ("West Europe") must be an Azure region'),
    ("dev", {"tags.environment": "staging"}, 'tags.environment ("staging") Input should be'),
    ("dev", {"tags.owner": _DELETE}, "tags.owner (missing) is required"),
    (
        "dev",
        {"registry.retentionDays": 7},
        "registry.retentionDays (7) needs sku Premium, not Basic",
    ),
    (
        "dev",
        {"registry.privateEndpointEnabled": True},
        "registry.privateEndpointEnabled (true) needs sku Premium",
    ),
    ("dev", {"registry.sku": "Ultra"}, 'registry.sku ("Ultra") Input should be'),
    (
        "prod",
        {"security.allowedImagesEffect": "Audit"},
        'security.allowedImagesEffect ("Audit") must be Deny when tags.environment is prod',
    ),
    (
        "prod",
        {"security.allowedImagesEffect": "Block"},
        'security.allowedImagesEffect ("Block") Input should be',
    ),
    (
        "prod",
        {"security.allowedImageUpstreams": ["ghcr.io/mlflow"]},
        'security.allowedImageUpstreams[0] ("ghcr.io/mlflow") is not a registry host name',
    ),
    (
        "prod",
        {"security.allowedImageUpstreams": ["nvcr.io", "nvcr.io"]},
        'security.allowedImageUpstreams[1] ("nvcr.io") is listed twice',
    ),
    (
        "dev",
        {"registry.cacheUpstreams": ["https://ghcr.io"]},
        'registry.cacheUpstreams[0] ("https://ghcr.io") is not a registry host name',
    ),
    (
        "dev",
        {"registry.cacheUpstreams": ["ghcr.io", "quay.io"]},
        'registry.cacheUpstreams[1] ("quay.io") has no cache target prefix',
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
        "prod",
        {
            "cluster.apiServer.privateClusterEnabled": False,
            "cluster.apiServer.authorizedIpRanges": ["203.0.113.0/24"],
        },
        "cluster.apiServer.privateClusterEnabled (false) must be true when tags.environment "
        "is prod",
    ),
    ("prod", {"cluster.zones": ["1"]}, 'cluster.zones (["1"]) must list at least 2 zones'),
    ("prod", {"cluster.skuTier": "Free"}, 'cluster.skuTier ("Free") must be Standard (uptime SLA)'),
    (
        "prod",
        {"protectStatefulResources": False},
        "protectStatefulResources (false) must not be false in prod",
    ),
    (
        "prod",
        {
            "cluster.apiServer.privateClusterEnabled": True,
            "cluster.apiServer.authorizedIpRanges": ["203.0.113.0/24"],
        },
        'authorizedIpRanges (["203.0.113.0/24"]) must be empty when privateClusterEnabled',
    ),
    ("test", {"cluster.zones": ["1", "1"]}, 'cluster.zones (["1", "1"]) must not repeat a zone'),
    (
        "dev",
        {"postgres.highAvailability": "ZoneRedundant"},
        'postgres.highAvailability ("ZoneRedundant") needs tier GeneralPurpose',
    ),
    ("dev", {"postgres.storageSizeGb": 100}, "postgres.storageSizeGb (100) must be one of"),
    ("dev", {"dataLake.blobSoftDeleteDays": 0}, "dataLake.blobSoftDeleteDays (0) Input should be"),
    (
        "dev",
        {"dataLake.containerSoftDeleteDays": 400},
        "dataLake.containerSoftDeleteDays (400) Input should be",
    ),
    (
        "dev",
        {"keyVault.softDeleteRetentionDays": 3},
        "keyVault.softDeleteRetentionDays (3) Input should be",
    ),
    ("dev", {"vectorDb.engine": "faiss"}, 'vectorDb.engine ("faiss") Input should be'),
    (
        "test",
        {"vectorDb.qdrant.storageClass": "managed-csi-premium"},
        'vectorDb.qdrant.storageClass ("managed-csi-premium") is an AKS built-in class whose '
        "disk SKU (LRS or ZRS) AKS picks, but Qdrant's pool (cpuPool) spans zones 1,2",
    ),
    (
        "dev",
        {
            "vectorDb.engine": "qdrant",
            "vectorDb.qdrant": {"storageClass": "managed-csi"},
            "cpuPool.zones": ["1", "3"],
        },
        'vectorDb.qdrant.storageClass ("managed-csi") is an AKS built-in class',
    ),
    (
        "dev",
        {"vectorDb.dimensions": 3072},
        "vectorDb.dimensions (3072) must be <= 2000 for a pgvector HNSW index",
    ),
    (
        "dev",
        {"mlflow.image": "ghcr.io/mlflow/mlflow:latest"},
        'mlflow.image ("ghcr.io/mlflow/mlflow:latest") must be registry/repository:version',
    ),
    ("dev", {"mlflow.image": "mlflow"}, 'mlflow.image ("mlflow") must be registry/repository'),
    ("dev", {"mlflow.namespace": "MLflow"}, 'mlflow.namespace ("MLflow") must be a DNS-1123'),
    ("prod", {"mlflow.replicas": 1}, "mlflow.replicas (1) must be >= 2 when tags.environment"),
    (
        "prod",
        {"keyVault.purgeProtectionEnabled": False},
        "keyVault.purgeProtectionEnabled (false) must be true when tags.environment is prod",
    ),
    (
        "prod",
        {"postgres.highAvailability": "Disabled"},
        'postgres.highAvailability ("Disabled") must be ZoneRedundant',
    ),
    (
        "dev",
        {"postgres.privateAccessEnabled": True, "network.subnets.postgres": _DELETE},
        "postgres.privateAccessEnabled (true) needs network.subnets.postgres",
    ),
    (
        "dev",
        {"dataLake.versioningEnabled": True},
        "dataLake.versioningEnabled (true) is not supported on an ADLS Gen2 (hierarchical "
        "namespace) account",
    ),
    ("dev", {"postgres.entraAdmin": _DELETE}, "postgres.entraAdmin (null) is required"),
    (
        "prod",
        {"postgres.entraAdmin.objectId": "not-a-guid"},
        'postgres.entraAdmin.objectId ("not-a-guid")',
    ),
    (
        "dev",
        {"postgres.entraAdmin.principalType": "Role"},
        'postgres.entraAdmin.principalType ("Role") Input should be',
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
        "alerts.gpu.lowUtilisation.utilisationPercent (-5) Input should be greater than or equal",
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
        'alerts.runbookBaseUrl ("http://wiki.example.com/runbooks") must be an https URL',
    ),
    (
        "dev",
        {"alerts.model.quality.minScor": 0.5},
        "alerts.model.quality.minScor (0.5) is not a known key",
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
    assert expected in str(info.value), str(info.value)


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
