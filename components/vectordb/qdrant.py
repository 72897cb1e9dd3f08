"""Kubernetes objects of the in-cluster Qdrant engine (used by :mod:`components.vectordb.store`).

A single-replica StatefulSet (Qdrant's distributed mode needs its own cluster settings) with a
data volume per pod from a volumeClaimTemplate (by default on a Premium SSD storage class made
here, zone-redundant when the pool spans zones), a ClusterIP Service for clients and the
headless Service the StatefulSet is governed by. The API key is read from the file the
Secrets Store CSI driver mounts from Key Vault; no Kubernetes Secret is created.

Facts used (Qdrant v1.19 image and config): working directory ``/qdrant`` with
``./entrypoint.sh``; data in ``/qdrant/storage``, snapshots in ``/qdrant/snapshots``, the
"initialised" marker at ``QDRANT_INIT_FILE_PATH``; ``/livez`` and ``/readyz`` are exempt from
the API key; ``QDRANT__<SECTION>__<KEY>`` environment variables override the config file.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from components.identity.workload_identity import USE_LABEL
from components.kit import kubernetes as kube

APP = "qdrant"
HEADLESS_SERVICE = "qdrant-headless"
SERVICE_ACCOUNT = "qdrant"
SECRET_PROVIDER_CLASS = "qdrant-api-key"
API_KEY_ALIAS = "api-key"
API_KEY_FILE = f"{kube.SECRETS_MOUNT_PATH}/{API_KEY_ALIAS}"
HTTP_PORT = 6333
GRPC_PORT = 6334
HOME = "/qdrant"
STORAGE_VOLUME = "storage"
DISK_CSI_DRIVER = "disk.csi.azure.com"
# Loading large collections can take minutes; liveness only applies after startup.
STARTUP_PERIOD_SECONDS = 10
STARTUP_FAILURES = 60

SERVER_WRAPPER = """set -eu
QDRANT__SERVICE__API_KEY="$(cat "$QDRANT_API_KEY_FILE")"
export QDRANT__SERVICE__API_KEY
exec ./entrypoint.sh
"""
"""Exports the mounted API key and runs the image's entrypoint (it forwards SIGTERM)."""


def server_env() -> dict[str, str]:
    """Environment of the Qdrant container."""
    return {
        "QDRANT_API_KEY_FILE": API_KEY_FILE,
        "QDRANT_INIT_FILE_PATH": f"{HOME}/init/.qdrant-initialized",
        "QDRANT__TELEMETRY_DISABLED": "true",
        # The web UI is served without the API key; clients need only the API.
        "QDRANT__SERVICE__ENABLE_STATIC_CONTENT": "false",
    }


def selector_labels() -> dict[str, str]:
    """Selector labels of the Qdrant pods."""
    return kube.app_labels(APP, "vector-database")


def create_statefulset(
    name: str,
    *,
    namespace: str,
    image: str,
    storage_class: str,
    storage_size_gi: int,
    node_placement: kube.Placement,
    resources: k8s.core.v1.ResourceRequirementsArgs,
    opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.StatefulSet:
    """The Qdrant StatefulSet; its PVCs outlive it (retention policy Retain)."""
    selector = selector_labels()
    container = k8s.core.v1.ContainerArgs(
        name=APP,
        image=image,
        image_pull_policy=kube.IMAGE_PULL_POLICY,
        command=["/bin/sh", "-c", SERVER_WRAPPER],
        working_dir=HOME,
        env=kube.env_vars(server_env()),
        ports=[
            k8s.core.v1.ContainerPortArgs(name="http", container_port=HTTP_PORT),
            k8s.core.v1.ContainerPortArgs(name="grpc", container_port=GRPC_PORT),
        ],
        startup_probe=kube.http_probe(
            "/livez", "http", period=STARTUP_PERIOD_SECONDS, failures=STARTUP_FAILURES
        ),
        readiness_probe=kube.http_probe("/readyz", "http"),
        liveness_probe=kube.http_probe("/livez", "http", period=20),
        resources=resources,
        security_context=kube.container_security_context(),
        volume_mounts=[
            k8s.core.v1.VolumeMountArgs(name=STORAGE_VOLUME, mount_path=f"{HOME}/storage"),
            k8s.core.v1.VolumeMountArgs(name="snapshots", mount_path=f"{HOME}/snapshots"),
            k8s.core.v1.VolumeMountArgs(name="init", mount_path=f"{HOME}/init"),
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            kube.secrets_mount(),
        ],
    )
    pod = k8s.core.v1.PodSpecArgs(
        service_account_name=SERVICE_ACCOUNT,
        automount_service_account_token=False,
        # The image's files are root-owned and world-readable, so any non-root id runs it
        # (Qdrant's chart picks one too); fsGroup makes the data volume writable.
        security_context=kube.pod_security_context(fs_group=kube.UNPRIVILEGED_ID),
        node_selector=node_placement.node_selector(),
        tolerations=node_placement.tolerations(),
        containers=[container],
        volumes=[
            # Snapshots are staging space for the snapshot API (download them to keep them);
            # sized like the data volume so a full snapshot fits.
            kube.scratch_volume("snapshots", f"{storage_size_gi}Gi"),
            kube.scratch_volume("init", "1Mi"),
            kube.scratch_volume("tmp", "1Gi"),
            kube.secrets_volume(SECRET_PROVIDER_CLASS),
        ],
    )
    claim = k8s.core.v1.PersistentVolumeClaimArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=STORAGE_VOLUME, labels=selector),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                requests={"storage": f"{storage_size_gi}Gi"}
            ),
        ),
    )
    return k8s.apps.v1.StatefulSet(
        name,
        metadata=kube.workload_metadata(
            name=APP, namespace=namespace, labels=selector, images=[image]
        ),
        spec=k8s.apps.v1.StatefulSetSpecArgs(
            replicas=1,
            service_name=HEADLESS_SERVICE,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels={**selector, USE_LABEL: "true"}),
                spec=pod,
            ),
            volume_claim_templates=[claim],
            # Deleting or scaling the StatefulSet must never delete the data volumes.
            persistent_volume_claim_retention_policy=(
                k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                )
            ),
        ),
        opts=opts,
    )


def storage_class_name(zone_redundant: bool) -> str:
    """Name of the platform's class for the data volume."""
    return f"{APP}-premium-{'zrs' if zone_redundant else 'lrs'}"


def create_storage_class(
    name: str, *, zone_redundant: bool, retain: bool, opts: pulumi.ResourceOptions
) -> k8s.storage.v1.StorageClass:
    """A Premium SSD class of the Azure Disk CSI driver for the data volume.

    A locally redundant disk lives in one zone: on a pool that spans zones, a pod rescheduled
    into another zone could not attach it. A zone-redundant disk (``Premium_ZRS``) attaches in
    every zone of the region. AKS's built-in ``managed-csi-premium`` is LRS or ZRS depending on
    the cluster's zones, so the platform names the SKU itself. ``WaitForFirstConsumer`` creates
    the disk where the pod is scheduled. Disk SKUs (``skuName``):
    https://github.com/kubernetes-sigs/azuredisk-csi-driver/blob/master/docs/driver-parameters.md
    and https://learn.microsoft.com/azure/virtual-machines/disks-redundancy
    """
    return k8s.storage.v1.StorageClass(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=storage_class_name(zone_redundant), labels=kube.part_of_labels()
        ),
        provisioner=DISK_CSI_DRIVER,
        parameters={"skuName": "Premium_ZRS" if zone_redundant else "Premium_LRS"},
        # Protected stacks keep the Azure disk even if the claim is deleted by hand.
        reclaim_policy="Retain" if retain else "Delete",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=opts,
    )


def create_services(
    name: str, *, namespace: str, opts: pulumi.ResourceOptions
) -> tuple[k8s.core.v1.Service, k8s.core.v1.Service]:
    """The client Service (ClusterIP) and the headless Service governing the StatefulSet."""
    ports = [
        k8s.core.v1.ServicePortArgs(name="http", port=HTTP_PORT, target_port="http"),
        k8s.core.v1.ServicePortArgs(name="grpc", port=GRPC_PORT, target_port="grpc"),
    ]
    client = _service(f"{name}-service", APP, namespace, ports, headless=False, opts=opts)
    headless = _service(
        f"{name}-headless-service", HEADLESS_SERVICE, namespace, ports, headless=True, opts=opts
    )
    return client, headless


def _service(
    name: str,
    service_name: str,
    namespace: str,
    ports: list[k8s.core.v1.ServicePortArgs],
    *,
    headless: bool,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Service:
    labels: Mapping[str, str] = kube.part_of_labels()
    return k8s.core.v1.Service(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=service_name, namespace=namespace, labels=dict(labels)
        ),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            cluster_ip="None" if headless else None,
            selector=selector_labels(),
            ports=ports,
        ),
        opts=opts,
    )


def endpoint(namespace: str) -> str:
    """In-cluster HTTP endpoint of Qdrant."""
    return f"http://{APP}.{namespace}.svc.cluster.local:{HTTP_PORT}"


def collection_config(*, dimensions: int, distance: str) -> dict[str, object]:
    """Body of ``PUT /collections/<name>`` for the configured vectors (for ingestion)."""
    names = {"cosine": "Cosine", "l2": "Euclid", "inner_product": "Dot"}
    return {"vectors": {"size": dimensions, "distance": names[distance]}}
