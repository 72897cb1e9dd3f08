"""VectorStore: the platform's vector database, pgvector (managed) or Qdrant (in-cluster).

Both engines get a namespace, a workload identity federated to the engine's service account
(Key Vault Secrets User on the one secret it reads), that service account, a
SecretProviderClass mounting the secret as a file (never a Kubernetes Secret), and a
NetworkPolicy.

- ``pgvector``: the collection's schema (:func:`components.vectordb.schema.schema_sql`) and a
  Job that applies it to the ``vectors`` database of the flexible server
  (:mod:`components.vectordb.pgvector`), signed in as the store's own database role, once the
  database exists and the role bootstrap (:mod:`components.data.db_roles_job`) completed. The
  namespace admits no ingress at all.
- ``qdrant``: a generated API key (``random.RandomPassword``) stored as a Key Vault secret,
  the StatefulSet with its data volume (:mod:`components.qdrant`), the client and headless
  Services, and a NetworkPolicy admitting only the platform's namespaces. With ``protect``
  the namespace and StatefulSet are protected and retained: Pulumi's ``protect`` does not
  reach PVCs, deleting a namespace deletes its PVCs, and the StatefulSet's PVC retention
  policy is ``Retain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_azure_native import keyvault

from components.identity.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.kit import kubernetes as kube
from components.kit.shared import ScopedRoleAssignmentSpec, stateful_options
from components.vectordb import pgvector, qdrant
from components.vectordb.schema import Distance, schema_sql

API_KEY_SECRET = "qdrant-api-key"
API_KEY_LENGTH = 48


@dataclass(frozen=True, kw_only=True)
class VectorStoreArgs:
    """Inputs of :class:`VectorStore`."""

    engine: Literal["pgvector", "qdrant"]
    """Which engine backs the store."""
    namespace: str
    """Kubernetes namespace of the engine (Qdrant) or of the schema job (pgvector)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the workload identity and of the Key Vault."""
    location: str
    """Azure region of the workload identity."""
    identity_name: str
    """Name of the user-assigned identity."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the Key Vault."""
    key_vault_name: pulumi.Input[str]
    """Key Vault holding the engine's credential."""
    key_vault_resource_id: pulumi.Input[str]
    """Resource id of that Key Vault."""
    node_placement: kube.Placement
    """Node pool of the engine's pods."""
    client_namespaces: Sequence[str]
    """Namespaces allowed to reach Qdrant (its own is always allowed)."""
    collection: str = "documents"
    """Collection (pgvector: table) name."""
    dimensions: int = 384
    """Embedding dimensions."""
    distance: Distance = "cosine"
    """Distance the index serves."""
    postgres_fqdn: pulumi.Input[str] | None = None
    """pgvector: FQDN of the flexible server."""
    postgres_login: pulumi.Input[str] | None = None
    """pgvector: the vector store's own database role (rights on ``vectors`` only), used by
    the schema job and by clients (ingestion)."""
    postgres_password_secret_name: pulumi.Input[str] | None = None
    """pgvector: Key Vault secret holding that login's password."""
    database_resource_id: pulumi.Input[str] | None = None
    """pgvector: Azure id of the ``vectors`` database: the schema job waits for it."""
    roles_job_id: pulumi.Input[str] | None = None
    """pgvector: id of the Job that creates the role and the ``vector`` extension
    (``DatabaseRoles.job_id``): the schema job waits for it to complete."""
    schema_job_image: str = pgvector.SCHEMA_JOB_IMAGE
    """pgvector: pinned image providing ``psql``."""
    qdrant_image: str = "docker.io/qdrant/qdrant:v1.19.0"
    """qdrant: pinned image."""
    storage_class: str | None = None
    """qdrant: an existing storage class for the data volume; None creates the platform's
    Premium SSD class (see ``zone_redundant_storage_enabled``)."""
    zone_redundant_storage_enabled: bool = False
    """qdrant: the platform's class uses zone-redundant disks (``Premium_ZRS``); turn on when
    the engine's pool spans more than one zone."""
    storage_size_gi: int = 32
    """qdrant: size of the data volume (GiB)."""
    cpu_request: str = "500m"
    """qdrant: CPU request."""
    cpu_limit: str = "2"
    """qdrant: CPU limit."""
    memory_request: str = "1Gi"
    """qdrant: memory request."""
    memory_limit: str = "4Gi"
    """qdrant: memory limit (Qdrant keeps vectors and indexes in memory)."""
    protect: bool = False
    """qdrant: ``protect`` + ``retain_on_delete`` on the namespace and the StatefulSet."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the Azure resources."""


_PGVECTOR_INPUTS = (
    "engine pgvector needs postgres_fqdn, postgres_login, postgres_password_secret_name, "
    "database_resource_id and roles_job_id"
)


def _check_args(args: VectorStoreArgs) -> None:
    """Reject args that cannot work before anything is registered."""
    missing = (
        args.postgres_fqdn,
        args.postgres_login,
        args.postgres_password_secret_name,
        args.database_resource_id,
        args.roles_job_id,
    )
    if args.engine == "pgvector" and None in missing:
        raise ValueError(_PGVECTOR_INPUTS)
    if args.engine not in ("pgvector", "qdrant"):
        raise ValueError(f"engine ({args.engine!r}) must be pgvector or qdrant")


class VectorStore(pulumi.ComponentResource):
    """The vector database and what its clients need to reach it."""

    name: pulumi.Output[str]
    """The engine (``pgvector`` or ``qdrant``)."""
    namespace: pulumi.Output[str]
    """Kubernetes namespace of the engine or schema job."""
    endpoint: pulumi.Output[str]
    """``postgresql://<fqdn>:5432/vectors`` or ``http://qdrant.<ns>.svc.cluster.local:6333``."""
    credential_secret_name: pulumi.Output[str]
    """Key Vault secret a client reads: the database password or the Qdrant API key."""
    client_id: pulumi.Output[str]
    """Client id of the engine's workload identity."""
    principal_id: pulumi.Output[str]
    """Object id of the engine's workload identity."""

    def __init__(
        self, name: str, args: VectorStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workloads:VectorStore", name, None, opts)
        _check_args(args)
        namespace = kube.create_namespace(
            f"{name}-namespace",
            args.namespace,
            opts=stateful_options(self, args.protect and args.engine == "qdrant"),
        )
        if args.engine == "pgvector":
            endpoint, secret_name, identity = self._create_pgvector(name, args, namespace)
        else:
            endpoint, secret_name, identity = self._create_qdrant(name, args, namespace)
        self.name = pulumi.Output.from_input(args.engine)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.endpoint = endpoint
        self.credential_secret_name = secret_name
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs(
            {
                "name": self.name,
                "namespace": self.namespace,
                "endpoint": self.endpoint,
                "credential_secret_name": self.credential_secret_name,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
            }
        )

    def _identity(
        self,
        name: str,
        args: VectorStoreArgs,
        account: str,
        secret_scope: pulumi.Input[str],
    ) -> WorkloadIdentity:
        return WorkloadIdentity(
            f"{name}-identity",
            WorkloadIdentityArgs(
                resource_group_name=args.resource_group_name,
                location=args.location,
                identity_name=args.identity_name,
                oidc_issuer_url=args.oidc_issuer_url,
                namespace=args.namespace,
                service_account=account,
                # Scoped to the one secret the engine reads.
                role_assignments={
                    "secret-reader": ScopedRoleAssignmentSpec(
                        role="Key Vault Secrets User", scope=secret_scope
                    )
                },
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _bind(
        self,
        name: str,
        args: VectorStoreArgs,
        *,
        account: str,
        class_name: str,
        alias: str,
        secret_name: pulumi.Input[str],
        identity: WorkloadIdentity,
        opts: pulumi.ResourceOptions,
    ) -> list[pulumi.Resource]:
        """The service account and the SecretProviderClass of the engine's identity."""
        sa = kube.create_service_account(
            f"{name}-service-account",
            namespace=args.namespace,
            account=account,
            client_id=identity.client_id,
            opts=opts,
        )
        spc = kube.create_secret_provider_class(
            f"{name}-secrets",
            namespace=args.namespace,
            class_name=class_name,
            key_vault_name=args.key_vault_name,
            tenant_id=args.tenant_id,
            client_id=identity.client_id,
            secrets={alias: secret_name},
            opts=opts,
        )
        return [sa, spc, identity]

    def _create_pgvector(
        self, name: str, args: VectorStoreArgs, namespace: k8s.core.v1.Namespace
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], WorkloadIdentity]:
        fqdn, login = args.postgres_fqdn, args.postgres_login
        secret_name = args.postgres_password_secret_name
        database, roles = args.database_resource_id, args.roles_job_id
        if (
            fqdn is None
            or login is None
            or secret_name is None
            or database is None
            or roles is None
        ):
            raise ValueError(_PGVECTOR_INPUTS)
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        password_scope = pulumi.Output.concat(args.key_vault_resource_id, "/secrets/", secret_name)
        identity = self._identity(name, args, pgvector.APP, password_scope)
        ready = self._bind(
            name,
            args,
            account=pgvector.APP,
            class_name=pgvector.SECRET_PROVIDER_CLASS,
            alias=pgvector.PASSWORD_ALIAS,
            secret_name=secret_name,
            identity=identity,
            opts=in_namespace,
        )
        pgvector.create_schema(
            name,
            namespace=args.namespace,
            sql=schema_sql(
                table=args.collection, dimensions=args.dimensions, distance=args.distance
            ),
            image=args.schema_job_image,
            host=fqdn,
            login=login,
            node_placement=args.node_placement,
            wait_for=(database, roles),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, *ready]),
        )
        # The job makes outbound connections only; nothing may connect to its pods.
        kube.create_ingress_policy(
            f"{name}-deny-ingress",
            namespace=args.namespace,
            policy_name="deny-all-ingress",
            pod_labels={},
            ports=[],
            from_namespaces=[],
            opts=in_namespace,
        )
        return pgvector.endpoint(fqdn), pulumi.Output.from_input(secret_name), identity

    def _create_qdrant(
        self, name: str, args: VectorStoreArgs, namespace: k8s.core.v1.Namespace
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], WorkloadIdentity]:
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        api_key = random.RandomPassword(
            f"{name}-api-key",
            length=API_KEY_LENGTH,
            # Sent as an HTTP header: keep it to letters and digits.
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret = keyvault.Secret(
            f"{name}-api-key-secret",
            resource_group_name=args.resource_group_name,
            vault_name=args.key_vault_name,
            secret_name=API_KEY_SECRET,
            # Secret in state and plan even where the engine has not marked it yet (mocks).
            properties=keyvault.SecretPropertiesArgs(
                value=pulumi.Output.secret(api_key.result), content_type="text/plain"
            ),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Azure's id of the secret; derived after the secret exists so the role assignment's
        # scope is never missing.
        secret_scope = pulumi.Output.all(secret.id, args.key_vault_resource_id).apply(
            lambda ids: f"{ids[1]}/secrets/{API_KEY_SECRET}"
        )
        identity = self._identity(name, args, qdrant.SERVICE_ACCOUNT, secret_scope)
        ready = self._bind(
            name,
            args,
            account=qdrant.SERVICE_ACCOUNT,
            class_name=qdrant.SECRET_PROVIDER_CLASS,
            alias=qdrant.API_KEY_ALIAS,
            secret_name=API_KEY_SECRET,
            identity=identity,
            opts=in_namespace,
        )
        storage_class = args.storage_class
        if storage_class is None:
            created = qdrant.create_storage_class(
                f"{name}-storage-class",
                zone_redundant=args.zone_redundant_storage_enabled,
                retain=args.protect,
                opts=pulumi.ResourceOptions(parent=self),
            )
            storage_class = qdrant.storage_class_name(args.zone_redundant_storage_enabled)
            ready.append(created)
        qdrant.create_statefulset(
            f"{name}-statefulset",
            namespace=args.namespace,
            image=args.qdrant_image,
            storage_class=storage_class,
            storage_size_gi=args.storage_size_gi,
            node_placement=args.node_placement,
            resources=kube.resources(
                cpu_request=args.cpu_request,
                memory_request=args.memory_request,
                cpu_limit=args.cpu_limit,
                memory_limit=args.memory_limit,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                retain_on_delete=args.protect,
                depends_on=[namespace, *ready, secret],
            ),
        )
        qdrant.create_services(name, namespace=args.namespace, opts=in_namespace)
        kube.create_ingress_policy(
            f"{name}-ingress-policy",
            namespace=args.namespace,
            policy_name=f"{qdrant.APP}-ingress",
            pod_labels=qdrant.selector_labels(),
            ports=[qdrant.HTTP_PORT, qdrant.GRPC_PORT],
            from_namespaces=[args.namespace, *args.client_namespaces],
            opts=in_namespace,
        )
        return (
            pulumi.Output.from_input(qdrant.endpoint(args.namespace)),
            pulumi.Output.from_input(API_KEY_SECRET),
            identity,
        )
