"""Workflows: the MLOps loop on the cluster, driven by a schedule and by KEDA.

Creates, in its own namespace (Pod Security "restricted"):
- per workload (``ingest``, ``retrain``, ``monitor``) a workload identity (user-assigned
  identity, federated credential for its own service account, least-privilege roles) and the
  service account; ingest also a SecretProviderClass mounting the vector store's credential
  from Key Vault (read through ``DB_PASSWORD_FILE`` / ``QDRANT_API_KEY_FILE``, never a Secret);
- KEDA's identity: what the AKS KEDA add-on's operator (``kube-system/keda-operator``) signs in
  as to count blobs and to query Prometheus — read-only roles, federated with the operator's
  service account — and a TriggerAuthentication naming it (``podIdentity: azure-workload``);
- retrain on a schedule: a CronJob (``concurrencyPolicy: Forbid``);
- retrain on new-data volume: a ScaledJob, ``azure-blob`` trigger on ``raw/incoming/``;
- retrain on degradation: a ScaledJob, ``prometheus`` triggers on the monitor's drift and
  quality series in the Azure Monitor workspace;
- ingestion: a ScaledJob, ``azure-blob`` trigger on ``documents/incoming/``;
- the monitor: a Deployment, a ClusterIP Service and a PodMonitor for managed Prometheus;
- NetworkPolicies: no ingress to any workflow pod but the monitor's ``/metrics`` from
  ``kube-system`` (ama-metrics).

Every Job has history limits, a backoff limit, an active deadline and a TTL. Pods wait for their
identity, federated credential and role assignments (a token exchange before the federation
exists fails); KEDA objects wait for the cluster (the KEDA add-on ships with it). Each retrain
trigger starts at most one Job at a time (``maxReplicaCount: 1``); the retrain workload holds a
lease on a lock blob, so a scheduled and a triggered run never train at once.

Why a separate identity for KEDA (KEDA 2.16, "Azure AD Workload Identity", case 2): an
``identityId`` override must be federated with the operator's service account, so overriding
with a workload's own identity would let the cluster-wide operator write that workload's data.
KEDA's identity only reads: Storage Blob Data Reader on ``raw`` and ``documents`` and
Monitoring Data Reader on the Azure Monitor workspace (KEDA's prometheus scaler, "Azure Monitor
Managed Service for Prometheus").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from components.kit import jobs
from components.kit import kubernetes as kube
from components.kit.keda import KEDA_API, KEDA_NAMESPACE, KEDA_SERVICE_ACCOUNT
from components.kit.shared import ScopedRoleAssignmentSpec
from components.workflows import network, triggers
from components.workflows.network import COMPONENT, MONITOR_APP
from components.workflows.pods import METRICS_PORT_NAME, WorkloadPod, pod_template
from components.workflows.specs import (
    PASSWORD_ALIAS,
    IngestSpec,
    MonitorSpec,
    WorkflowsArgs,
    ingest_env,
    monitor_env,
    retrain_env,
)
from contract.queries import QUALITY_BREACH_THRESHOLD, drift_query, quality_breach_query
from contract.workloads import DEFAULT_METRICS_PORT

PODMONITOR_API = "azmonitoring.coreos.com/v1"
TRIGGER_AUTH = "workflows-azure"
SECRET_PROVIDER_CLASS = "ingest-vector-store"


@dataclass(frozen=True)
class _Built:
    identity: WorkloadIdentity
    account: k8s.core.v1.ServiceAccount


class Workflows(pulumi.ComponentResource):
    """Retrain (schedule, new data, degradation), ingestion and the monitor."""

    namespace: pulumi.Output[str]
    """Namespace of the workflows."""
    client_ids: dict[str, pulumi.Output[str]]
    """Client id of each workload's identity and of KEDA's (``keda``)."""
    principal_ids: dict[str, pulumi.Output[str]]
    """Object id of each of those identities."""

    def __init__(
        self, name: str, args: WorkflowsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:workflows:Workflows", name, None, opts)
        namespace = kube.create_namespace(
            f"{name}-namespace", args.namespace, opts=pulumi.ResourceOptions(parent=self)
        )
        self._in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self._name = name
        self._args = args
        network.create_policies(
            name, namespace=args.namespace, monitor=args.monitor is not None, opts=self._in_ns
        )
        built = {key: self._workload_identity(key) for key in self._workloads()}
        keda = self._keda_identity()
        # KEDA objects: after the cluster (add-on) and KEDA's federation and roles.
        auth = k8s.apiextensions.CustomResource(
            f"{name}-trigger-auth",
            api_version=KEDA_API,
            kind="TriggerAuthentication",
            metadata={
                "name": jobs.after(TRIGGER_AUTH, args.cluster_resource_id),
                "namespace": args.namespace,
                "labels": kube.part_of_labels(),
            },
            spec=triggers.trigger_authentication_spec(keda.client_id),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, keda]),
        )
        self._keda_ready: list[pulumi.Resource] = [auth, keda]
        self._retrain(built["retrain"])
        if args.ingest is not None:
            self._ingest(built["ingest"], args.ingest)
        if args.monitor is not None:
            self._monitor(built["monitor"], args.monitor)
        self.namespace = pulumi.Output.from_input(args.namespace)
        self.client_ids = {k: b.identity.client_id for k, b in built.items()}
        self.client_ids["keda"] = keda.client_id
        self.principal_ids = {k: b.identity.principal_id for k, b in built.items()}
        self.principal_ids["keda"] = keda.principal_id
        self.register_outputs(
            {
                "namespace": self.namespace,
                "client_ids": self.client_ids,
                "principal_ids": self.principal_ids,
            }
        )

    # --- identities ------------------------------------------------------------------------

    def _workloads(self) -> list[str]:
        a = self._args
        return [
            k
            for k, on in (("ingest", a.ingest), ("retrain", True), ("monitor", a.monitor))
            if on is not None
        ]

    def _roles(self, key: str) -> dict[str, ScopedRoleAssignmentSpec]:
        a = self._args
        ids = a.container_resource_ids
        if key == "ingest":
            # Key Vault RBAC scoped to the one secret ingestion reads.
            secret = pulumi.Output.concat(
                a.key_vault_resource_id, "/secrets/", a.vector_store.credential_secret_name
            )
            return {
                "documents-contributor": ScopedRoleAssignmentSpec(
                    role="Storage Blob Data Contributor", scope=ids["documents"]
                ),
                "vector-credential-reader": ScopedRoleAssignmentSpec(
                    role="Key Vault Secrets User", scope=secret
                ),
            }
        if key == "retrain":
            # Artifacts reach Blob storage through MLflow's proxy: no role on mlflow-artifacts.
            return {
                "raw-contributor": ScopedRoleAssignmentSpec(
                    role="Storage Blob Data Contributor", scope=ids["raw"]
                )
            }
        return {
            "raw-reader": ScopedRoleAssignmentSpec(
                role="Storage Blob Data Reader", scope=ids["raw"]
            ),
            "curated-reader": ScopedRoleAssignmentSpec(
                role="Storage Blob Data Reader", scope=ids["curated"]
            ),
        }

    def _workload_identity(self, key: str) -> _Built:
        a = self._args
        identity = WorkloadIdentity(
            f"{self._name}-{key}-identity",
            WorkloadIdentityArgs(
                resource_group_name=a.resource_group_name,
                location=a.location,
                identity_name=a.identity_names[key],
                oidc_issuer_url=a.oidc_issuer_url,
                namespace=a.namespace,
                service_account=key,
                role_assignments=self._roles(key),
                tags=a.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = kube.create_service_account(
            f"{self._name}-{key}-service-account",
            namespace=a.namespace,
            account=key,
            client_id=identity.client_id,
            opts=self._in_ns,
        )
        return _Built(identity=identity, account=account)

    def _keda_identity(self) -> WorkloadIdentity:
        a = self._args
        ids = a.container_resource_ids
        keda = WorkloadIdentity(
            f"{self._name}-keda-identity",
            WorkloadIdentityArgs(
                resource_group_name=a.resource_group_name,
                location=a.location,
                identity_name=a.identity_names["keda"],
                oidc_issuer_url=a.oidc_issuer_url,
                namespace=KEDA_NAMESPACE,
                service_account=KEDA_SERVICE_ACCOUNT,
                role_assignments={
                    "raw-reader": ScopedRoleAssignmentSpec(
                        role="Storage Blob Data Reader", scope=ids["raw"]
                    ),
                    "documents-reader": ScopedRoleAssignmentSpec(
                        role="Storage Blob Data Reader", scope=ids["documents"]
                    ),
                    "prometheus-reader": ScopedRoleAssignmentSpec(
                        role="Monitoring Data Reader", scope=a.monitor_workspace_resource_id
                    ),
                },
                tags=a.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return keda

    # --- retrain ---------------------------------------------------------------------------

    def _pod(self, key: str, **extra: Any) -> k8s.core.v1.PodTemplateSpecArgs:
        a = self._args
        return pod_template(
            WorkloadPod(
                workload=key, service_account=key, labels=kube.app_labels(key, COMPONENT), **extra
            ),
            a.image,
        )

    def _job_spec(
        self, template: k8s.core.v1.PodTemplateSpecArgs, *, backoff: int, deadline: int
    ) -> k8s.batch.v1.JobSpecArgs:
        return k8s.batch.v1.JobSpecArgs(
            backoff_limit=backoff,
            active_deadline_seconds=deadline,
            ttl_seconds_after_finished=self._args.job_ttl_seconds,
            template=template,
        )

    def _retrain(self, built: _Built) -> None:
        a = self._args
        r = a.retrain
        template = self._pod(
            "retrain", env=retrain_env(a), placement=r.placement, resources=r.resources
        )
        job = self._job_spec(template, backoff=r.backoff_limit, deadline=r.deadline_seconds)
        pods_ready = pulumi.ResourceOptions(parent=self, depends_on=[built.identity, built.account])
        if r.schedule is not None:
            k8s.batch.v1.CronJob(
                f"{self._name}-retrain-schedule",
                metadata=self._meta("retrain-schedule", "retrain"),
                spec=k8s.batch.v1.CronJobSpecArgs(
                    schedule=r.schedule,
                    time_zone="Etc/UTC",
                    concurrency_policy="Forbid",
                    starting_deadline_seconds=3600,
                    successful_jobs_history_limit=a.history_limit,
                    failed_jobs_history_limit=a.history_limit,
                    job_template=k8s.batch.v1.JobTemplateSpecArgs(spec=job),
                ),
                opts=pods_ready,
            )
        if r.new_data_threshold is not None:
            self._scaled_job(
                "retrain-new-data",
                "retrain",
                job,
                [
                    triggers.azure_blob_trigger(
                        account_name=a.storage_account_name,
                        container=a.container_names["raw"],
                        threshold=r.new_data_threshold,
                        auth_name=TRIGGER_AUTH,
                        name="new-batches",
                    )
                ],
                max_jobs=1,
                ready=built,
            )
        if r.drift_share is not None and r.quality_floor is not None:
            self._scaled_job(
                "retrain-degradation",
                "retrain",
                job,
                [
                    triggers.prometheus_trigger(
                        server_address=a.prometheus_query_endpoint,
                        query=drift_query(a.model_name),
                        threshold=r.drift_share,
                        auth_name=TRIGGER_AUTH,
                        name="drift",
                    ),
                    triggers.prometheus_trigger(
                        server_address=a.prometheus_query_endpoint,
                        query=quality_breach_query(a.model_name, r.quality_floor),
                        threshold=QUALITY_BREACH_THRESHOLD,
                        auth_name=TRIGGER_AUTH,
                        name="quality-breach",
                    ),
                ],
                max_jobs=1,
                ready=built,
            )

    def _scaled_job(
        self,
        object_name: str,
        workload: str,
        job: k8s.batch.v1.JobSpecArgs,
        trigger_list: list[dict[str, Any]],
        *,
        max_jobs: int,
        ready: _Built,
        mounts: Sequence[pulumi.Resource] = (),
    ) -> k8s.apiextensions.CustomResource:
        a = self._args
        meta = self._meta(object_name, workload)
        return k8s.apiextensions.CustomResource(
            f"{self._name}-{object_name}",
            api_version=KEDA_API,
            kind="ScaledJob",
            metadata={
                "name": jobs.after(object_name, a.cluster_resource_id),
                "namespace": a.namespace,
                "labels": meta.labels,
                "annotations": meta.annotations,
            },
            spec={
                "jobTargetRef": job,
                "pollingInterval": a.polling_interval_seconds,
                "successfulJobsHistoryLimit": a.history_limit,
                "failedJobsHistoryLimit": a.history_limit,
                "minReplicaCount": 0,
                "maxReplicaCount": max_jobs,
                # A ScaledJob update must not kill a running retrain or ingestion.
                "rollout": {"strategy": "gradual"},
                "triggers": trigger_list,
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[ready.identity, ready.account, *mounts, *self._keda_ready],
            ),
        )

    def _meta(self, object_name: str, workload: str) -> k8s.meta.v1.ObjectMetaArgs:
        return kube.workload_metadata(
            name=object_name,
            namespace=self._args.namespace,
            labels=kube.app_labels(workload, COMPONENT),
            # The image is always the stack registry's, pinned by digest in the release block.
            images=[self._pinned_image()],
        )

    def _pinned_image(self) -> str:
        # The registry host is an output; the checkov digest waiver only needs to know
        # whether the reference ends in a digest.
        digest = self._args.image_digest
        return f"{self._args.namespace}/workloads@{digest}" if digest else ""

    # --- ingestion -------------------------------------------------------------------------

    def _ingest(self, built: _Built, spec: IngestSpec) -> None:
        a = self._args
        provider_class = kube.create_secret_provider_class(
            f"{self._name}-ingest-secrets",
            namespace=a.namespace,
            class_name=SECRET_PROVIDER_CLASS,
            key_vault_name=a.key_vault_name,
            tenant_id=a.tenant_id,
            client_id=built.identity.client_id,
            secrets={PASSWORD_ALIAS: a.vector_store.credential_secret_name},
            opts=self._in_ns,
        )
        template = self._pod(
            "ingest",
            env=ingest_env(a, spec),
            placement=spec.placement,
            resources=spec.resources,
            secret_provider_class=SECRET_PROVIDER_CLASS,
        )
        self._scaled_job(
            "ingest-new-documents",
            "ingest",
            self._job_spec(template, backoff=2, deadline=spec.deadline_seconds),
            [
                triggers.azure_blob_trigger(
                    account_name=a.storage_account_name,
                    container=a.container_names["documents"],
                    threshold=spec.threshold,
                    auth_name=TRIGGER_AUTH,
                    name="new-documents",
                )
            ],
            max_jobs=spec.max_parallel_jobs,
            ready=built,
            mounts=[provider_class],
        )

    # --- monitor ---------------------------------------------------------------------------

    def _monitor(self, built: _Built, spec: MonitorSpec) -> None:
        a = self._args
        labels = kube.app_labels(MONITOR_APP, COMPONENT)
        template = pod_template(
            WorkloadPod(
                workload=MONITOR_APP,
                service_account=MONITOR_APP,
                env=monitor_env(a),
                placement=spec.placement,
                resources=spec.resources,
                metrics_port=DEFAULT_METRICS_PORT,
                restart_policy="Always",
                labels=labels,
            ),
            a.image,
        )
        k8s.apps.v1.Deployment(
            f"{self._name}-monitor",
            metadata=self._meta(MONITOR_APP, MONITOR_APP),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=template,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[built.identity, built.account]),
        )
        kube.create_cluster_ip_service(
            f"{self._name}-monitor-service",
            namespace=a.namespace,
            service_name=MONITOR_APP,
            selector=labels,
            port_name=METRICS_PORT_NAME,
            port=DEFAULT_METRICS_PORT,
            opts=self._in_ns,
        )
        k8s.apiextensions.CustomResource(
            f"{self._name}-monitor-podmonitor",
            api_version=PODMONITOR_API,
            kind="PodMonitor",
            metadata={
                "name": MONITOR_APP,
                "namespace": a.namespace,
                "labels": kube.part_of_labels(),
            },
            spec={
                "selector": {"matchLabels": labels},
                "namespaceSelector": {"matchNames": [a.namespace]},
                "podMetricsEndpoints": [
                    {
                        "port": METRICS_PORT_NAME,
                        "path": "/metrics",
                        "interval": f"{spec.scrape_interval_seconds}s",
                    }
                ],
            },
            opts=self._in_ns,
        )
