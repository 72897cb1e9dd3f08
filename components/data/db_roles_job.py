"""DatabaseRoles: the Job that gives each application its own PostgreSQL role.

Creates, in its own namespace (restricted, no ingress at all): a workload identity with Key
Vault Secrets User on exactly the secrets it reads (the administrator password and each app
role's password), its service account, a SecretProviderClass mounting those secrets as files
(no Kubernetes Secret), the script (:func:`components.data.db_roles.bootstrap_sql`) in a
ConfigMap, and the Job that runs it with ``psql`` as the server administrator.

The Job waits for the databases and the extension allow-list it is handed by id
(``database_resource_ids``, ``extensions_resource_id``); pulumi-kubernetes then awaits it until
it completes, so whatever depends on :attr:`DatabaseRoles.job_id` (the schema job, MLflow's
migration) starts only once the roles exist. The administrator password is mounted here and
nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.data.db_roles import ADMIN_DATABASE, AppRole, bootstrap_sql
from components.identity.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.kit import jobs
from components.kit import kubernetes as kube
from components.kit.shared import ScopedRoleAssignmentSpec

APP = "db-roles"
SECRET_PROVIDER_CLASS = "db-roles-postgres"
ADMIN_PASSWORD_ALIAS = "admin-password"
SCRIPT_DIR = "/sql"
SCRIPT_FILE = "roles.sql"
POSTGRES_PORT = 5432
JOB_BACKOFF_LIMIT = 4
JOB_DEADLINE_SECONDS = 600

ROLES_WRAPPER = """set -eu
PGPASSWORD="$(cat "$DB_PASSWORD_FILE")"
export PGPASSWORD
exec psql --no-psqlrc --set ON_ERROR_STOP=1 --file "$ROLES_FILE"
"""
"""Signs in as the administrator with the mounted password and runs the script. Not one
transaction: the script ``\\connect``s to each application database in turn."""


def password_alias(app: AppRole) -> str:
    """File name of an app role's password under the secrets mount."""
    return f"{app.key}-password"


def job_env(host: str, admin_login: str, apps: Sequence[AppRole]) -> dict[str, str]:
    """libpq settings of the roles job (TLS required, as the flexible server enforces)."""
    return {
        "PGHOST": host,
        "PGPORT": str(POSTGRES_PORT),
        "PGDATABASE": ADMIN_DATABASE,
        "PGUSER": admin_login,
        "PGSSLMODE": "require",
        "PGAPPNAME": APP,
        "PGCONNECT_TIMEOUT": "15",
        "DB_PASSWORD_FILE": f"{kube.SECRETS_MOUNT_PATH}/{ADMIN_PASSWORD_ALIAS}",
        "ROLES_FILE": f"{SCRIPT_DIR}/{SCRIPT_FILE}",
        **{
            app.password_file_env: f"{kube.SECRETS_MOUNT_PATH}/{password_alias(app)}"
            for app in apps
        },
        "HOME": "/tmp",
    }


@dataclass(frozen=True, kw_only=True)
class DatabaseRolesArgs:
    """Inputs of :class:`DatabaseRoles`."""

    namespace: str
    """Kubernetes namespace of the Job (created here)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the workload identity."""
    location: str
    """Azure region of the workload identity."""
    identity_name: str
    """Name of the user-assigned identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the Key Vault."""
    key_vault_name: pulumi.Input[str]
    """Key Vault holding the passwords."""
    key_vault_resource_id: pulumi.Input[str]
    """Resource id of that Key Vault (role assignments are scoped to single secrets in it)."""
    postgres_fqdn: pulumi.Input[str]
    """FQDN of the flexible server."""
    admin_login: pulumi.Input[str]
    """The server administrator's login."""
    admin_password_secret_name: pulumi.Input[str]
    """Key Vault secret with the administrator's password (pass the secret's output)."""
    apps: Sequence[AppRole]
    """The application roles to create, each scoped to its database."""
    password_secret_names: Mapping[str, pulumi.Input[str]]
    """Key Vault secret with each app role's password, by app key (pass the secrets' outputs)."""
    database_resource_ids: Mapping[str, pulumi.Input[str]]
    """Azure ids of the apps' databases, by app key: the Job waits for them."""
    extensions_resource_id: pulumi.Input[str]
    """Azure id of the server's ``azure.extensions`` allow-list: the Job waits for it."""
    node_placement: kube.Placement
    """Node pool of the Job's pod."""
    image: str = jobs.PSQL_IMAGE
    """Pinned image providing ``psql``."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the Azure resources (the identity)."""


def _check(args: DatabaseRolesArgs) -> None:
    keys = {app.key for app in args.apps}
    for what, given in (
        ("password_secret_names", args.password_secret_names),
        ("database_resource_ids", args.database_resource_ids),
    ):
        if set(given) != keys:
            raise ValueError(f"{what} ({sorted(given)}) must name exactly the apps {sorted(keys)}")


class DatabaseRoles(pulumi.ComponentResource):
    """One PostgreSQL role per application, created by a run-once Job."""

    name: pulumi.Output[str]
    """Name of the Job."""
    namespace: pulumi.Output[str]
    """Namespace of the Job."""
    job_id: pulumi.Output[str]
    """``<namespace>/<name>`` of the Job, known once the Job has completed: consumers that
    take it as an input start only after the roles exist."""
    logins: dict[str, str]
    """Role (login) name by app key."""
    client_id: pulumi.Output[str]
    """Client id of the Job's workload identity."""
    principal_id: pulumi.Output[str]
    """Object id of the Job's workload identity."""

    def __init__(
        self, name: str, args: DatabaseRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:data:DatabaseRoles", name, None, opts)
        _check(args)
        namespace = kube.create_namespace(
            f"{name}-namespace", args.namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        secrets: dict[str, pulumi.Input[str]] = {
            ADMIN_PASSWORD_ALIAS: args.admin_password_secret_name,
            **{password_alias(app): args.password_secret_names[app.key] for app in args.apps},
        }
        identity = self._create_identity(name, args, secrets)
        account = kube.create_service_account(
            f"{name}-service-account",
            namespace=args.namespace,
            account=APP,
            client_id=identity.client_id,
            opts=in_namespace,
        )
        provider_class = kube.create_secret_provider_class(
            f"{name}-secrets",
            namespace=args.namespace,
            class_name=SECRET_PROVIDER_CLASS,
            key_vault_name=args.key_vault_name,
            tenant_id=args.tenant_id,
            client_id=identity.client_id,
            secrets=secrets,
            opts=in_namespace,
        )
        # The Job only connects out; nothing may connect to its pods.
        kube.create_ingress_policy(
            f"{name}-deny-ingress",
            namespace=args.namespace,
            policy_name="deny-all-ingress",
            pod_labels={},
            ports=[],
            from_namespaces=[],
            opts=in_namespace,
        )
        job = self._create_job(
            name,
            args,
            in_namespace=in_namespace,
            ready=[namespace, account, provider_class, identity],
        )
        self.name = job.metadata.name
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.job_id = job.id
        self.logins = {app.key: app.role for app in args.apps}
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace,
                "job_id": self.job_id,
                "logins": self.logins,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
            }
        )

    def _create_identity(
        self, name: str, args: DatabaseRolesArgs, secrets: Mapping[str, pulumi.Input[str]]
    ) -> WorkloadIdentity:
        # One assignment per secret, scoped to that secret: the Job reads nothing else.
        grants = {
            f"{alias}-reader": ScopedRoleAssignmentSpec(
                role="Key Vault Secrets User",
                scope=pulumi.Output.concat(args.key_vault_resource_id, "/secrets/", secret),
            )
            for alias, secret in secrets.items()
        }
        return WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity_name=args.identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=args.namespace,
                service_account=APP,
                role_assignments=grants,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_job(
        self,
        name: str,
        args: DatabaseRolesArgs,
        *,
        in_namespace: pulumi.ResourceOptions,
        ready: list[pulumi.Resource],
    ) -> k8s.batch.v1.Job:
        sql = bootstrap_sql(args.apps)
        job_name = jobs.content_name(APP, args.image, sql)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-script",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=job_name, namespace=args.namespace, labels=kube.part_of_labels()
            ),
            data={SCRIPT_FILE: sql},
            opts=in_namespace,
        )
        env = pulumi.Output.all(args.postgres_fqdn, args.admin_login).apply(
            lambda values: kube.env_vars(job_env(values[0], values[1], args.apps))
        )
        container = k8s.core.v1.ContainerArgs(
            name="psql",
            image=args.image,
            image_pull_policy=kube.IMAGE_PULL_POLICY,
            command=["/bin/sh", "-c", ROLES_WRAPPER],
            env=env,
            resources=kube.resources(
                cpu_request="50m", memory_request="64Mi", cpu_limit="500m", memory_limit="256Mi"
            ),
            security_context=kube.container_security_context(),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="script", mount_path=SCRIPT_DIR, read_only=True),
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                kube.secrets_mount(),
            ],
        )
        pod = k8s.core.v1.PodSpecArgs(
            restart_policy="Never",
            service_account_name=APP,
            automount_service_account_token=False,
            security_context=kube.pod_security_context(
                run_as_user=jobs.PSQL_USER, run_as_group=jobs.PSQL_USER
            ),
            node_selector=args.node_placement.node_selector(),
            tolerations=args.node_placement.tolerations(),
            containers=[container],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="script",
                    config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=job_name),
                ),
                kube.scratch_volume("tmp", "64Mi"),
                kube.secrets_volume(SECRET_PROVIDER_CLASS),
            ],
        )
        return jobs.create_job(
            f"{name}-job",
            namespace=args.namespace,
            job_name=job_name,
            labels=kube.app_labels(APP, "bootstrap"),
            pod=pod,
            backoff_limit=JOB_BACKOFF_LIMIT,
            deadline_seconds=JOB_DEADLINE_SECONDS,
            wait_for=(
                *(args.database_resource_ids[app.key] for app in args.apps),
                args.extensions_resource_id,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*ready, config_map]),
        )
