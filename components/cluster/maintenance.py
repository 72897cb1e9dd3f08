"""Planned maintenance windows of a managed cluster (children of :class:`AksCluster`).

One ``MaintenanceConfiguration`` per configured channel: ``aksManagedAutoUpgradeSchedule``
(cluster auto-upgrade channel) and ``aksManagedNodeOSUpgradeSchedule`` (node OS channel).
AKS may still break a window for urgent fixes; otherwise upgrades and reimages start only
inside it. https://learn.microsoft.com/azure/aks/planned-maintenance
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerservice as cs

AUTO_UPGRADE_SCHEDULE = "aksManagedAutoUpgradeSchedule"
NODE_OS_UPGRADE_SCHEDULE = "aksManagedNodeOSUpgradeSchedule"
# Stable logical-name roles per configuration name.
_ROLES = {AUTO_UPGRADE_SCHEDULE: "auto-upgrade", NODE_OS_UPGRADE_SCHEDULE: "node-os"}


@dataclass(frozen=True, kw_only=True)
class MaintenanceWindowSpec:
    """One recurring window (``Weekly`` on a day, or ``AbsoluteMonthly`` on a date)."""

    schedule: str
    """``Weekly`` or ``AbsoluteMonthly``."""
    interval: int
    """Weeks or months between windows."""
    start_time: str
    """``HH:mm`` in ``utc_offset``."""
    duration_hours: int
    """Length of the window (4-24)."""
    utc_offset: str = "+00:00"
    """``+HH:mm`` / ``-HH:mm``."""
    day_of_week: str | None = None
    """Weekly: e.g. ``Sunday``."""
    day_of_month: int | None = None
    """AbsoluteMonthly: 1-31."""
    not_allowed_dates: Sequence[tuple[str, str]] = ()
    """(start, end) ISO dates on which no maintenance may start."""


def _schedule(spec: MaintenanceWindowSpec) -> cs.ScheduleArgs:
    if spec.schedule == "Weekly":
        return cs.ScheduleArgs(
            weekly=cs.WeeklyScheduleArgs(
                day_of_week=spec.day_of_week or "", interval_weeks=spec.interval
            )
        )
    return cs.ScheduleArgs(
        absolute_monthly=cs.AbsoluteMonthlyScheduleArgs(
            day_of_month=spec.day_of_month or 1, interval_months=spec.interval
        )
    )


def create_maintenance_configurations(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    windows: Mapping[str, MaintenanceWindowSpec],
    parent: pulumi.Resource,
) -> dict[str, cs.MaintenanceConfiguration]:
    """A maintenance configuration per entry of ``windows`` (keyed by configuration name)."""
    created: dict[str, cs.MaintenanceConfiguration] = {}
    for config_name, spec in sorted(windows.items()):
        created[config_name] = cs.MaintenanceConfiguration(
            f"{name}-maintenance-{_ROLES.get(config_name, config_name)}",
            resource_group_name=resource_group_name,
            resource_name_=cluster_name,
            config_name=config_name,
            maintenance_window=cs.MaintenanceWindowArgs(
                schedule=_schedule(spec),
                duration_hours=spec.duration_hours,
                start_time=spec.start_time,
                utc_offset=spec.utc_offset,
                not_allowed_dates=[
                    cs.DateSpanArgs(start=start, end=end) for start, end in spec.not_allowed_dates
                ]
                or None,
            ),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return created
