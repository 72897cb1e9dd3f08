"""Pod templates of the workflows (pure builders): one image, one entry point per workload.

Every pod runs ``python -m workloads.<name>`` from the CI-built workloads image, as the
platform's unprivileged user with a read-only root filesystem (a bounded ``/tmp`` is the one
writable path), on the pool its :class:`~components.kit.kubernetes.Placement` names, with
requests and limits, the workload identity label and its own service account. Configuration
is only the environment variables of :mod:`contract.workloads`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import USE_LABEL
from components.kit import kubernetes as kube
from contract import workloads as env

TMP_DIR = "/tmp"
TMP_SIZE = "2Gi"
METRICS_PORT_NAME = "metrics"


@dataclass(frozen=True, kw_only=True)
class ContainerResources:
    """Requests and limits of one container."""

    cpu_request: str
    """CPU request."""
    cpu_limit: str
    """CPU limit."""
    memory_request: str
    """Memory request."""
    memory_limit: str
    """Memory limit."""
    gpus: int = 0
    """``nvidia.com/gpu`` limit (0: none)."""

    def requirements(self) -> k8s.core.v1.ResourceRequirementsArgs:
        """Kubernetes requests and limits (GPUs as a limit: Kubernetes copies it)."""
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request},
            limits={
                "cpu": self.cpu_limit,
                "memory": self.memory_limit,
                **kube.gpu_limits(self.gpus),
            },
        )


@dataclass(frozen=True, kw_only=True)
class WorkloadPod:
    """What differs between the workloads' pods."""

    workload: str
    """Entry point: ``python -m workloads.<workload>`` (``ingest``, ``retrain``, ``monitor``)."""
    service_account: str
    """The workload's own service account (bound to its identity)."""
    env: Mapping[str, pulumi.Input[str]]
    """Environment (names from :mod:`contract.workloads`)."""
    placement: kube.Placement
    """Node pool."""
    resources: ContainerResources
    """Requests and limits."""
    secret_provider_class: str | None = None
    """Key Vault secrets mounted as files (read through ``*_FILE`` variables), if any."""
    metrics_port: int | None = None
    """Named container port of the ``/metrics`` endpoint (long-running services)."""
    restart_policy: str = "Never"
    """``Never`` for Jobs (a failed run is retried by a new pod), ``Always`` for services."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Pod labels besides the workload identity label."""
    run_entrypoint: bool = True
    """Set the container command; false for Ray pods, whose command KubeRay writes
    (``ray start``)."""


def command(workload: str) -> list[str]:
    """The container command of one workload."""
    return ["python", "-m", f"workloads.{workload}"]


def container(spec: WorkloadPod, image: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
    """The workload's container."""
    mounts = [k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=TMP_DIR)]
    if spec.secret_provider_class:
        mounts.append(kube.secrets_mount())
    probe = (
        kube.http_probe("/metrics", METRICS_PORT_NAME, period=30)
        if spec.metrics_port is not None
        else None
    )
    return k8s.core.v1.ContainerArgs(
        name=spec.workload,
        image=image,
        image_pull_policy=kube.IMAGE_PULL_POLICY,
        command=command(spec.workload) if spec.run_entrypoint else None,
        env=[
            k8s.core.v1.EnvVarArgs(name=k, value=v)
            for k, v in {**spec.env, "HOME": TMP_DIR}.items()
        ],
        ports=[
            k8s.core.v1.ContainerPortArgs(name=METRICS_PORT_NAME, container_port=spec.metrics_port)
        ]
        if spec.metrics_port is not None
        else None,
        readiness_probe=probe,
        liveness_probe=probe,
        resources=spec.resources.requirements(),
        security_context=kube.container_security_context(),
        volume_mounts=mounts,
    )


def pod_template(spec: WorkloadPod, image: pulumi.Input[str]) -> k8s.core.v1.PodTemplateSpecArgs:
    """The pod template (Job, CronJob, ScaledJob or Deployment)."""
    volumes = [kube.scratch_volume("tmp", TMP_SIZE)]
    if spec.secret_provider_class:
        volumes.append(kube.secrets_volume(spec.secret_provider_class))
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels={**spec.labels, USE_LABEL: "true"}),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=spec.service_account,
            automount_service_account_token=False,
            restart_policy=spec.restart_policy,
            security_context=kube.pod_security_context(fs_group=kube.UNPRIVILEGED_ID),
            node_selector=spec.placement.node_selector(),
            tolerations=spec.placement.tolerations(),
            containers=[container(spec, image)],
            volumes=volumes,
        ),
    )


def storage_url(account: pulumi.Input[str]) -> pulumi.Output[str]:
    """The data lake's blob endpoint (what ``DefaultAzureCredential`` clients connect to)."""
    return pulumi.Output.concat("https://", account, ".blob.core.windows.net")


def common_env(
    *, account: pulumi.Input[str], image_digest: str | None
) -> dict[str, pulumi.Input[str]]:
    """Variables every workload gets."""
    out: dict[str, pulumi.Input[str]] = {
        env.STORAGE_ACCOUNT_URL: storage_url(account),
        env.METRICS_PORT: str(env.DEFAULT_METRICS_PORT),
    }
    if image_digest:
        out[env.IMAGE_DIGEST] = image_digest
    return out
