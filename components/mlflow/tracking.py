"""Mlflow: the MLflow tracking server and model registry on AKS.

Creates, in its own namespace: a workload identity (user-assigned identity federated to the
``mlflow`` service account, Storage Blob Data Contributor on the artifacts container, Key
Vault Secrets User on the database password secret), the service account, a
SecretProviderClass that mounts the password from Key Vault as a file, the schema migration
Job (:mod:`components.mlflow.migration`), the Deployment, a ClusterIP Service, a NetworkPolicy
admitting only the platform's namespaces, and a PodDisruptionBudget when there are two
replicas or more.

The migration waits for the ``mlflow`` database and for the Job that creates MLflow's own
database role (both handed over by id); the Deployment waits for the migration, so replicas
never race to create MLflow's tables. The server signs in to PostgreSQL as that role, with a
password: MLflow's SQLAlchemy engine cannot refresh Entra tokens. The password is never a
Kubernetes Secret; the container runs a small shell wrapper
(:data:`components.mlflow.server.SERVER_WRAPPER`) that reads the mounted file, URL-encodes
it into the backend URI and execs ``mlflow server``. Artifacts go to Blob
storage (``wasbs://``) through DefaultAzureCredential, i.e. the workload identity the webhook
injects.

The command, arguments and environment come from the pure functions of
:mod:`components.mlflow.server`, so tests can run the exact server locally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import USE_LABEL, WorkloadIdentity, WorkloadIdentityArgs
from components.kit import jobs
from components.kit import kubernetes as kube
from components.kit.shared import ScopedRoleAssignmentSpec
from components.mlflow.migration import create_migration_job
from components.mlflow.server import (
    APP,
    MLFLOW_PORT,
    PASSWORD_ALIAS,
    TMP_DIR,
    server_args,
    server_command,
    server_env,
    tracking_uri,
)

SERVICE_ACCOUNT = "mlflow"
SECRET_PROVIDER_CLASS = "mlflow-postgres"
# With --serve-artifacts MLflow buffers each uploaded or downloaded artifact whole in its temp
# dir before it reaches Blob storage, so /tmp must hold the largest model plus concurrency.
MIN_REPLICAS_FOR_PDB = 2
# Startup only checks the schema the migration Job wrote; five minutes before liveness applies
# still cover a slow first import of MLflow on a small node.
STARTUP_PERIOD_SECONDS = 5
STARTUP_FAILURES = 60


@dataclass(frozen=True, kw_only=True)
class MlflowArgs:
    """Inputs of :class:`Mlflow`."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the workload identity."""
    location: str
    """Azure region of the workload identity."""
    identity_name: str
    """Name of the user-assigned identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL (federated credential issuer)."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the Key Vault."""
    storage_account_name: pulumi.Input[str]
    """Data lake account holding the ``mlflow-artifacts`` container."""
    artifacts_container_resource_id: pulumi.Input[str]
    """Resource id of the ``mlflow-artifacts`` container (role assignment scope)."""
    key_vault_name: pulumi.Input[str]
    """Key Vault holding the database password."""
    key_vault_resource_id: pulumi.Input[str]
    """Resource id of the Key Vault (the role is scoped to the password secret in it)."""
    postgres_fqdn: pulumi.Input[str]
    """FQDN of the PostgreSQL flexible server."""
    postgres_login: pulumi.Input[str]
    """MLflow's own database role (login), with rights on the ``mlflow`` database only."""
    postgres_password_secret_name: pulumi.Input[str]
    """Key Vault secret holding that login's password."""
    database_resource_id: pulumi.Input[str]
    """Azure id of the ``mlflow`` database: the migration and the server wait for it."""
    roles_job_id: pulumi.Input[str]
    """Id of the Job that creates MLflow's database role (``DatabaseRoles.job_id``): the
    migration waits for it to complete."""
    node_placement: kube.Placement
    """Node pool the server runs on."""
    client_namespaces: Sequence[str]
    """Namespaces allowed to reach the server (its own is always allowed)."""
    namespace: str = "mlflow"
    """Kubernetes namespace."""
    image: str = "ghcr.io/mlflow/mlflow:v3.17.2-full"
    """Pinned image with the ``db`` and ``azure`` extras."""
    replicas: int = 1
    """Server pods; two or more get a PodDisruptionBudget and a zone/host spread."""
    workers: int = 2
    """Server worker processes per pod."""
    cpu_request: str = "250m"
    """CPU request."""
    cpu_limit: str = "1"
    """CPU limit."""
    memory_request: str = "512Mi"
    """Memory request."""
    memory_limit: str = "1Gi"
    """Memory limit."""
    scratch_size_gi: int = 32
    """Size limit of the ``/tmp`` emptyDir that buffers proxied artifacts."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the Azure resources (the identity)."""


class Mlflow(pulumi.ComponentResource):
    """MLflow tracking server + model registry."""

    name: pulumi.Output[str]
    """Name of the Deployment and Service."""
    namespace: pulumi.Output[str]
    """Kubernetes namespace."""
    tracking_uri: pulumi.Output[str]
    """``http://mlflow.<namespace>.svc.cluster.local:5000``."""
    client_id: pulumi.Output[str]
    """Client id of the server's workload identity."""
    principal_id: pulumi.Output[str]
    """Object id of the server's workload identity."""
    identity_resource_id: pulumi.Output[str]
    """Resource id of the server's user-assigned identity."""

    def __init__(
        self, name: str, args: MlflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workloads:Mlflow", name, None, opts)
        namespace = kube.create_namespace(
            f"{name}-namespace", args.namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        identity = self._create_identity(name, args)
        account = kube.create_service_account(
            f"{name}-service-account",
            namespace=args.namespace,
            account=SERVICE_ACCOUNT,
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
            secrets={PASSWORD_ALIAS: args.postgres_password_secret_name},
            opts=in_namespace,
        )
        selector = kube.app_labels(APP, "tracking-server")
        ready: list[pulumi.Resource] = [account, provider_class, identity]
        migration = create_migration_job(
            f"{name}-db-upgrade",
            namespace=args.namespace,
            image=args.image,
            env=self._env(args),
            service_account=SERVICE_ACCOUNT,
            secret_provider_class=SECRET_PROVIDER_CLASS,
            run_as_user=kube.UNPRIVILEGED_ID,
            node_placement=args.node_placement,
            wait_for=(args.database_resource_id, args.roles_job_id),
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self._create_deployment(
            name,
            args,
            selector,
            pulumi.ResourceOptions(parent=self, depends_on=[*ready, migration]),
        )
        self._create_service(name, args, selector, in_namespace)
        kube.create_ingress_policy(
            f"{name}-ingress-policy",
            namespace=args.namespace,
            policy_name=f"{APP}-ingress",
            pod_labels=selector,
            ports=[MLFLOW_PORT],
            from_namespaces=[args.namespace, *args.client_namespaces],
            opts=in_namespace,
        )
        if args.replicas >= MIN_REPLICAS_FOR_PDB:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-disruption-budget",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=APP, namespace=args.namespace, labels=kube.part_of_labels()
                ),
                spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                    max_unavailable=1,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                ),
                opts=in_namespace,
            )
        self.name = pulumi.Output.from_input(APP)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.tracking_uri = pulumi.Output.from_input(tracking_uri(args.namespace))
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.identity_resource_id = identity.resource_id
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace,
                "tracking_uri": self.tracking_uri,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
                "identity_resource_id": self.identity_resource_id,
            }
        )

    def _create_identity(self, name: str, args: MlflowArgs) -> WorkloadIdentity:
        # Key Vault RBAC can be scoped to one secret: the server reads nothing else.
        password_scope = pulumi.Output.concat(
            args.key_vault_resource_id, "/secrets/", args.postgres_password_secret_name
        )
        return WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity_name=args.identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=args.namespace,
                service_account=SERVICE_ACCOUNT,
                role_assignments={
                    "artifacts-blob-contributor": ScopedRoleAssignmentSpec(
                        role="Storage Blob Data Contributor",
                        scope=args.artifacts_container_resource_id,
                    ),
                    "db-password-reader": ScopedRoleAssignmentSpec(
                        role="Key Vault Secrets User", scope=password_scope
                    ),
                },
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _env(args: MlflowArgs) -> pulumi.Output[list[k8s.core.v1.EnvVarArgs]]:
        """The server's environment, shared by the migration Job."""
        return pulumi.Output.all(args.postgres_fqdn, args.postgres_login).apply(
            lambda values: kube.env_vars(server_env(db_host=values[0], db_user=values[1]))
        )

    def _create_deployment(
        self,
        name: str,
        args: MlflowArgs,
        selector: Mapping[str, str],
        opts: pulumi.ResourceOptions,
    ) -> k8s.apps.v1.Deployment:
        container_args = pulumi.Output.from_input(args.storage_account_name).apply(
            lambda account: server_args(
                storage_account=account, namespace=args.namespace, workers=args.workers
            )
        )
        container = k8s.core.v1.ContainerArgs(
            name=APP,
            image=args.image,
            image_pull_policy=kube.IMAGE_PULL_POLICY,
            command=server_command(),
            args=container_args,
            env=self._env(args),
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=MLFLOW_PORT)],
            startup_probe=kube.http_probe(
                "/health", "http", period=STARTUP_PERIOD_SECONDS, failures=STARTUP_FAILURES
            ),
            readiness_probe=kube.http_probe("/health", "http"),
            liveness_probe=kube.http_probe("/health", "http", period=20, failures=3),
            resources=kube.resources(
                cpu_request=args.cpu_request,
                memory_request=args.memory_request,
                cpu_limit=args.cpu_limit,
                memory_limit=args.memory_limit,
            ),
            security_context=kube.container_security_context(),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=TMP_DIR),
                kube.secrets_mount(),
            ],
        )
        pod = k8s.core.v1.PodSpecArgs(
            service_account_name=SERVICE_ACCOUNT,
            automount_service_account_token=False,
            # The image sets no user; any non-root id works: the server writes only to /tmp.
            security_context=kube.pod_security_context(fs_group=kube.UNPRIVILEGED_ID),
            node_selector=args.node_placement.node_selector(),
            tolerations=args.node_placement.tolerations(),
            topology_spread_constraints=_spread(selector)
            if args.replicas >= MIN_REPLICAS_FOR_PDB
            else None,
            containers=[container],
            volumes=[
                kube.scratch_volume("tmp", f"{args.scratch_size_gi}Gi"),
                kube.secrets_volume(SECRET_PROVIDER_CLASS),
            ],
        )
        return k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=kube.workload_metadata(
                # Waits for the database directly too (the migration already waits for it).
                name=jobs.after(APP, args.database_resource_id),
                namespace=args.namespace,
                labels=selector,
                images=[args.image],
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={**selector, USE_LABEL: "true"}),
                    spec=pod,
                ),
            ),
            opts=opts,
        )

    @staticmethod
    def _create_service(
        name: str, args: MlflowArgs, selector: Mapping[str, str], opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.Service:
        return kube.create_cluster_ip_service(
            f"{name}-service",
            namespace=args.namespace,
            service_name=APP,
            selector=selector,
            port_name="http",
            port=MLFLOW_PORT,
            opts=opts,
        )


def _spread(selector: Mapping[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Spread replicas over zones, then hosts; never block scheduling on it."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
        )
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]
