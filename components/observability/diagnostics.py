"""DiagnosticSettings: resource logs of the platform's Azure resources into Log Analytics.

One ``monitor.DiagnosticSetting`` per target (a map of stable keys, so adding a target never
replaces another). Category names per resource type:
https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/logs-index
Storage logs attach to the ``blobServices/default`` sub-resource, not to the account
(the account itself only emits metrics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

SETTING_NAME = "to-log-analytics"
# Resource-specific tables (AKSControlPlane, AZKVAuditLogs...) instead of AzureDiagnostics,
# where the resource type has them.
DEDICATED = "Dedicated"


@dataclass(frozen=True, kw_only=True)
class DiagnosticTarget:
    """One resource whose logs are collected."""

    resource_id: pulumi.Input[str]
    """The resource (or sub-resource, e.g. ``.../blobServices/default``)."""
    categories: Sequence[str]
    """Log categories to enable."""
    resource_specific_tables: bool = False
    """Write to resource-specific tables (only where the type supports them)."""


@dataclass(frozen=True, kw_only=True)
class DiagnosticSettingsArgs:
    """Inputs of :class:`DiagnosticSettings`."""

    workspace_resource_id: pulumi.Input[str]
    """Log Analytics workspace receiving the logs."""
    targets: Mapping[str, DiagnosticTarget]
    """Targets by stable logical key (``aks``, ``keyvault``, ...)."""


class DiagnosticSettings(pulumi.ComponentResource):
    """Diagnostic settings for every target."""

    setting_ids: dict[str, pulumi.Output[str]]
    """Resource id of each setting, by target key."""

    def __init__(
        self, name: str, args: DiagnosticSettingsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:DiagnosticSettings", name, None, opts)
        self.setting_ids = {}
        for key, target in sorted(args.targets.items()):
            if not target.categories:
                raise ValueError(f"diagnostic target {key!r} enables no category")
            setting = monitor.DiagnosticSetting(
                f"{name}-{key}",
                name=SETTING_NAME,
                resource_uri=target.resource_id,
                workspace_id=args.workspace_resource_id,
                log_analytics_destination_type=DEDICATED
                if target.resource_specific_tables
                else None,
                logs=[
                    monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                    for category in target.categories
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.setting_ids[key] = setting.id
        self.register_outputs({"setting_ids": self.setting_ids})
