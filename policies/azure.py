"""Rules on the Azure resources: the AKS baseline and this platform's promises."""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.kit import environment, get, rule

CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
STORAGE = "azure-native:storage:StorageAccount"
VAULT = "azure-native:keyvault:Vault"
POSTGRES = "azure-native:dbforpostgresql:Server"
# N-series sizes with NVIDIA GPUs (NC, ND, NV, but not AMD's NG/NVv4 "_v4" with AMD GPUs):
# https://learn.microsoft.com/azure/virtual-machines/sizes/overview#gpu-accelerated
_GPU_SIZE = re.compile(r"^Standard_N[CDV]", re.IGNORECASE)
_AMD_GPU = re.compile(r"^Standard_(NG|NV\d+as_v4)", re.IGNORECASE)
# Types whose ARM resource takes tags and that the program creates at top level.
TAGGABLE = frozenset(
    {
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:NetworkSecurityGroup",
        "azure-native:network:PrivateEndpoint",
        "azure-native:network:NatGateway",
        "azure-native:network:PublicIPAddress",
        "azure-native:network:RouteTable",
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        CLUSTER,
        AGENT_POOL,
        REGISTRY,
        "azure-native:managedidentity:UserAssignedIdentity",
        STORAGE,
        VAULT,
        "azure-native:keyvault:Secret",
        POSTGRES,
        "azure-native:operationalinsights:Workspace",
        "azure-native:monitor:AzureMonitorWorkspace",
        "azure-native:monitor:DataCollectionEndpoint",
        "azure-native:monitor:DataCollectionRule",
        "azure-native:monitor:ActionGroup",
        "azure-native:alertsmanagement:PrometheusRuleGroup",
        "azure-native:dashboard:Grafana",
    }
)
REQUIRED_TAGS = ("environment", "owner", "workload", "managed-by")
STATEFUL = (REGISTRY, STORAGE, VAULT, POSTGRES, "azure-native:keyvault:Secret")


def _is_gpu_pool(args: ResourceValidationArgs) -> bool:
    size = str(args.props.get("vmSize", ""))
    return bool(_GPU_SIZE.match(size)) and not _AMD_GPU.match(size)


@rule(
    "aks-gpu-pools-tainted",
    "GPU node pools carry the nvidia.com/gpu NoSchedule taint",
    [AGENT_POOL],
)
def aks_gpu_pools_tainted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Without the taint, any pod lands on (and keeps awake) an expensive GPU node."""
    if not _is_gpu_pool(args):
        args.not_applicable("not a GPU pool")
    taints = [str(t) for t in args.props.get("nodeTaints") or []]
    if not any(t.startswith("nvidia.com/gpu") and t.endswith(":NoSchedule") for t in taints):
        report(
            f"GPU pool ({args.props.get('vmSize')}) has no nvidia.com/gpu NoSchedule taint: add "
            "nodeTaints ['nvidia.com/gpu=present:NoSchedule'].",
            None,
        )


@rule("aks-gpu-pools-scale-from-zero", "GPU node pools autoscale with a minimum of 0", [AGENT_POOL])
def aks_gpu_pools_scale_from_zero(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Idle GPU nodes are the platform's largest avoidable cost."""
    if not _is_gpu_pool(args):
        args.not_applicable("not a GPU pool")
    if not args.props.get("enableAutoScaling") or args.props.get("minCount") not in (0, 0.0):
        report(
            "GPU pool does not scale from zero: set enableAutoScaling true and minCount 0.",
            None,
        )


@rule("aks-local-accounts-disabled", "AKS local accounts are disabled", [CLUSTER])
def aks_local_accounts_disabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Local accounts give a static admin credential that bypasses Entra ID."""
    if args.props.get("disableLocalAccounts") is not True:
        report("Local accounts are enabled: set disableLocalAccounts true (Entra ID only).", None)


@rule("aks-entra-rbac-enabled", "AKS uses managed Entra ID with Azure RBAC", [CLUSTER])
def aks_entra_rbac_enabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Kubernetes authorization through Azure RBAC and Entra groups."""
    if not (
        get(args.props, "aadProfile.managed") and get(args.props, "aadProfile.enableAzureRBAC")
    ):
        report("Set aadProfile.managed and aadProfile.enableAzureRBAC true.", None)


@rule(
    "aks-api-server-not-public", "The API server is private or limited to named ranges", [CLUSTER]
)
def aks_api_server_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """An API server open to the internet is the first thing scanned."""
    profile = args.props.get("apiServerAccessProfile") or {}
    if profile.get("enablePrivateCluster"):
        return
    ranges = [str(r) for r in profile.get("authorizedIPRanges") or []]
    if not ranges:
        report(
            "The API server is public to every address: make it private "
            "(enablePrivateCluster) or list authorizedIPRanges.",
            None,
        )
    elif any(IPv4Network(r, strict=False).prefixlen == 0 for r in ranges):
        report("authorizedIPRanges contains 0.0.0.0/0: list the ranges that need access.", None)


@rule(
    "aks-workload-identity-enabled",
    "AKS has the OIDC issuer and workload identity on",
    [CLUSTER],
)
def aks_workload_identity_enabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Workloads get Entra tokens without stored credentials."""
    oidc = get(args.props, "oidcIssuerProfile.enabled")
    wi = get(args.props, "securityProfile.workloadIdentity.enabled")
    if not (oidc and wi):
        report(
            "Turn on oidcIssuerProfile.enabled and securityProfile.workloadIdentity.enabled.",
            None,
        )


@rule("aks-network-policy-set", "AKS enforces Kubernetes network policies", [CLUSTER])
def aks_network_policy_set(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Without a network policy engine, NetworkPolicy objects are silently ignored."""
    if not get(args.props, "networkProfile.networkPolicy"):
        report("Set networkProfile.networkPolicy (cilium with the Cilium dataplane).", None)


@rule("acr-admin-user-disabled", "The registry's admin user is off", [REGISTRY])
def acr_admin_user_disabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """The admin user is a shared password with push rights."""
    if args.props.get("adminUserEnabled") is not False:
        report("Set adminUserEnabled false; pull with AcrPull on an identity.", None)


@rule("acr-anonymous-pull-disabled", "The registry refuses anonymous pulls", [REGISTRY])
def acr_anonymous_pull_disabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Anonymous pull publishes every image."""
    if args.props.get("anonymousPullEnabled"):
        report("Set anonymousPullEnabled false.", None)


@rule("storage-shared-key-disabled", "Storage accounts refuse shared-key access", [STORAGE])
def storage_shared_key_disabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Account keys are long-lived credentials that bypass Entra ID and RBAC."""
    if args.props.get("allowSharedKeyAccess") is not False:
        report("Set allowSharedKeyAccess false (Entra ID only).", None)


@rule("storage-public-blob-access-disabled", "No anonymous blob access", [STORAGE])
def storage_public_blob_access_disabled(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """A container set to public by mistake publishes training data."""
    if args.props.get("allowBlobPublicAccess") is not False:
        report("Set allowBlobPublicAccess false.", None)


@rule("storage-min-tls-1-2", "Storage accounts require TLS 1.2 or later", [STORAGE])
def storage_min_tls_1_2(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """TLS 1.0/1.1 are deprecated."""
    if args.props.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3"):
        report("Set minimumTlsVersion TLS1_2.", None)


@rule("key-vault-rbac-enabled", "Key Vault uses Azure RBAC, not access policies", [VAULT])
def key_vault_rbac_enabled(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """RBAC scopes access per secret and shows in one place."""
    if get(args.props, "properties.enableRbacAuthorization") is not True:
        report("Set properties.enableRbacAuthorization true.", None)


@rule("key-vault-purge-protection-in-prod", "A prod Key Vault has purge protection", [VAULT])
def key_vault_purge_protection_in_prod(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """Without it, a deleted vault and its secrets can be purged for good at once."""
    if environment(args.props) != "prod":
        args.not_applicable("not a prod resource")
    if get(args.props, "properties.enablePurgeProtection") is not True:
        report("Set properties.enablePurgeProtection true (keyVault.purgeProtectionEnabled).", None)


@rule("postgres-ha-in-prod", "A prod PostgreSQL server is zone-redundant", [POSTGRES])
def postgres_ha_in_prod(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """MLflow and the vector store stop with the database."""
    if environment(args.props) != "prod":
        args.not_applicable("not a prod resource")
    if get(args.props, "highAvailability.mode") != "ZoneRedundant":
        report("Set highAvailability.mode ZoneRedundant (postgres.highAvailability).", None)


@rule(
    "postgres-geo-backup-in-prod", "A prod PostgreSQL server has geo-redundant backup", [POSTGRES]
)
def postgres_geo_backup_in_prod(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A regional outage must not lose the model registry."""
    if environment(args.props) != "prod":
        args.not_applicable("not a prod resource")
    if get(args.props, "backup.geoRedundantBackup") != "Enabled":
        report("Set backup.geoRedundantBackup Enabled (postgres.geoRedundantBackupEnabled).", None)


@rule(
    "stateful-resources-protected-in-prod",
    "Prod resources that hold data are protected from deletion",
    STATEFUL,
)
def stateful_resources_protected_in_prod(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """`pulumi destroy` or a replacement must never delete prod data."""
    if environment(args.props) != "prod":
        args.not_applicable("not a prod resource")
    if not args.opts.protect:
        report(
            "Protect this resource (protectStatefulResources; ResourceOptions(protect=True)).", None
        )
    if getattr(args.opts, "retain_on_delete", True) is False:
        report("Retain this resource on delete (ResourceOptions(retain_on_delete=True)).", None)


@rule("azure-required-tags", "Taggable Azure resources carry the required tags", sorted(TAGGABLE))
def azure_required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Cost and ownership reports group by these tags."""
    tags = args.props.get("tags") or {}
    missing = [t for t in REQUIRED_TAGS if not str(tags.get(t, "")).strip()]
    if missing:
        report(f"Add the tags {', '.join(missing)} (config `tags`).", None)


RULES = (
    aks_gpu_pools_tainted,
    aks_gpu_pools_scale_from_zero,
    aks_local_accounts_disabled,
    aks_entra_rbac_enabled,
    aks_api_server_not_public,
    aks_workload_identity_enabled,
    aks_network_policy_set,
    acr_admin_user_disabled,
    acr_anonymous_pull_disabled,
    storage_shared_key_disabled,
    storage_public_blob_access_disabled,
    storage_min_tls_1_2,
    key_vault_rbac_enabled,
    key_vault_purge_protection_in_prod,
    postgres_ha_in_prod,
    postgres_geo_backup_in_prod,
    stateful_resources_protected_in_prod,
    azure_required_tags,
)
