"""Rules on the Kubernetes objects the program applies to the cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.kit import get, rule

POD_OWNERS = (
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
)
SERVICE = "kubernetes:core/v1:Service"
SECRET = "kubernetes:core/v1:Secret"
# A version-like tag (v1.2, 3.17.2-full, 17.10-alpine) or a digest; never `latest`.
_PINNED = re.compile(r"(@sha256:[0-9a-f]{64}$)|(:v?\d+(\.\d+)+[\w.-]*$)")
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|CONN(ECTION)?_?STR)", re.IGNORECASE
)
# An ACR login server (https://learn.microsoft.com/azure/container-registry/container-registry-get-started-portal).
_ACR_HOST = re.compile(r"^[a-z0-9]{5,50}\.azurecr\.io$")
# `<NAME>_FILE` / `_PATH` / `_DIR` carry where a mounted secret is, not the secret.
_LOCATION_SUFFIX = re.compile(r"_(FILE|PATH|DIR)$", re.IGNORECASE)
# https://learn.microsoft.com/azure/aks/internal-lb
INTERNAL_LB = "service.beta.kubernetes.io/azure-load-balancer-internal"


def pod_spec(props: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    """The pod spec inside a workload object."""
    if kind.endswith(":Pod"):
        return props.get("spec") or {}
    if kind.endswith(":CronJob"):
        return get(props, "spec.jobTemplate.spec.template.spec") or {}
    return get(props, "spec.template.spec") or {}


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Init and app containers."""
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


@rule("k8s-images-pinned", "Container images are pinned by version tag or digest", POD_OWNERS)
def k8s_images_pinned(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A floating tag deploys something nobody reviewed."""
    for c in containers(pod_spec(args.props, args.resource_type)):
        image = str(c.get("image", ""))
        if not _PINNED.search(image):
            report(
                f"container {c.get('name')}: image {image!r} is not pinned: use a version tag "
                "(e.g. :v1.2.3) or a digest (@sha256:...).",
                None,
            )


@rule(
    "k8s-images-from-acr",
    "Container images are pulled from an Azure Container Registry (the stack's, through its "
    "cache rules), never straight from a public registry",
    POD_OWNERS,
)
def k8s_images_from_acr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A public registry can serve anything under a tag, rate-limit, or go away mid-rollout."""
    for c in containers(pod_spec(args.props, args.resource_type)):
        image = str(c.get("image", ""))
        host = image.split("/", 1)[0] if "/" in image else ""
        if not _ACR_HOST.match(host):
            report(
                f"container {c.get('name')}: image {image!r} is not pulled from an Azure "
                "Container Registry: pull it through the stack registry's cache rule "
                "(<registry>.azurecr.io/<prefix>/<repository>, registry.cacheRulesEnabled).",
                None,
            )


@rule(
    "k8s-no-plaintext-secret-env",
    "No secret value is written into a container's environment",
    POD_OWNERS,
)
def k8s_no_plaintext_secret_env(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Env values end up in the object, in `kubectl describe` and in Pulumi state."""
    for c in containers(pod_spec(args.props, args.resource_type)):
        for env in c.get("env") or []:
            env_name = str(env.get("name", ""))
            if (
                "value" in env
                and _SECRET_NAME.search(env_name)
                and not _LOCATION_SUFFIX.search(env_name)
            ):
                report(
                    f"container {c.get('name')}: env {env.get('name')} carries a literal value: "
                    "mount it from Key Vault through the Secrets Store CSI driver instead.",
                    None,
                )


@rule(
    "k8s-containers-non-root-with-limits",
    "Containers run as non-root with CPU and memory limits",
    POD_OWNERS,
)
def k8s_containers_non_root_with_limits(
    args: ResourceValidationArgs, report: ReportViolation
) -> None:
    """Root in a container is one bug away from root on the node; no limits starve it."""
    spec = pod_spec(args.props, args.resource_type)
    pod_non_root = get(spec, "securityContext.runAsNonRoot") is True
    for c in containers(spec):
        non_root = get(c, "securityContext.runAsNonRoot")
        if not (non_root is True or (pod_non_root and non_root is not False)):
            report(f"container {c.get('name')}: set securityContext.runAsNonRoot true.", None)
        limits = get(c, "resources.limits") or {}
        if not {"cpu", "memory"} <= set(limits):
            report(f"container {c.get('name')}: set resources.limits cpu and memory.", None)


@rule("k8s-no-secret-objects", "No Kubernetes Secret objects (secrets stay in Key Vault)", [SECRET])
def k8s_no_secret_objects(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """A Secret is base64 in etcd and in Pulumi state."""
    report("Do not create a Secret: mount the value from Key Vault (SecretProviderClass).", None)


@rule("k8s-no-public-load-balancer", "No Service is exposed on a public load balancer", [SERVICE])
def k8s_no_public_load_balancer(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """Platform services are internal; a public IP is an explicit, reviewed decision."""
    if get(args.props, "spec.type") != "LoadBalancer":
        args.not_applicable("not a LoadBalancer service")
    annotations = get(args.props, "metadata.annotations") or {}
    if str(annotations.get(INTERNAL_LB, "")).lower() != "true":
        report(f'Annotate the Service with {INTERNAL_LB}: "true" (internal load balancer).', None)


RULES = (
    k8s_images_pinned,
    k8s_images_from_acr,
    k8s_no_plaintext_secret_env,
    k8s_containers_non_root_with_limits,
    k8s_no_secret_objects,
    k8s_no_public_load_balancer,
)
