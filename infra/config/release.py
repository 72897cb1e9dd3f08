"""What a stack runs (``aks-mlops:release``): workload image digests and model versions.

The single place that pins what a stack deploys. The program deploys exactly what this block
says: nothing floats on ``latest`` or on a registry alias (``champion``) that could move under a
running stack. ``make promote`` (the promotion tool) rewrites this block when it carries a model
from one stack to the next; an edit by hand is refused by the next promotion.

Workload images are the images CI builds from ``workloads/`` and pushes to **each stack's own
registry**, so a stack file names them by repository and digest (or version tag) relative to
that registry; the program puts the stack registry's login server in front. A reference with a
registry host is rejected: a stack's workloads are pulled from its own registry only.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import Field, field_validator, model_validator

from infra.config.base import ConfigModel
from infra.config.errors import rule_error

# repository[/path]:<version> or repository[/path]@sha256:<digest>, no registry host: Docker
# reads a first path segment with a dot or a port as a host, so the first segment has neither.
_WORKLOAD_IMAGE = re.compile(
    r"^[a-z0-9]+([_-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
    r"(:v?[0-9]+(\.[0-9]+)+([-+._][A-Za-z0-9._\-]+)?|@sha256:[a-f0-9]{64})$"
)
# MLflow registered model names: the promotion tool and Kubernetes object names derive from
# them, so keep them to what a DNS-1123 label can hold after lower-casing.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$")


def check_workload_image(value: str) -> str:
    """``repository@sha256:<digest>`` or ``repository:<version>``, relative to the registry."""
    if not _WORKLOAD_IMAGE.match(value):
        raise rule_error(
            "",
            value,
            "must be <repository>@sha256:<digest> or <repository>:<version> relative to the "
            "stack's registry (no registry host; moving tags such as latest are not pinned)",
        )
    return value


class ReleaseImages(ConfigModel):
    """Workload images built by CI from ``workloads/`` (relative to the stack's registry)."""

    workloads: str | None = None
    """The reference workloads' image (ingest, retrain, monitor, serve entry points), e.g.
    ``aks-mlops/workloads@sha256:<digest>``. Required by whatever runs a workload."""

    @field_validator("workloads")
    @classmethod
    def _pinned(cls, value: str | None) -> str | None:
        return None if value is None else check_workload_image(value)


class ReleaseModel(ConfigModel):
    """One registered model version the stack serves."""

    name: str
    """Registered model name in the stack's MLflow registry."""
    version: int = Field(strict=True)
    """Registered model version: a positive integer, never an alias."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _MODEL_NAME.match(value):
            raise rule_error(
                "",
                value,
                "must be 1-63 letters, digits, '-' or '_', starting and ending with a letter "
                "or digit",
            )
        return value

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise rule_error(
                "", value, "must be a positive integer (a registered model version, not an alias)"
            )
        return value


class ReleaseConfig(ConfigModel):
    """Image digests and model versions a stack runs."""

    images: ReleaseImages = Field(default_factory=ReleaseImages)
    models: list[ReleaseModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_models(self) -> Self:
        for index, model in enumerate(self.models):
            if any(other.name == model.name for other in self.models[:index]):
                raise rule_error(f"models[{index}].name", model.name, "is listed twice")
        return self
