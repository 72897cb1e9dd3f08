"""Run-once Kubernetes Jobs (database roles, schema, MLflow migration): one shape for all.

- :func:`content_name`: a Job name that changes exactly when what the Job does changes. Job
  templates are immutable, so new content must be a new Job (a new run); unchanged content
  leaves the finished Job alone.
- :func:`after`: a value that becomes available only once other resources' outputs are, so
  Pulumi records those resources as dependencies of whatever consumes the value. It lets a
  component wait for Azure resources it is handed only by id (``*_resource_id``), e.g. a
  database, without holding the resource object.
- :func:`create_job`: the Job itself. pulumi-kubernetes awaits a Job until it completes (or
  fails), so anything depending on it starts only after the run succeeded. Its metadata comes
  from :func:`components.kit.kubernetes.workload_metadata`, so every Job carries the checkov
  digest waiver while one of its images is pinned by tag only (checkov does not ask Jobs for
  probes: a run-to-completion Job has nothing to probe).

Failed runs: a Job that failed keeps its name, and by default the next ``pulumi up`` would
wait on the same failed Job again. The ``pulumi.com/replaceUnready: "true"`` annotation (see
the pulumi-kubernetes ``batch/v1.Job`` reference) makes Pulumi replace a Job that is not ready
instead, i.e. run it again after the cause was fixed; every Job here is idempotent, so a rerun
is safe. No ``ttlSecondsAfterFinished``: Kubernetes would delete the finished Job behind
Pulumi's back, so a later ``pulumi refresh`` would drop it from state and the next ``up`` would
run it again for nothing; a finished Job also keeps the run's logs. Old Jobs do not pile up:
new content means a new name, and Pulumi deletes the Job it replaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import USE_LABEL
from components.kit import kubernetes as kube

REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready"
NAME_HASH_LENGTH = 8
# psql must be at least the server's major version (the config allows 16 and 17).
PSQL_IMAGE = "docker.io/library/postgres:17.10-alpine"
PSQL_USER = kube.UNPRIVILEGED_ID
"""psql needs no account in the image (PGUSER names the login, HOME is a scratch volume), so
it runs as the platform's high, non-host id rather than the image's ``postgres`` user (70)."""

T = TypeVar("T")


def content_name(prefix: str, *parts: str) -> str:
    """``<prefix>-<hash>``: changes exactly when one of ``parts`` does."""
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:NAME_HASH_LENGTH]
    return f"{prefix}-{digest}"


def after(value: T, *dependencies: pulumi.Input[Any]) -> pulumi.Output[T]:
    """``value`` once every one of ``dependencies`` is known.

    The result carries the resources behind ``dependencies``, so a resource that takes it as
    an input depends on them (and waits for them) exactly as if it used their outputs.
    """
    return pulumi.Output.all(*dependencies).apply(lambda _: value)


def _images(pod: k8s.core.v1.PodSpecArgs) -> list[str]:
    """Images of the pod's containers; one given as an Output counts as pinned by tag only."""
    images: list[str] = []
    for group in (pod.containers, pod.init_containers):
        if isinstance(group, Sequence):
            for container in group:
                image = (
                    container.image if isinstance(container, k8s.core.v1.ContainerArgs) else None
                )
                images.append(image if isinstance(image, str) else "")
    return images


def create_job(
    name: str,
    *,
    namespace: str,
    job_name: str,
    labels: Mapping[str, str],
    pod: k8s.core.v1.PodSpecArgs,
    backoff_limit: int,
    deadline_seconds: int,
    wait_for: tuple[pulumi.Input[Any], ...] = (),
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """A run-once Job named ``job_name`` that starts only after ``wait_for`` are known.

    ``labels`` select the Job's pods; the pod template also gets the workload identity label.
    """
    return k8s.batch.v1.Job(
        name,
        metadata=kube.workload_metadata(
            name=after(job_name, *wait_for) if wait_for else job_name,
            namespace=namespace,
            labels=labels,
            images=_images(pod),
            annotations={REPLACE_UNREADY_ANNOTATION: "true"},
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=backoff_limit,
            active_deadline_seconds=deadline_seconds,
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={**labels, USE_LABEL: "true"}),
                spec=pod,
            ),
        ),
        # The name is fixed, so a replacement (replaceUnready) must delete the old Job first.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)),
    )
