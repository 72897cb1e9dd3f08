"""Kubernetes plumbing shared by the workload components (no component of its own).

- :func:`cluster_provider`: a Kubernetes provider for the AKS cluster. Local accounts are off,
  so the kubeconfig signs in through Entra ID with ``kubelogin`` (exec plugin);
  :func:`kubelogin_kubeconfig` rewrites the cluster-user kubeconfig for a non-interactive
  login mode (``azurecli`` by default: works after ``az login`` and after ``azure/login``).
- Key Vault secrets as files: :func:`key_vault_objects`, :func:`create_secret_provider_class`,
  :func:`secrets_volume`. No ``secretObjects``: nothing is copied into a Kubernetes Secret.
- Pod building blocks: restricted security contexts, :class:`Placement` on a user pool,
  standard labels, and the namespace / service account / ingress policy every workload has.

What a real ``pulumi up`` needs for the Kubernetes half: ``kubelogin`` on the PATH
(``az aks install-cli``), a signed-in Azure CLI (``az login`` on a laptop, ``azure/login`` in
CI) whose principal is in one of ``cluster.adminGroupObjectIds`` (or holds an AKS RBAC role),
and a network path to the API server (test/prod use a private API server: run from inside the
VNet or a runner peered to it). https://learn.microsoft.com/azure/aks/kubelogin-authentication
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_azure_native import containerservice

from components.identity.workload_identity import CLIENT_ID_ANNOTATION
from components.kit import checkov

# The Entra application that represents every AKS API server (the token audience), the
# `--server-id` of AKS's own exec kubeconfigs.
AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# kubelogin modes that need no browser or device code; each reads its settings from the
# environment (az CLI cache, AZURE_* variables, managed identity endpoint).
KUBELOGIN_MODES = ("azurecli", "workloadidentity", "spn", "msi")
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"

SECRETS_STORE_DRIVER = "secrets-store.csi.k8s.io"
SECRET_PROVIDER_CLASS_API = "secrets-store.csi.x-k8s.io/v1"
SECRETS_VOLUME = "secrets-store"
SECRETS_MOUNT_PATH = "/mnt/secrets-store"

# Checked by checkov on every rendered manifest (tests/manifests/test_checkov.py):
# - "Always": the kubelet checks the pod's own pull credentials on every start instead of
#   reusing an image another workload pulled onto the node; with a pinned tag it costs one
#   manifest request.
# - ids >= 10000: outside the range distributions give host users and daemons, so a
#   container escape does not land on a real host account's files.
IMAGE_PULL_POLICY = "Always"
MIN_UNPRIVILEGED_ID = 10000
UNPRIVILEGED_ID = 10001
"""User and group of every platform container (none of the images needs a particular id:
each writes only to mounted volumes, made group-writable through ``fsGroup``)."""

POOL_LABEL = "pool"
"""Node label every user pool carries (components/node_pools.py)."""
SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
# The taint the platform puts on GPU pools (components/cluster/node_pools.py) and the extended
# resource the NVIDIA device plugin advertises.
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_RESOURCE = "nvidia.com/gpu"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
PART_OF = "aks-mlops"
# ama-metrics, managed Prometheus's scraper (the cluster's azureMonitorProfile.metrics), runs in
# kube-system: the one namespace a /metrics port must admit.
METRICS_SCRAPER_NAMESPACE = "kube-system"


class KubeconfigError(ValueError):
    """The cluster-user kubeconfig cannot be turned into a kubelogin kubeconfig."""


def kubelogin_kubeconfig(raw: str, login_mode: str = "azurecli") -> str:
    """``raw`` with every user signing in through ``kubelogin get-token --login <mode>``.

    The cluster-user credentials of an Entra-enabled cluster come with an exec plugin set to
    the interactive device-code flow, which a ``pulumi up`` cannot answer.
    """
    if login_mode not in KUBELOGIN_MODES:
        raise KubeconfigError(f"login mode ({login_mode!r}) must be one of {KUBELOGIN_MODES}")
    try:
        doc = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise KubeconfigError("cluster-user kubeconfig is not YAML") from exc
    if not isinstance(doc, dict):
        raise KubeconfigError("cluster-user kubeconfig is not a mapping")
    exec_plugin = {
        "apiVersion": EXEC_API_VERSION,
        "command": "kubelogin",
        "args": ["get-token", "--login", login_mode, "--server-id", AKS_AAD_SERVER_APP_ID],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
        "installHint": "install kubelogin (az aks install-cli) and run `az login`",
    }
    doc["users"] = [
        {"name": user["name"], "user": {"exec": dict(exec_plugin)}}
        for user in doc.get("users") or []
    ]
    return yaml.safe_dump(doc, sort_keys=False)


def cluster_provider(
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    login_mode: str = "azurecli",
    reachable_after: Sequence[pulumi.Input[str]] = (),
    opts: pulumi.ResourceOptions | None = None,
) -> k8s.Provider:
    """A Kubernetes provider for the cluster, from its cluster-user credentials.

    ``reachable_after``: ids of what must exist before anything is applied to the cluster:
    the deployer's path to the API server (VNet peerings, the private DNS zone's links to the
    runners' VNet) and what pods pull their images through (the kubelet's AcrPull, the
    registry's cache rules). The kubeconfig carries them, so the provider, and everything
    applied through it, waits for them.
    """
    credentials = containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=resource_group_name,
        resource_name=cluster_name,
        format="exec",
    )

    def _kubeconfig(result: containerservice.ListManagedClusterUserCredentialsResult) -> str:
        if not result.kubeconfigs:
            raise KubeconfigError("the cluster returned no user kubeconfig")
        raw = base64.b64decode(result.kubeconfigs[0].value).decode()
        return kubelogin_kubeconfig(raw, login_mode)

    # The kubeconfig carries the cluster's CA and endpoint: keep it out of plain state.
    ready = pulumi.Output.all(credentials.apply(_kubeconfig), *reachable_after)
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(ready.apply(lambda values: values[0]))
    return k8s.Provider(name, kubeconfig=kubeconfig, opts=opts)


class BlockDumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks, so the parameter reads like Azure's examples."""


def block_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


BlockDumper.add_representer(str, block_str)


def key_vault_objects(aliases: Mapping[str, str]) -> str:
    """The Azure provider's ``objects`` parameter: secret name by file name (alias).

    The provider reads a YAML ``array`` of strings, each itself a YAML document.
    """
    items = [
        yaml.safe_dump(
            {"objectName": secret, "objectType": "secret", "objectAlias": alias},
            sort_keys=False,
        )
        for alias, secret in sorted(aliases.items())
    ]
    return yaml.dump({"array": items}, Dumper=BlockDumper, sort_keys=False)


def create_secret_provider_class(
    name: str,
    *,
    namespace: str,
    class_name: str,
    key_vault_name: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    client_id: pulumi.Input[str],
    secrets: Mapping[str, pulumi.Input[str]],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    """A SecretProviderClass mounting Key Vault ``secrets`` (file name -> secret name)."""
    aliases = sorted(secrets)
    objects = pulumi.Output.all(*(secrets[a] for a in aliases)).apply(
        lambda names: key_vault_objects(dict(zip(aliases, names, strict=True)))
    )
    return k8s.apiextensions.CustomResource(
        name,
        api_version=SECRET_PROVIDER_CLASS_API,
        kind="SecretProviderClass",
        metadata={"name": class_name, "namespace": namespace, "labels": part_of_labels()},
        spec={
            "provider": "azure",
            "parameters": {
                # Workload identity: the driver exchanges the pod's service-account token.
                "usePodIdentity": "false",
                "clientID": client_id,
                "keyvaultName": key_vault_name,
                "tenantId": tenant_id,
                "objects": objects,
            },
        },
        opts=opts,
    )


def secrets_volume(class_name: str) -> k8s.core.v1.VolumeArgs:
    """The CSI volume that materialises a SecretProviderClass as read-only files."""
    return k8s.core.v1.VolumeArgs(
        name=SECRETS_VOLUME,
        csi=k8s.core.v1.CSIVolumeSourceArgs(
            driver=SECRETS_STORE_DRIVER,
            read_only=True,
            volume_attributes={"secretProviderClass": class_name},
        ),
    )


def secrets_mount() -> k8s.core.v1.VolumeMountArgs:
    """Where the secret files appear in the container."""
    return k8s.core.v1.VolumeMountArgs(
        name=SECRETS_VOLUME, mount_path=SECRETS_MOUNT_PATH, read_only=True
    )


def scratch_volume(name: str, size_limit: str) -> k8s.core.v1.VolumeArgs:
    """A bounded emptyDir: the only writable paths when the root filesystem is read-only."""
    return k8s.core.v1.VolumeArgs(
        name=name, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=size_limit)
    )


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Which node pool a workload runs on."""

    pool: str
    """Value of the ``pool`` node label (the CPU user pool). GPU pools are tainted, the
    system pool is tainted ``CriticalAddonsOnly``: selecting the pool keeps workloads off both."""
    spot: bool = False
    """The pool is a spot pool: tolerate AKS's spot taint."""
    gpu: bool = False
    """The pool is a GPU pool: tolerate the platform's ``nvidia.com/gpu`` taint (the workload
    must also request ``nvidia.com/gpu``, see :func:`gpu_limits`)."""

    def node_selector(self) -> dict[str, str]:
        """Node selector for the pool."""
        return {POOL_LABEL: self.pool}

    def tolerations(self) -> list[k8s.core.v1.TolerationArgs] | None:
        """The GPU and spot tolerations the pool's taints call for, else none."""
        tolerations = []
        if self.gpu:
            tolerations.append(
                k8s.core.v1.TolerationArgs(
                    key=GPU_TAINT_KEY, operator="Exists", effect="NoSchedule"
                )
            )
        if self.spot:
            tolerations.append(
                k8s.core.v1.TolerationArgs(
                    key=SPOT_TAINT_KEY, operator="Equal", value="spot", effect="NoSchedule"
                )
            )
        return tolerations or None


def gpu_limits(count: int) -> dict[str, str]:
    """The extended resource a pod on a GPU pool requests (limits only: Kubernetes sets the
    request equal to the limit for extended resources)."""
    return {GPU_RESOURCE: str(count)} if count > 0 else {}


def pod_security_context(
    *,
    run_as_user: int = UNPRIVILEGED_ID,
    run_as_group: int = UNPRIVILEGED_ID,
    fs_group: int | None = None,
) -> k8s.core.v1.PodSecurityContextArgs:
    """Non-root with high ids, RuntimeDefault seccomp (Pod Security Standard "restricted")."""
    for value in (run_as_user, run_as_group, fs_group):
        if value is not None and value < MIN_UNPRIVILEGED_ID:
            raise ValueError(f"id {value} must be >= {MIN_UNPRIVILEGED_ID} (not a host account)")
    return k8s.core.v1.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=run_as_user,
        run_as_group=run_as_group,
        fs_group=fs_group,
        fs_group_change_policy="OnRootMismatch" if fs_group is not None else None,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security_context() -> k8s.core.v1.SecurityContextArgs:
    """No privilege escalation, no capabilities, read-only root filesystem."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def env_vars(env: Mapping[str, str]) -> list[k8s.core.v1.EnvVarArgs]:
    """A container's ``env`` from a mapping (order kept)."""
    return [k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in env.items()]


def part_of_labels() -> dict[str, str]:
    """Labels on every object the platform creates."""
    return {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"}


def workload_metadata(
    *,
    name: pulumi.Input[str],
    namespace: str,
    labels: Mapping[str, str],
    images: Sequence[str],
    skips: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Metadata of a workload (Deployment, StatefulSet, DaemonSet, Job).

    Labels: the platform's plus ``labels``. Annotations: ``annotations`` plus the checkov
    waivers the object needs, i.e. ``skips`` (check id -> reason) and the digest waiver while
    an image is pinned by tag.
    """
    waivers = checkov.skip_annotations({**checkov.image_skips(*images), **(skips or {})})
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace,
        labels={**part_of_labels(), **labels},
        annotations={**(annotations or {}), **waivers} or None,
    )


def app_labels(app: str, component: str) -> dict[str, str]:
    """Selector labels of one workload (stable: a selector change replaces the workload)."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/component": component}


def resources(
    *, cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str
) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests and limits."""
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": cpu_request, "memory": memory_request},
        limits={"cpu": cpu_limit, "memory": memory_limit},
    )


def create_namespace(
    name: str,
    namespace: str,
    *,
    opts: pulumi.ResourceOptions,
    enforce: str = "restricted",
    warn: str | None = "restricted",
) -> k8s.core.v1.Namespace:
    """A namespace that enforces the ``enforce`` Pod Security Standard ("restricted" unless
    its pods cannot meet it) and warns on what ``warn`` would refuse."""
    labels = {**part_of_labels(), "pod-security.kubernetes.io/enforce": enforce}
    if warn is not None:
        labels["pod-security.kubernetes.io/warn"] = warn
    return k8s.core.v1.Namespace(
        name, metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels), opts=opts
    )


def create_cluster_ip_service(
    name: str,
    *,
    namespace: str,
    service_name: str,
    selector: Mapping[str, str],
    port_name: str,
    port: int,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Service:
    """A ClusterIP Service (never a load balancer) forwarding ``port`` to the selected pods'
    container port named ``port_name``."""
    return k8s.core.v1.Service(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=service_name, namespace=namespace, labels=part_of_labels()
        ),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=dict(selector),
            ports=[
                k8s.core.v1.ServicePortArgs(
                    name=port_name, port=port, target_port=port_name, protocol="TCP"
                )
            ],
        ),
        opts=opts,
    )


def create_node_agent_namespace(
    name: str, namespace: str, *, opts: pulumi.ResourceOptions
) -> k8s.core.v1.Namespace:
    """A namespace for node agents (GPU device plugin, DCGM exporter): they mount kubelet host
    paths, which only the "privileged" Pod Security Standard admits."""
    return create_namespace(name, namespace, opts=opts, enforce="privileged", warn=None)


def create_service_account(
    name: str,
    *,
    namespace: str,
    account: str,
    client_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.ServiceAccount:
    """A service account bound to a workload identity (its client id annotation)."""
    return k8s.core.v1.ServiceAccount(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=account,
            namespace=namespace,
            labels=part_of_labels(),
            annotations={CLIENT_ID_ANNOTATION: client_id},
        ),
        # Workloads here never call the Kubernetes API; the workload identity webhook and
        # the CSI driver project their own tokens.
        automount_service_account_token=False,
        opts=opts,
    )


def create_ingress_policy(
    name: str,
    *,
    namespace: str,
    policy_name: str,
    pod_labels: Mapping[str, str],
    ports: Sequence[int],
    from_namespaces: Sequence[str],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """Admit TCP ``ports`` of the selected pods only from ``from_namespaces``.

    An empty ``ports`` list makes it a deny-all-ingress policy for the selected pods.
    """
    rules = (
        [
            k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                from_=[
                    k8s.networking.v1.NetworkPolicyPeerArgs(
                        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                            match_expressions=[
                                k8s.meta.v1.LabelSelectorRequirementArgs(
                                    key=NAMESPACE_NAME_LABEL,
                                    operator="In",
                                    values=sorted(set(from_namespaces)),
                                )
                            ]
                        )
                    )
                ],
                ports=[
                    k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)
                    for port in ports
                ],
            )
        ]
        if ports
        else None
    )
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=policy_name, namespace=namespace, labels=part_of_labels()
        ),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            # An empty selector ({}) selects every pod of the namespace.
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pod_labels) or None),
            policy_types=["Ingress"],
            ingress=rules,
        ),
        opts=opts,
    )


def http_probe(
    path: str, port: str, *, period: int = 10, failures: int = 3, timeout: int = 5
) -> k8s.core.v1.ProbeArgs:
    """An HTTP GET probe on a named container port."""
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=timeout,
    )
