"""MLflow's schema migration as a run-once Job (used by :class:`components.mlflow.tracking.Mlflow`).

Two replicas starting on an empty database would both run MLflow's table creation and race.
Instead one Job runs ``mlflow db upgrade`` (:data:`components.mlflow.server.UPGRADE_WRAPPER`)
with the server's own image, service account, mounted password and environment, and the
Deployment depends on the Job: pulumi-kubernetes awaits the Job until it completes, so the
server pods roll only onto a database at the image's schema version. The Job is named after
the image and the command (:func:`components.kit.jobs.content_name`): a new MLflow version is a
new migration run before the new pods roll; an unchanged one leaves the finished Job alone.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kit import jobs
from components.kit import kubernetes as kube
from components.mlflow.server import APP, TMP_DIR, UPGRADE_WRAPPER, upgrade_command

COMPONENT = "db-upgrade"
JOB_BACKOFF_LIMIT = 3
# A large tracking database can take a while to migrate (MLflow's migration README).
JOB_DEADLINE_SECONDS = 1800
SCRATCH_SIZE = "1Gi"


def job_name(image: str) -> str:
    """``mlflow-db-upgrade-<hash>``: changes exactly when the image or the command does."""
    return jobs.content_name(f"{APP}-{COMPONENT}", image, UPGRADE_WRAPPER)


def create_migration_job(
    name: str,
    *,
    namespace: str,
    image: str,
    env: pulumi.Input[list[k8s.core.v1.EnvVarArgs]],
    service_account: str,
    secret_provider_class: str,
    run_as_user: int,
    node_placement: kube.Placement,
    wait_for: tuple[pulumi.Input[Any], ...],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """The Job running ``mlflow db upgrade`` once, restricted like the server's pods."""
    container = k8s.core.v1.ContainerArgs(
        name=COMPONENT,
        image=image,
        image_pull_policy=kube.IMAGE_PULL_POLICY,
        command=upgrade_command(),
        env=env,
        resources=kube.resources(
            cpu_request="100m", memory_request="256Mi", cpu_limit="1", memory_limit="1Gi"
        ),
        security_context=kube.container_security_context(),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=TMP_DIR),
            kube.secrets_mount(),
        ],
    )
    pod = k8s.core.v1.PodSpecArgs(
        restart_policy="Never",
        service_account_name=service_account,
        automount_service_account_token=False,
        security_context=kube.pod_security_context(
            run_as_user=run_as_user, run_as_group=run_as_user, fs_group=run_as_user
        ),
        node_selector=node_placement.node_selector(),
        tolerations=node_placement.tolerations(),
        containers=[container],
        volumes=[
            kube.scratch_volume("tmp", SCRATCH_SIZE),
            kube.secrets_volume(secret_provider_class),
        ],
    )
    return jobs.create_job(
        name,
        namespace=namespace,
        job_name=job_name(image),
        labels=kube.app_labels(APP, COMPONENT),
        pod=pod,
        backoff_limit=JOB_BACKOFF_LIMIT,
        deadline_seconds=JOB_DEADLINE_SECONDS,
        wait_for=wait_for,
        # pulumi-kubernetes waits 10 minutes for a Job by default; a migration may take longer.
        opts=pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{JOB_DEADLINE_SECONDS // 60 + 5}m",
                    update=f"{JOB_DEADLINE_SECONDS // 60 + 5}m",
                )
            ),
        ),
    )
