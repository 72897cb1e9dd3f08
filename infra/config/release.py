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


# Kubernetes quantities the serving settings accept: millicores or cores; Mi/Gi of memory.
_CPU = re.compile(r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$")
_MEMORY = re.compile(r"^[1-9][0-9]*(Mi|Gi)$")


class ServingConfig(ConfigModel):
    """How one released model is served (components/serving): replicas, scaling, resources.

    Not part of what the promotion tool carries between stacks: each stack sizes its own
    serving; ``make promote`` rewrites ``name`` and ``version`` only.
    """

    min_replicas: int = Field(default=1, ge=1, le=100)
    """Fewest replicas KEDA keeps. At least 1: the request-rate trigger reads series the
    serving pods export, so at zero replicas nothing would ever scale it up again."""
    max_replicas: int = Field(default=3, ge=1, le=100)
    """Most replicas KEDA scales to."""
    target_requests_per_second: float = Field(default=20.0, gt=0, le=10000)
    """Requests per second one replica should answer (the KEDA Prometheus trigger's
    ``threshold``: replicas = ceil(total rate / target))."""
    cpu_request: str = "250m"
    cpu_limit: str = "1"
    memory_request: str = "512Mi"
    memory_limit: str = "1Gi"
    gpu_pool: str | None = None
    """Name of a ``gpuPools`` entry to serve on (tolerates its taints, requests ``gpus``);
    None serves on the CPU user pool."""
    gpus: int = Field(default=1, ge=1, le=8)
    """GPUs per replica when ``gpuPool`` is set."""
    ingress_enabled: bool = False
    """An internal ingress (AKS application routing, internal NGINX load balancer); never a
    public one. Off: the model is reached in the cluster through its Service."""

    @field_validator("cpu_request", "cpu_limit")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.match(value):
            raise rule_error("", value, "must be a CPU quantity such as 250m or 1")
        return value

    @field_validator("memory_request", "memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise rule_error("", value, "must be a memory quantity in Mi or Gi, e.g. 512Mi")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if self.min_replicas > self.max_replicas:
            raise rule_error(
                "minReplicas",
                self.min_replicas,
                f"must be <= maxReplicas ({self.max_replicas})",
            )
        return self


class ReleaseModel(ConfigModel):
    """One registered model version the stack serves."""

    name: str
    """Registered model name in the stack's MLflow registry."""
    version: int = Field(strict=True)
    """Registered model version: a positive integer, never an alias."""
    serving: ServingConfig = Field(default_factory=ServingConfig)
    """How this stack serves it (kept as is by the promotion tool)."""

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
        if self.models and self.images.workloads is None:
            raise rule_error(
                "images.workloads",
                None,
                "is required when models lists a model to serve (the model server runs from "
                "the workloads image)",
            )
        return self
