"""KubeRay: the operator (pinned Helm chart) and a RayJob running the retrain on Ray.

Creates the operator's namespace, a Helm release of ``kuberay-operator`` (chart and image pinned,
non-root, restricted security context), and, in the workflows namespace, a RayJob
(``ray.io/v1``) whose head runs ``python -m workloads.retrain`` with ``RAY_ADDRESS=auto`` (the
retrain's Ray Tune search over the same training function, see :mod:`contract.workloads`) and
whose workers land on the configured pool (GPU: ``nvidia.com/gpu`` limit, GPU and spot
tolerations, pool selector). The RayJob reuses the retrain's service account and identity.

A RayJob runs once: the object is named after its content, so a new image or setting is a new
run, and an unchanged one is left alone. KubeRay deletes the Ray cluster when the job finishes
(``shutdownAfterJobFinishes``) and the RayJob after ``ttlSecondsAfterFinished``.

The operator image comes from ``quay.io`` (KubeRay's registry): a stack whose allowed-images
policy denies other hosts must add ``quay.io`` to ``security.allowedImageUpstreams`` or mirror
the image. Chart: https://ray-project.github.io/kuberay-helm/ (KubeRay v1.4.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.kit import jobs
from components.kit import kubernetes as kube
from components.workflows.pods import ContainerResources, WorkloadPod, pod_template
from contract import workloads as env

KUBERAY_CHART = "kuberay-operator"
KUBERAY_REPO = "https://ray-project.github.io/kuberay-helm/"
KUBERAY_VERSION = "1.4.2"
KUBERAY_IMAGE_REPOSITORY = "quay.io/kuberay/operator"
RAYJOB_API = "ray.io/v1"
RAY_ADDRESS_IN_CLUSTER = "auto"
"""Ray's own value for "the cluster this driver runs in" (the head node)."""


@dataclass(frozen=True, kw_only=True)
class KubeRayArgs:
    """Inputs of :class:`KubeRay`."""

    operator_namespace: str
    """Namespace of the operator."""
    operator_placement: kube.Placement
    """Pool of the operator (the CPU pool)."""
    job_namespace: str
    """Namespace of the RayJob (the workflows namespace)."""
    service_account: str
    """Service account of the Ray pods (the retrain's)."""
    image: pulumi.Input[str]
    """The workloads image (Ray is installed in it)."""
    env: Mapping[str, pulumi.Input[str]]
    """The retrain's environment."""
    head_placement: kube.Placement
    """Pool of the head (the CPU pool)."""
    head_resources: ContainerResources
    """Head requests and limits."""
    worker_placement: kube.Placement
    """Pool of the workers."""
    worker_resources: ContainerResources
    """Worker requests and limits (``gpus`` on a GPU pool)."""
    workers: int
    """Ray workers."""
    deadline_seconds: int
    """Active deadline of the RayJob."""
    ttl_seconds: int
    """The finished RayJob is deleted after this long."""
    content: str = ""
    """What the run depends on besides the spec's known values (the image reference from
    config): part of the RayJob's name, so a new image is a new run."""
    wait_for: Sequence[pulumi.Resource] = ()
    """What the Ray pods need first (the retrain's identity and service account)."""


class KubeRay(pulumi.ComponentResource):
    """KubeRay operator + the retrain's RayJob."""

    job_name: pulumi.Output[str]
    """Name of the RayJob."""

    def __init__(
        self, name: str, args: KubeRayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workflows:KubeRay", name, None, opts)
        namespace = kube.create_namespace(
            f"{name}-namespace", args.operator_namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        operator = k8s.helm.v3.Release(
            f"{name}-operator",
            name=KUBERAY_CHART,
            chart=KUBERAY_CHART,
            version=KUBERAY_VERSION,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=KUBERAY_REPO),
            namespace=args.operator_namespace,
            values=operator_values(args.operator_placement),
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        spec = rayjob_spec(args)
        job_name = jobs.content_name(
            "retrain-ray", args.content, yaml.safe_dump(_plain(spec), sort_keys=True)
        )
        k8s.apiextensions.CustomResource(
            f"{name}-retrain",
            api_version=RAYJOB_API,
            kind="RayJob",
            metadata={
                "name": job_name,
                "namespace": args.job_namespace,
                "labels": {**kube.part_of_labels(), **kube.app_labels("retrain", "workflows")},
            },
            spec=spec,
            # The CRD comes with the chart.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[operator, *args.wait_for]),
        )
        self.job_name = pulumi.Output.from_input(job_name)
        self.register_outputs({"job_name": self.job_name})


def operator_values(placement: kube.Placement) -> dict[str, object]:
    """Chart values: the pinned image, the pool, a restricted security context."""
    return {
        "image": {"repository": KUBERAY_IMAGE_REPOSITORY, "tag": f"v{KUBERAY_VERSION}"},
        "nodeSelector": placement.node_selector(),
        "podSecurityContext": {
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _plain(value: object) -> object:
    """Outputs replaced by a marker: the content hash covers what is known at plan time."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(type(value).__name__)


def rayjob_spec(args: KubeRayArgs) -> dict[str, object]:
    """The RayJob's spec (KubeRay v1.4 ``ray.io/v1``)."""
    ray_env = {**args.env, env.RAY_ADDRESS: RAY_ADDRESS_IN_CLUSTER}

    def template(
        role: str, placement: kube.Placement, resources: ContainerResources
    ) -> k8s.core.v1.PodTemplateSpecArgs:
        return pod_template(
            WorkloadPod(
                workload="retrain",
                service_account=args.service_account,
                env=ray_env,
                placement=placement,
                resources=resources,
                restart_policy="Always",
                labels=kube.app_labels("retrain", f"ray-{role}"),
                run_entrypoint=False,
            ),
            args.image,
        )

    return {
        "entrypoint": "python -m workloads.retrain",
        "runtimeEnvYAML": yaml.safe_dump(
            {"env_vars": {env.RAY_ADDRESS: RAY_ADDRESS_IN_CLUSTER}}, sort_keys=True
        ),
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": args.ttl_seconds,
        "activeDeadlineSeconds": args.deadline_seconds,
        "backoffLimit": 0,
        # The operator submits over the head's dashboard API: no submitter pod (whose default
        # template would not pass the namespace's restricted Pod Security level).
        "submissionMode": "HTTPMode",
        "rayClusterSpec": {
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0"},
                "template": template("head", args.head_placement, args.head_resources),
            },
            "workerGroupSpecs": [
                {
                    "groupName": "workers",
                    "replicas": args.workers,
                    "minReplicas": args.workers,
                    "maxReplicas": args.workers,
                    "rayStartParams": {},
                    "template": template("worker", args.worker_placement, args.worker_resources),
                }
            ],
        },
    }
