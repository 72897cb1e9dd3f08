"""The stack's cost budget (``aks-mlops:cost``).

``make plan`` estimates the stack's monthly cost (offline/cost.py) and warns when the cost
at idle (every pool at its minimum) exceeds ``monthlyBudgetUsd``. The budget is not sent to
Azure: it is a review aid, not an Azure Cost Management budget.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error


class CostConfig(ConfigModel):
    """Budget of the stack's estimated monthly cost."""

    monthly_budget_usd: float | None = Field(default=None, strict=True)
    """Monthly budget in US dollars for the idle cost; unset = no budget check."""

    @field_validator("monthly_budget_usd", mode="before")
    @classmethod
    def _positive_amount(cls, value: object) -> object:
        # Strict: "1500" or true is a typo in the stack file, not an amount.
        if value is None:
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise rule_error("", value, "must be a positive amount in US dollars, e.g. 1500")
        return float(value)
