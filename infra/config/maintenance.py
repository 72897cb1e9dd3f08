"""Planned maintenance windows for the cluster's two automatic upgrade channels.

``cluster.maintenance.autoUpgrade`` schedules the auto-upgrade channel (AKS configuration
``aksManagedAutoUpgradeSchedule``), ``cluster.maintenance.nodeOs`` the node OS channel
(``aksManagedNodeOSUpgradeSchedule``), so upgrades and node reimages, which drain GPU nodes,
happen when nobody trains. https://learn.microsoft.com/azure/aks/planned-maintenance

Rules: a window lasts 4 to 24 hours (AKS: "use a maintenance window with a duration of four
hours or more"; the API caps it at 24); ``startTime`` is ``HH:mm``; ``utcOffset`` is
``+HH:mm`` / ``-HH:mm``; a ``Weekly`` schedule names ``dayOfWeek`` (and no ``dayOfMonth``), an
``AbsoluteMonthly`` one names ``dayOfMonth`` (and no ``dayOfWeek``); blocked date ranges do not
end before they start.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

MIN_WINDOW_HOURS = 4
MAX_WINDOW_HOURS = 24
_START_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_UTC_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")
WeekDay = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class DateSpanConfig(ConfigModel):
    """Dates (inclusive) on which no maintenance may start, e.g. a year-end freeze."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise rule_error("end", str(self.end), f"must not be before start ({self.start})")
        return self


class MaintenanceWindowConfig(ConfigModel):
    """One recurring window."""

    schedule: Literal["Weekly", "AbsoluteMonthly"] = "Weekly"
    interval: int = Field(default=1, ge=1)
    """Weeks (Weekly) or months (AbsoluteMonthly) between windows."""
    day_of_week: WeekDay | None = None
    day_of_month: int | None = Field(default=None, ge=1, le=31)
    start_time: str
    """``HH:mm`` in ``utcOffset``."""
    duration_hours: int = MIN_WINDOW_HOURS
    utc_offset: str = "+00:00"
    not_allowed_dates: list[DateSpanConfig] = Field(default_factory=list)

    @field_validator("start_time")
    @classmethod
    def _start_time(cls, value: str) -> str:
        if not _START_TIME.match(value):
            raise rule_error("", value, "must be a time of day as HH:mm (00:00-23:59)")
        return value

    @field_validator("utc_offset")
    @classmethod
    def _utc_offset(cls, value: str) -> str:
        if not _UTC_OFFSET.match(value):
            raise rule_error("", value, "must be +HH:mm or -HH:mm, e.g. +01:00")
        return value

    @field_validator("duration_hours")
    @classmethod
    def _duration(cls, value: int) -> int:
        if not MIN_WINDOW_HOURS <= value <= MAX_WINDOW_HOURS:
            raise rule_error(
                "",
                value,
                f"must be {MIN_WINDOW_HOURS}-{MAX_WINDOW_HOURS} hours (AKS needs at least "
                f"{MIN_WINDOW_HOURS} hours for an upgrade to complete)",
            )
        return value

    @model_validator(mode="after")
    def _schedule_fields(self) -> Self:
        if self.schedule == "Weekly":
            if self.day_of_week is None:
                raise rule_error("dayOfWeek", None, "is required for a Weekly schedule")
            if self.day_of_month is not None:
                raise rule_error(
                    "dayOfMonth", self.day_of_month, "is only for an AbsoluteMonthly schedule"
                )
        else:
            if self.day_of_month is None:
                raise rule_error("dayOfMonth", None, "is required for an AbsoluteMonthly schedule")
            if self.day_of_week is not None:
                raise rule_error("dayOfWeek", self.day_of_week, "is only for a Weekly schedule")
        return self


class MaintenanceConfig(ConfigModel):
    """Windows for the two automatic upgrade channels; None leaves AKS's timing."""

    auto_upgrade: MaintenanceWindowConfig | None = None
    """When the cluster auto-upgrade channel (``cluster.upgradeChannel``) may run."""
    node_os: MaintenanceWindowConfig | None = None
    """When the node OS channel (``cluster.nodeOsUpgradeChannel``) may reimage or patch nodes."""
