"""Kubernetes objects of the pgvector engine (used by :mod:`components.vectordb.store`).

The collection's schema (:func:`components.vectordb.schema.schema_sql`) lives in a ConfigMap and
a Job applies it to the ``vectors`` database with ``psql``, signing in as the vector store's own
database role with the password the Secrets Store CSI driver mounts from Key Vault. Both are
named after a hash of the SQL and the image (:func:`components.kit.jobs.content_name`): a
changed schema is a new Job (a new run), and an unchanged one is left alone. The Job starts
only after what it names in ``wait_for`` exists (the database, the role bootstrap).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kit import jobs
from components.kit import kubernetes as kube

SCHEMA_JOB_IMAGE = jobs.PSQL_IMAGE
APP = "vector-schema"
SECRET_PROVIDER_CLASS = "vector-schema-postgres"
SCHEMA_DIR = "/schema"
SCHEMA_FILE = "schema.sql"
PASSWORD_ALIAS = "postgres-password"
POSTGRES_PORT = 5432
DATABASE = "vectors"
JOB_BACKOFF_LIMIT = 4
JOB_DEADLINE_SECONDS = 600

SCHEMA_WRAPPER = """set -eu
PGPASSWORD="$(cat "$DB_PASSWORD_FILE")"
export PGPASSWORD
exec psql --no-psqlrc --set ON_ERROR_STOP=1 --single-transaction --file "$SCHEMA_FILE"
"""
"""Reads the mounted password and applies the schema in one transaction."""


def run_name(sql: str, image: str) -> str:
    """``vector-schema-<hash>``: changes exactly when the SQL or the image does."""
    return jobs.content_name(APP, image, sql)


def job_env(host: str, login: str) -> dict[str, str]:
    """libpq settings of the schema job (TLS required, as the flexible server enforces)."""
    return {
        "PGHOST": host,
        "PGPORT": str(POSTGRES_PORT),
        "PGDATABASE": DATABASE,
        "PGUSER": login,
        "PGSSLMODE": "require",
        "PGAPPNAME": APP,
        "PGCONNECT_TIMEOUT": "15",
        "DB_PASSWORD_FILE": f"{kube.SECRETS_MOUNT_PATH}/{PASSWORD_ALIAS}",
        "SCHEMA_FILE": f"{SCHEMA_DIR}/{SCHEMA_FILE}",
        "HOME": "/tmp",
    }


def create_schema(
    name: str,
    *,
    namespace: str,
    sql: str,
    image: str,
    host: pulumi.Input[str],
    login: pulumi.Input[str],
    node_placement: kube.Placement,
    wait_for: tuple[pulumi.Input[Any], ...],
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    """The schema ConfigMap and the Job that applies it.

    The Job waits for the ConfigMap and for every output in ``wait_for``.
    """
    job_name = run_name(sql, image)
    config_map = k8s.core.v1.ConfigMap(
        f"{name}-schema",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=job_name, namespace=namespace, labels=kube.part_of_labels()
        ),
        data={SCHEMA_FILE: sql},
        opts=opts,
    )
    labels = kube.app_labels(APP, "schema")
    env = pulumi.Output.all(host, login).apply(lambda values: kube.env_vars(job_env(*values)))
    container = k8s.core.v1.ContainerArgs(
        name="psql",
        image=image,
        image_pull_policy=kube.IMAGE_PULL_POLICY,
        command=["/bin/sh", "-c", SCHEMA_WRAPPER],
        env=env,
        resources=kube.resources(
            cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi"
        ),
        security_context=kube.container_security_context(),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name="schema", mount_path=SCHEMA_DIR, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            kube.secrets_mount(),
        ],
    )
    pod = k8s.core.v1.PodSpecArgs(
        restart_policy="Never",
        service_account_name=APP,
        automount_service_account_token=False,
        # psql needs no account in the image: PGUSER names the login, HOME is /tmp.
        security_context=kube.pod_security_context(),
        node_selector=node_placement.node_selector(),
        tolerations=node_placement.tolerations(),
        containers=[container],
        volumes=[
            k8s.core.v1.VolumeArgs(
                name="schema", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=job_name)
            ),
            kube.scratch_volume("tmp", "64Mi"),
            kube.secrets_volume(SECRET_PROVIDER_CLASS),
        ],
    )
    return jobs.create_job(
        f"{name}-schema-job",
        namespace=namespace,
        job_name=job_name,
        labels=labels,
        pod=pod,
        backoff_limit=JOB_BACKOFF_LIMIT,
        deadline_seconds=JOB_DEADLINE_SECONDS,
        wait_for=wait_for,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[config_map])),
    )


def endpoint(host: pulumi.Input[str]) -> pulumi.Output[str]:
    """``postgresql://<fqdn>:5432/vectors`` (no credentials: clients read them from Key Vault)."""
    return pulumi.Output.concat("postgresql://", host, f":{POSTGRES_PORT}/{DATABASE}")
