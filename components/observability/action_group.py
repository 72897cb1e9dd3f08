"""AlertActionGroup: who is told when a Prometheus alert fires.

Creates one ``monitor.ActionGroup`` (location ``global``) with an email receiver and a webhook
receiver per configured entry, all using the common alert schema, so every receiver gets the
same payload whatever fired. https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import monitor

# Action groups are global resources.
ACTION_GROUP_LOCATION = "global"
SHORT_NAME_MAX = 12


@dataclass(frozen=True, kw_only=True)
class AlertActionGroupArgs:
    """Inputs of :class:`AlertActionGroup`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the action group."""
    action_group_name: str
    """Name of the action group."""
    short_name: str
    """Shown in notifications (<= 12 characters)."""
    emails: Mapping[str, str] = field(default_factory=dict)
    """Receiver name -> email address."""
    webhooks: Mapping[str, str] = field(default_factory=dict)
    """Receiver name -> https URL."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the action group."""


class AlertActionGroup(pulumi.ComponentResource):
    """The action group every alert of the stack routes to."""

    resource_id: pulumi.Output[str]
    """Resource id of the action group."""

    def __init__(
        self, name: str, args: AlertActionGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:AlertActionGroup", name, None, opts)
        if not 1 <= len(args.short_name) <= SHORT_NAME_MAX:
            raise ValueError(f"short name ({args.short_name!r}) must be 1-12 characters")
        group = monitor.ActionGroup(
            f"{name}-group",
            action_group_name=args.action_group_name,
            resource_group_name=args.resource_group_name,
            location=ACTION_GROUP_LOCATION,
            group_short_name=args.short_name,
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name=key, email_address=address, use_common_alert_schema=True
                )
                for key, address in sorted(args.emails.items())
            ],
            webhook_receivers=[
                monitor.WebhookReceiverArgs(name=key, service_uri=url, use_common_alert_schema=True)
                for key, url in sorted(args.webhooks.items())
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.resource_id = group.id
        self.register_outputs({"resource_id": self.resource_id})
