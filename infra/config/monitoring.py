"""Monitoring config: Log Analytics, Container Insights, Managed Grafana, diagnostic settings,
the action group. Top-level key ``monitoring``.

Rules: retention and daily cap inside Azure's ranges; Container Insights' collection interval
1m..30m; action-group receivers are email addresses or https URLs; a Grafana without public
access needs a private endpoint (else nobody can reach it).
"""

from __future__ import annotations

import re
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

# Workspace-level retention for the PerGB2018 tier: 30..730 days (7 is the legacy Free tier
# only). https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure
LOG_RETENTION_MIN_DAYS = 30
LOG_RETENTION_MAX_DAYS = 730
# dailyQuotaGb: -1 means no cap; any cap must be positive.
# https://learn.microsoft.com/azure/azure-monitor/logs/daily-cap
UNLIMITED_DAILY_QUOTA = -1.0
# Container Insights DCR `dataCollectionSettings.interval`: "1m" to "30m".
# https://learn.microsoft.com/azure/azure-monitor/containers/container-insights-data-collection-dcr
_INTERVAL = re.compile(r"^([1-9]|[12][0-9]|30)m$")
# AKS control-plane log categories (resource logs of Microsoft.ContainerService/managedClusters).
# https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-containerservice-managedclusters-logs
AksLogCategory = Literal[
    "kube-apiserver",
    "kube-audit",
    "kube-audit-admin",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "cloud-controller-manager",
    "guard",
    "csi-azuredisk-controller",
    "csi-azurefile-controller",
    "csi-snapshot-controller",
]
DEFAULT_AKS_LOG_CATEGORIES: tuple[AksLogCategory, ...] = (
    "kube-apiserver",
    "kube-audit-admin",
    "kube-controller-manager",
    "cluster-autoscaler",
    "guard",
)
# A pragmatic address check: one @, no spaces, a dotted domain.
_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_RECEIVER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
# Action group short name: at most 12 characters (shown in SMS and email subjects).
# https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups
ACTION_GROUP_SHORT_NAME_MAX = 12


class LogAnalyticsConfig(ConfigModel):
    """The Log Analytics workspace (PerGB2018)."""

    retention_days: int = 30
    """Days data stays queryable (30..730)."""
    daily_quota_gb: float = UNLIMITED_DAILY_QUOTA
    """Ingestion cap per day in GB; -1 for no cap."""

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not LOG_RETENTION_MIN_DAYS <= value <= LOG_RETENTION_MAX_DAYS:
            raise rule_error(
                "",
                value,
                f"must be {LOG_RETENTION_MIN_DAYS}..{LOG_RETENTION_MAX_DAYS} days "
                "(Azure's range for a PerGB2018 workspace)",
            )
        return value

    @field_validator("daily_quota_gb")
    @classmethod
    def _quota(cls, value: float) -> float:
        if value != UNLIMITED_DAILY_QUOTA and value <= 0:
            raise rule_error("", value, "must be > 0 GB, or -1 for no daily cap")
        return value


class ContainerInsightsConfig(ConfigModel):
    """What the Container Insights agent collects (its data collection rule)."""

    collection_interval: str = "1m"
    """How often inventory and performance data are collected (1m..30m)."""
    namespace_filtering_mode: Literal["Off", "Include", "Exclude"] = "Off"
    """Filter inventory, events and metrics by namespace."""
    namespaces: list[str] = Field(default_factory=list)
    """Namespaces the filter includes or excludes."""

    @field_validator("collection_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not _INTERVAL.match(value):
            raise rule_error("", value, "must be 1m..30m (whole minutes, e.g. 5m)")
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespaces(cls, value: list[str]) -> list[str]:
        for index, ns in enumerate(value):
            if not _NAMESPACE.match(ns):
                raise rule_error(f"[{index}]", ns, "must be a namespace name (DNS-1123 label)")
        return value

    @model_validator(mode="after")
    def _filter_needs_namespaces(self) -> Self:
        if self.namespace_filtering_mode != "Off" and not self.namespaces:
            raise rule_error(
                "namespaces",
                [],
                f"must list namespaces when namespaceFilteringMode is "
                f"{self.namespace_filtering_mode}",
            )
        return self


class GrafanaConfig(ConfigModel):
    """Azure Managed Grafana (Standard SKU)."""

    public_network_access_enabled: bool = True
    """Reach Grafana from the internet (Entra sign-in still required)."""
    private_endpoint_enabled: bool = False
    """A private endpoint in the privateEndpoints subnet (Standard SKU supports it)."""
    zone_redundancy_enabled: bool = False
    """Spread Grafana over availability zones (set at creation only)."""
    major_version: str | None = None
    """Grafana major version to run (e.g. ``"11"``); None lets Azure choose its default."""

    @field_validator("major_version")
    @classmethod
    def _major(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise rule_error("", value, "must be a major version number such as 11")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.public_network_access_enabled and not self.private_endpoint_enabled:
            raise rule_error(
                "publicNetworkAccessEnabled",
                False,
                "needs privateEndpointEnabled: without either nobody can reach Grafana",
            )
        return self


class ActionGroupConfig(ConfigModel):
    """Who is notified when an alert fires (keys are stable receiver names)."""

    short_name: str | None = None
    """Shown in notifications (<= 12 characters); defaults to the workload name."""
    emails: dict[str, str] = Field(default_factory=dict)
    """Receiver name -> email address."""
    webhooks: dict[str, str] = Field(default_factory=dict)
    """Receiver name -> https URL (common alert schema)."""

    @field_validator("short_name")
    @classmethod
    def _short(cls, value: str | None) -> str | None:
        if value is not None and not 1 <= len(value) <= ACTION_GROUP_SHORT_NAME_MAX:
            raise rule_error("", value, f"must be 1-{ACTION_GROUP_SHORT_NAME_MAX} characters")
        return value

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: dict[str, str]) -> dict[str, str]:
        for name, address in value.items():
            _check_receiver_name(name)
            if not _EMAIL.match(address):
                raise rule_error(name, address, "must be an email address")
        return value

    @field_validator("webhooks")
    @classmethod
    def _webhooks(cls, value: dict[str, str]) -> dict[str, str]:
        for name, url in value.items():
            _check_receiver_name(name)
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise rule_error(name, url, "must be an https URL")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        both = sorted(set(self.emails) & set(self.webhooks))
        if both:
            raise rule_error("webhooks", both, "reuse receiver names of emails")
        return self


def _check_receiver_name(name: str) -> None:
    if not _RECEIVER_NAME.match(name):
        raise rule_error(name, name, "must be a lowercase receiver name (letters, digits, '-')")


class DiagnosticsConfig(ConfigModel):
    """Resource logs sent to Log Analytics."""

    aks_categories: list[AksLogCategory] = Field(
        default_factory=lambda: list(DEFAULT_AKS_LOG_CATEGORIES), min_length=1
    )
    """AKS control-plane categories (kube-audit-admin is the audit log without reads)."""


class MonitoringConfig(ConfigModel):
    """Everything observability needs from a stack file (``monitoring``)."""

    log_analytics: LogAnalyticsConfig = Field(default_factory=LogAnalyticsConfig)
    container_insights: ContainerInsightsConfig = Field(default_factory=ContainerInsightsConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)
    action_group: ActionGroupConfig = Field(default_factory=ActionGroupConfig)
    diagnostics: DiagnosticsConfig = Field(default_factory=DiagnosticsConfig)
