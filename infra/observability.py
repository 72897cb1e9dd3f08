"""Compose observability from the validated config (called by :mod:`infra.platform`).

Two phases, because Azure needs an order: the Log Analytics workspace exists before the
cluster (its ``omsagent`` add-on names the workspace); everything else follows the cluster and
the data layer (collection rules, associations and diagnostic settings point at them).

Alert content is not decided here: :func:`build_observability` takes the alert rule groups as
a parameter (``alert_groups``) and registers them beside the recommended AKS recording rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.cluster.aks import AksCluster
from components.data.data_lake import DataLake
from components.data.postgres import PostgresServer
from components.kit.naming import Kind, Namer
from components.network.vnet import Network
from components.observability.action_group import AlertActionGroup, AlertActionGroupArgs
from components.observability.container_insights import (
    ContainerInsights,
    ContainerInsightsArgs,
)
from components.observability.dashboards import (
    GrafanaDashboards,
    GrafanaDashboardsArgs,
    load_dashboards,
)
from components.observability.diagnostics import (
    DiagnosticSettings,
    DiagnosticSettingsArgs,
    DiagnosticTarget,
)
from components.observability.grafana import (
    GRAFANA_GROUP_ID,
    GRAFANA_PRIVATE_DNS_ZONE,
    ManagedGrafana,
    ManagedGrafanaArgs,
)
from components.observability.grafana_auth import grafana_token
from components.observability.log_analytics import (
    LogAnalyticsWorkspace,
    LogAnalyticsWorkspaceArgs,
)
from components.observability.managed_prometheus import ManagedPrometheus, ManagedPrometheusArgs
from components.observability.recording_rules import recommended_recording_rule_groups
from components.observability.rule_groups import PrometheusRuleGroups, PrometheusRuleGroupsArgs
from components.observability.specs import RuleGroupSpec
from components.secrets.key_vault import KeyVault
from infra.config import PlatformConfig

DASHBOARDS_DIR = Path(__file__).resolve().parent.parent / "dashboards"
# Resource log categories (besides AKS's, which come from config). Learn, "Supported logs":
# Microsoft.KeyVault/vaults, Microsoft.DBforPostgreSQL/flexibleServers,
# Microsoft.Storage/storageAccounts/blobServices.
KEY_VAULT_LOG_CATEGORIES = ("AuditEvent",)
POSTGRES_LOG_CATEGORIES = ("PostgreSQLLogs", "PostgreSQLFlexSessions")
BLOB_LOG_CATEGORIES = ("StorageRead", "StorageWrite", "StorageDelete")
PROMETHEUS_ASSOCIATION = "dcra-prometheus"


@dataclass(frozen=True)
class Observability:
    """What observability built, for exports."""

    log_analytics: LogAnalyticsWorkspace
    prometheus: ManagedPrometheus
    grafana: ManagedGrafana
    action_group: AlertActionGroup
    rule_groups: PrometheusRuleGroups
    dashboards: GrafanaDashboards | None


def observability_private_dns_zones(cfg: PlatformConfig) -> list[str]:
    """Private DNS zones observability needs (Grafana's, when it has a private endpoint)."""
    return [GRAFANA_PRIVATE_DNS_ZONE] if cfg.monitoring.grafana.private_endpoint_enabled else []


def build_log_analytics(
    cfg: PlatformConfig, namer: Namer, tags: dict[str, str], network: Network
) -> LogAnalyticsWorkspace:
    """The workspace; built before the cluster, whose Container Insights add-on names it."""
    logs = cfg.monitoring.log_analytics
    return LogAnalyticsWorkspace(
        "logs",
        LogAnalyticsWorkspaceArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            workspace_name=namer.name(Kind.LOG_ANALYTICS),
            retention_days=logs.retention_days,
            daily_quota_gb=logs.daily_quota_gb,
            protect=cfg.protect,
            tags=tags,
        ),
    )


@dataclass(frozen=True, kw_only=True)
class MonitoredResources:
    """The resources observability watches."""

    network: Network
    cluster: AksCluster
    data_lake: DataLake
    key_vault: KeyVault
    postgres: PostgresServer


def build_observability(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    log_analytics: LogAnalyticsWorkspace,
    watched: MonitoredResources,
    *,
    alert_groups: Sequence[RuleGroupSpec] = (),
    dashboards_dir: Path = DASHBOARDS_DIR,
) -> Observability:
    """Collection rules, managed Prometheus, Grafana, diagnostics, action group, rules."""
    mon = cfg.monitoring
    rg = watched.network.resource_group_name
    cluster = watched.cluster
    ci = mon.container_insights
    ContainerInsights(
        "container-insights",
        ContainerInsightsArgs(
            resource_group_name=rg,
            location=cfg.location,
            rule_name=namer.name(Kind.DATA_COLLECTION_RULE, "ci"),
            workspace_resource_id=log_analytics.resource_id,
            cluster_resource_id=cluster.resource_id,
            collection_interval=ci.collection_interval,
            namespace_filtering_mode=ci.namespace_filtering_mode,
            namespaces=list(ci.namespaces),
            tags=tags,
        ),
    )
    prometheus = ManagedPrometheus(
        "prometheus",
        ManagedPrometheusArgs(
            resource_group_name=rg,
            location=cfg.location,
            workspace_name=namer.name(Kind.AZURE_MONITOR_WORKSPACE),
            endpoint_name=namer.name(Kind.DATA_COLLECTION_ENDPOINT, "prom"),
            rule_name=namer.name(Kind.DATA_COLLECTION_RULE, "prom"),
            association_name=PROMETHEUS_ASSOCIATION,
            cluster_resource_id=cluster.resource_id,
            protect=cfg.protect,
            tags=tags,
        ),
    )
    _build_diagnostics(cfg, log_analytics, watched)
    action_group = AlertActionGroup(
        "alerts-action-group",
        AlertActionGroupArgs(
            resource_group_name=rg,
            action_group_name=namer.name(Kind.ACTION_GROUP),
            short_name=mon.action_group.short_name or cfg.workload,
            emails=dict(mon.action_group.emails),
            webhooks=dict(mon.action_group.webhooks),
            tags=tags,
        ),
    )
    groups = [*recommended_recording_rule_groups(), *alert_groups]
    rule_groups = PrometheusRuleGroups(
        "rule-groups",
        PrometheusRuleGroupsArgs(
            resource_group_name=rg,
            location=cfg.location,
            groups=groups,
            group_names={g.name: namer.name(Kind.PROMETHEUS_RULE_GROUP, g.name) for g in groups},
            workspace_resource_id=prometheus.workspace_resource_id,
            cluster_resource_id=cluster.resource_id,
            cluster_name=cluster.name,
            action_group_id=action_group.resource_id,
            tags=tags,
        ),
    )
    grafana = _build_grafana(cfg, namer, tags, watched.network, prometheus)
    return Observability(
        log_analytics=log_analytics,
        prometheus=prometheus,
        grafana=grafana,
        action_group=action_group,
        rule_groups=rule_groups,
        dashboards=_build_dashboards(grafana, dashboards_dir),
    )


def _build_diagnostics(
    cfg: PlatformConfig, log_analytics: LogAnalyticsWorkspace, watched: MonitoredResources
) -> DiagnosticSettings:
    return DiagnosticSettings(
        "diagnostics",
        DiagnosticSettingsArgs(
            workspace_resource_id=log_analytics.resource_id,
            targets={
                "aks": DiagnosticTarget(
                    resource_id=watched.cluster.resource_id,
                    categories=list(cfg.monitoring.diagnostics.aks_categories),
                    resource_specific_tables=True,
                ),
                "keyvault": DiagnosticTarget(
                    resource_id=watched.key_vault.resource_id,
                    categories=KEY_VAULT_LOG_CATEGORIES,
                    resource_specific_tables=True,
                ),
                "postgres": DiagnosticTarget(
                    resource_id=watched.postgres.resource_id,
                    categories=POSTGRES_LOG_CATEGORIES,
                ),
                # Blob logs are emitted by the blob service sub-resource, not the account.
                "datalake-blob": DiagnosticTarget(
                    resource_id=pulumi.Output.concat(
                        watched.data_lake.resource_id, "/blobServices/default"
                    ),
                    categories=BLOB_LOG_CATEGORIES,
                ),
            },
        ),
    )


def _build_grafana(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    network: Network,
    prometheus: ManagedPrometheus,
) -> ManagedGrafana:
    g = cfg.monitoring.grafana
    return ManagedGrafana(
        "grafana",
        ManagedGrafanaArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            grafana_name=namer.name(Kind.MANAGED_GRAFANA),
            azure_monitor_workspace_resource_id=prometheus.workspace_resource_id,
            admin_group_object_ids=[str(i) for i in cfg.cluster.admin_group_object_ids],
            public_network_access_enabled=g.public_network_access_enabled,
            zone_redundancy_enabled=g.zone_redundancy_enabled,
            major_version=g.major_version,
            private_endpoint=network.private_endpoint(GRAFANA_PRIVATE_DNS_ZONE, GRAFANA_GROUP_ID)
            if g.private_endpoint_enabled
            else None,
            private_endpoint_name=namer.name(Kind.PRIVATE_ENDPOINT, "amg"),
            # Dashboards are written from the deployer's network: a private Grafana must
            # resolve from the peered runner VNets too.
            private_dns_link_vnet_resource_ids=dict(cfg.network.peerings),
            tags=tags,
        ),
    )


def _build_dashboards(grafana: ManagedGrafana, dashboards_dir: Path) -> GrafanaDashboards | None:
    dashboards = load_dashboards(dashboards_dir)
    if not dashboards:
        # No provider and no token request when there is nothing to provision.
        return None
    # The endpoint carries the Grafana Admin grants: the deployer (a member of an admin
    # group) may write dashboards only once they exist.
    url = pulumi.Output.all(grafana.endpoint, *[g.id for g in grafana.admin_grants]).apply(
        lambda values: str(values[0])
    )
    return GrafanaDashboards(
        "dashboards",
        GrafanaDashboardsArgs(url=url, auth=grafana_token(), dashboards=dashboards),
    )
