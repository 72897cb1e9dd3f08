"""Program-wide semantics of the Pulumi graph, over every shipped stack: where each Azure
resource lives, which provider deploys each resource, who each component's parent is, that no
Azure resource is auto-named, and the metadata every Kubernetes object carries.

Each check is a function over a list of ``RecordedResource`` (so the negative tests below can
feed it a hand-made bad registration) and runs over the whole recorded program, so a resource
added later is checked too. Expectations are literals (Azure's docs, the composition's intent),
never read from the product's constants.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import pulumi
import pytest

from offline.runner import OfflineRun, RecordedResource
from tests.components.helpers import NODES_SUBNET_ID, RG, SUB
from tests.conftest import STACKS
from tests.k8s_semantics import pod_templates
from tests.records import recorded as _res
from tests.stacks.test_wiring import plain_config

STACK_TYPE = "pulumi:pulumi:Stack"
CLUSTER_ID = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/"
    "managedClusters/aks-unit"
)


@cache
def _sdk_init(typ: str) -> inspect.Signature:
    _, module, name = typ.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return inspect.signature(cls._internal_init)


@cache
def _sdk_required(typ: str) -> frozenset[str]:
    """Inputs the SDK class refuses to go without (its ``Missing required property`` checks)."""
    _, module, name = typ.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    source = inspect.getsource(cls._internal_init)
    return frozenset(re.findall(r"Missing required property '(\w+)'", source))


def _azure(resources: Iterable[RecordedResource]) -> list[RecordedResource]:
    return [r for r in resources if r.type.startswith("azure-native:")]


# --- 1. location ----------------------------------------------------------------------------

# Types Azure only accepts in the "global" location, written out with the page that says so:
# - private DNS zones and their virtual network links are global resources
#   (https://learn.microsoft.com/rest/api/dns/privatedns/privatezones/create-or-update and
#   .../virtualnetworklinks/create-or-update: the samples' "location": "global");
# - action groups are global (https://learn.microsoft.com/azure/azure-monitor/alerts/
#   resource-manager-action-groups: `location: 'Global'`).
GLOBAL_TYPES = frozenset(
    {
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        "azure-native:monitor:ActionGroup",
    }
)
# Types whose `location` the program leaves unset on purpose, with the reason.
NO_LOCATION_TYPES = {
    # "The location of the policy assignment. Only required when utilizing managed identity."
    # (https://learn.microsoft.com/python/api/azure-mgmt-resource-policy/azure.mgmt.resource.
    # policy.models.policyassignment): the allowed-images assignment is audit/deny only, no
    # identity (asserted below).
    "azure-native:authorization:PolicyAssignment",
}


def accepts_location(typ: str) -> bool:
    return "location" in _sdk_init(typ).parameters


def location_problems(resources: Iterable[RecordedResource], region: str) -> list[str]:
    """Every azure-native resource that takes a location is given the stack's region, or
    "global" where Azure requires it."""
    problems = []
    for r in _azure(resources):
        if not accepts_location(r.type):
            continue
        if r.type in NO_LOCATION_TYPES:
            if "location" in r.inputs or r.inputs.get("identity"):
                problems.append(f"{r.name}: {r.type} with a location or identity: revisit")
            continue
        expected = "global" if r.type in GLOBAL_TYPES else region
        if r.inputs.get("location") != expected:
            problems.append(f"{r.name}: location {r.inputs.get('location')!r} != {expected!r}")
    return problems


def test_semantics_location_check_catches_a_missing_or_wrong_location() -> None:
    good = [
        _res("azure-native:monitor:AzureMonitorWorkspace", "amw", {"location": "westeurope"}),
        _res("azure-native:privatedns:PrivateZone", "zone", {"location": "global"}),
        _res("azure-native:authorization:PolicyAssignment", "pa", {}),
        _res("azure-native:authorization:RoleAssignment", "ra", {}),  # takes no location
    ]
    assert location_problems(good, "westeurope") == []
    bad = [
        _res("azure-native:monitor:AzureMonitorWorkspace", "amw", {}),
        _res("azure-native:managedidentity:UserAssignedIdentity", "id", {"location": "eastus"}),
        _res("azure-native:privatedns:VirtualNetworkLink", "link", {"location": "westeurope"}),
        _res("azure-native:monitor:ActionGroup", "ag", {}),
    ]
    assert [p.split(":")[0] for p in location_problems(bad, "westeurope")] == [
        "amw",
        "id",
        "link",
        "ag",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_azure_resource_is_in_the_stack_region(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    region = plain_config(stack)["location"]
    resources = stack_runs[stack].resources
    located = [r for r in _azure(resources) if accepts_location(r.type)]
    assert len(located) >= 30, f"{stack}: only {len(located)} located resources"
    assert {r.type for r in located} >= GLOBAL_TYPES - {"azure-native:privatedns:PrivateZone"}
    assert location_problems(resources, region) == []


# --- 2. providers ---------------------------------------------------------------------------

# The explicit providers the program creates, by package: one Kubernetes provider for the
# AKS cluster (never the ambient kubeconfig), one Grafana provider for the dashboards.
# Everything else (azure-native, random) uses the default provider of its package.
EXPLICIT_PROVIDERS = {"kubernetes": 1, "grafana": 1}


def _package(typ: str) -> str:
    return typ.split(":", maxsplit=1)[0]


def provider_problems(resources: Iterable[RecordedResource]) -> list[str]:
    """Every resource of a package that has an explicit provider in the run uses one of them
    (a reference to a provider registered in this run), never the package's default."""
    resources = list(resources)
    providers: dict[str, set[str]] = {}
    for r in resources:
        if r.type.startswith("pulumi:providers:"):
            providers.setdefault(r.type.removeprefix("pulumi:providers:"), set()).add(r.urn)
    problems = []
    for r in resources:
        if not r.custom or r.type.startswith("pulumi:"):
            continue
        explicit = providers.get(_package(r.type))
        if not explicit:
            continue
        used = r.provider.rsplit("::", 1)[0] if r.provider else ""
        if used not in explicit:
            problems.append(f"{r.name}: {r.type} deployed by {r.provider or 'the default'}")
    return problems


def test_semantics_provider_check_catches_the_default_provider() -> None:
    provider = _res("pulumi:providers:kubernetes", "k8s")
    ref = f"{provider.urn}::k8s-id"
    good = [provider, _res("kubernetes:core/v1:Namespace", "ns", provider=ref)]
    assert provider_problems(good) == []
    bad = [
        *good,
        _res("kubernetes:core/v1:ConfigMap", "cm"),
        _res("kubernetes:apps/v1:Deployment", "dep", provider="urn:other::x::id"),
    ]
    assert [p.split(":")[0] for p in provider_problems(bad)] == ["cm", "dep"]


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_resource_uses_the_programs_explicit_provider(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    resources = stack_runs[stack].resources
    counts: dict[str, int] = {}
    for r in resources:
        if r.type.startswith("pulumi:providers:"):
            package = r.type.removeprefix("pulumi:providers:")
            counts[package] = counts.get(package, 0) + 1
    assert counts == EXPLICIT_PROVIDERS
    assert len([r for r in resources if _package(r.type) == "kubernetes"]) >= 40
    assert provider_problems(resources) == []


# --- 3. opts honoured: parents and inherited providers --------------------------------------

# Component logical name -> its parent component's logical name (None: the stack), as the
# composition (infra/) intends, written for dev; test and prod must agree for the components
# they have (test/prod add Defender; node pools are `pool-<config name>` in every stack).
COMPONENT_PARENTS: dict[str, str | None] = {
    "network": None,
    "logs": None,
    "aks": None,
    "pool-*": None,
    "allowed-images": None,
    "defender": None,  # where security.defenderEnabled
    "registry": None,
    "datalake": None,
    "postgres": None,
    "keyvault": None,
    "container-insights": None,
    "prometheus": None,
    "diagnostics": None,
    "alerts-action-group": None,
    "rule-groups": None,
    "grafana": None,
    "dashboards": None,
    "db-roles": None,
    "db-roles-identity": "db-roles",
    "mlflow": None,
    "mlflow-identity": "mlflow",
    "vector-store": None,
    "vector-store-identity": "vector-store",
    "gpu-device-plugin": None,
    "gpu-telemetry": None,
    "workflows": None,
    "workflows-ingest-identity": "workflows",
    "workflows-retrain-identity": "workflows",
    "workflows-monitor-identity": "workflows",
    "workflows-keda-identity": "workflows",
    "kuberay": None,  # where workflows.ray.enabled
    "serving": None,
    "serving-keda-reader": "serving",
}
# Components that deploy to the cluster: every Kubernetes resource below them goes through the
# program's Kubernetes provider they are given.
K8S_COMPONENTS = frozenset(
    {
        "db-roles",
        "mlflow",
        "vector-store",
        "gpu-device-plugin",
        "gpu-telemetry",
        "workflows",
        "kuberay",
        "serving",
    }
)
# Custom resources the program registers at the stack's root (everything else belongs to a
# component): the Kubernetes provider and the generated database passwords.
ROOT_RESOURCES = frozenset(
    {
        "aks-kubernetes",
        "postgres-admin-password",
        "postgres-mlflow-password",
        "postgres-vectors-password",
    }
)


def _table_key(name: str) -> str:
    return "pool-*" if name.startswith("pool-") else name


def parent_problems(resources: Iterable[RecordedResource]) -> list[str]:
    """Each component under the parent the table names; no custom resource at the root but
    the listed ones."""
    resources = list(resources)
    names = {r.urn: r.name for r in resources if r.type != STACK_TYPE}
    problems = []
    for r in resources:
        if r.type == STACK_TYPE:
            continue
        parent = names.get(r.parent)  # None: the stack (or no parent)
        if not r.custom:
            key = _table_key(r.name)
            if key not in COMPONENT_PARENTS:
                problems.append(f"{r.name}: component missing from COMPONENT_PARENTS")
            elif COMPONENT_PARENTS[key] != parent:
                problems.append(f"{r.name}: parent {parent} != {COMPONENT_PARENTS[key]}")
        elif parent is None and r.name not in ROOT_RESOURCES:
            problems.append(f"{r.name}: {r.type} registered outside any component")
    return problems


def descendants(resources: list[RecordedResource], urn: str) -> list[RecordedResource]:
    children: dict[str, list[RecordedResource]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r)
    found, todo = [], [urn]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.urn)
    return found


def test_semantics_parent_check_catches_a_dropped_parent() -> None:
    stack = _res(STACK_TYPE, "aks-mlops-unit", custom=False)
    mlflow = _res("aks-mlops:workloads:Mlflow", "mlflow", parent=stack.urn, custom=False)
    good = [
        stack,
        mlflow,
        _res(
            "aks-mlops:identity:WorkloadIdentity",
            "mlflow-identity",
            parent=mlflow.urn,
            custom=False,
        ),
        _res("azure-native:authorization:RoleAssignment", "mlflow-ra", parent=mlflow.urn),
    ]
    assert parent_problems(good) == []
    bad = [
        stack,
        mlflow,
        _res(
            "aks-mlops:identity:WorkloadIdentity", "mlflow-identity", parent=stack.urn, custom=False
        ),
        _res("azure-native:network:PrivateEndpoint", "keyvault-pep", parent=stack.urn),
        _res("aks-mlops:unit:New", "new", parent=stack.urn, custom=False),
    ]
    assert [p.split(":")[0] for p in parent_problems(bad)] == [
        "mlflow-identity",
        "keyvault-pep",
        "new",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_component_has_the_parent_the_composition_intends(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    resources = stack_runs[stack].resources
    components = {_table_key(r.name) for r in resources if not r.custom and r.type != STACK_TYPE}
    # Every row is in every stack but the two a stack file switches on.
    cfg = plain_config(stack)
    switched = {
        # Defender for Containers is on unless a stack file turns it off.
        "defender": (cfg.get("security") or {}).get("defenderEnabled", True),
        "kuberay": bool(((cfg.get("workflows") or {}).get("ray") or {}).get("enabled")),
    }
    expected = {k for k in COMPONENT_PARENTS if switched.get(k, True)}
    assert components == expected
    assert parent_problems(resources) == []


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_cluster_components_deploy_through_the_kubernetes_provider(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    resources = stack_runs[stack].resources
    (provider,) = [r for r in resources if r.type == "pulumi:providers:kubernetes"]
    for component in (r for r in resources if not r.custom and r.type != STACK_TYPE):
        on_cluster = [
            r for r in descendants(resources, component.urn) if _package(r.type) == "kubernetes"
        ]
        assert bool(on_cluster) == (component.name in K8S_COMPONENTS), component.name
        wrong = [r.name for r in on_cluster if r.provider.rsplit("::", 1)[0] != provider.urn]
        assert not wrong, f"{stack}: {component.name}'s children not on the cluster provider"


# --- 4. names -------------------------------------------------------------------------------

# azure-native type -> the input (wire name) that carries the resource's own Azure name. Left
# out, the provider auto-names the resource (a random suffix, or a GUID): a name nobody chose,
# not the naming module's, and a new one on every replacement.
OWN_NAME = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:network:PrivateDnsZoneGroup": "privateDnsZoneGroupName",
    "azure-native:network:VirtualNetworkPeering": "virtualNetworkPeeringName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:containerservice:AgentPool": "agentPoolName",
    "azure-native:containerservice:MaintenanceConfiguration": "configName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:containerregistry:CacheRule": "cacheRuleName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "federatedIdentityCredentialResourceName"
    ),
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:storage:BlobServiceProperties": "blobServicesName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:keyvault:Secret": "secretName",
    "azure-native:dbforpostgresql:Server": "serverName",
    "azure-native:dbforpostgresql:Database": "databaseName",
    "azure-native:dbforpostgresql:Configuration": "configurationName",
    "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra": "objectId",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:monitor:AzureMonitorWorkspace": "azureMonitorWorkspaceName",
    "azure-native:monitor:DataCollectionEndpoint": "dataCollectionEndpointName",
    "azure-native:monitor:DataCollectionRule": "dataCollectionRuleName",
    "azure-native:monitor:DataCollectionRuleAssociation": "associationName",
    "azure-native:monitor:DiagnosticSetting": "name",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:alertsmanagement:PrometheusRuleGroup": "ruleGroupName",
    "azure-native:dashboard:Grafana": "workspaceName",
    "azure-native:authorization:PolicyAssignment": "policyAssignmentName",
    "azure-native:security:Pricing": "pricingName",
}
# Types left to the provider's naming, with the reason.
AUTO_NAMED = {
    # A role assignment's name is a GUID nobody reads; what identifies it is (scope, role,
    # principal), each of which replaces it when changed.
    "azure-native:authorization:RoleAssignment",
}


def _snake(wire: str) -> str:
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", wire).lower()
    return "resource_name_" if snake == "resource_name" else snake


def name_problems(resources: Iterable[RecordedResource]) -> list[str]:
    problems = []
    for r in _azure(resources):
        if r.type in AUTO_NAMED:
            continue
        key = OWN_NAME.get(r.type)
        if key is None:
            problems.append(f"{r.name}: {r.type} missing from OWN_NAME")
        elif not isinstance(r.inputs.get(key), str) or not r.inputs[key]:
            problems.append(f"{r.name}: no {key}: auto-named")
    return problems


def test_semantics_name_check_catches_an_auto_named_resource() -> None:
    link = "azure-native:privatedns:VirtualNetworkLink"
    good = [
        _res(link, "link", {"privateZoneName": "z", "virtualNetworkLinkName": "l"}),
        _res("azure-native:authorization:RoleAssignment", "ra", {}),
    ]
    assert name_problems(good) == []
    bad = [
        _res(link, "link", {"privateZoneName": "z"}),
        _res("azure-native:network:VirtualNetworkPeering", "peer", {"virtualNetworkName": "v"}),
        _res("azure-native:containerservice:AgentPool", "pool", {"agentPoolName": ""}),
        _res("azure-native:network:NatGateway", "nat", {"natGatewayName": "n"}),
    ]
    assert [p.split(":")[0] for p in name_problems(bad)] == ["link", "peer", "pool", "nat"]


@pytest.mark.parametrize(("typ", "key"), sorted(OWN_NAME.items()))
def test_semantics_own_name_table_names_the_resources_own_input(typ: str, key: str) -> None:
    """The SDK takes the input, and it is optional (a parent's name is required: e.g. a
    VirtualNetworkLink's privateZoneName is its zone's, virtualNetworkLinkName its own)."""
    param = _snake(key)
    assert param in _sdk_init(typ).parameters, f"{typ} takes no {param}"
    assert param not in _sdk_required(typ), f"{typ}.{param} is required: a parent's name"


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_no_azure_resource_is_auto_named(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    resources = stack_runs[stack].resources
    assert len(_azure(resources)) >= 80
    assert name_problems(resources) == []


# --- 5. Kubernetes metadata -----------------------------------------------------------------

# The labels every object the platform creates carries (app.kubernetes.io/* are Kubernetes'
# recommended labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/
# common-labels/).
PLATFORM_LABELS = {
    "app.kubernetes.io/part-of": "aks-mlops",
    "app.kubernetes.io/managed-by": "pulumi",
}
PSA = "pod-security.kubernetes.io/"
ENFORCE = f"{PSA}enforce"
WARN = f"{PSA}warn"
# Namespace -> Pod Security Standard it enforces (README: "restricted" wherever the pods
# allow it; the GPU node agents mount kubelet host paths, which only "privileged" admits;
# KAITO generates the LLM inference pods, so "baseline").
NAMESPACE_ENFORCE = {
    "db-roles": "restricted",
    "mlflow": "restricted",
    "vector-store": "restricted",
    "qdrant": "restricted",
    "workflows": "restricted",
    "ray-system": "restricted",
    "serving": "restricted",
    "gpu-resources": "privileged",
    "gpu-telemetry": "privileged",
    "llm": "baseline",
}
# Kubernetes resources that are not objects with metadata (a Helm release is a record of the
# provider's, whose objects the chart labels).
NOT_OBJECTS = frozenset({"kubernetes:helm.sh/v3:Release"})


def metadata_problems(resources: Iterable[RecordedResource]) -> list[str]:
    problems = []
    for r in resources:
        if _package(r.type) != "kubernetes" or r.type in NOT_OBJECTS:
            continue
        labels = (r.inputs.get("metadata") or {}).get("labels") or {}
        missing = {k: v for k, v in PLATFORM_LABELS.items() if labels.get(k) != v}
        if missing:
            problems.append(f"{r.name}: {r.type} lacks {missing}")
        if r.type == "kubernetes:core/v1:Namespace":
            namespace = r.inputs["metadata"].get("name")
            expected = NAMESPACE_ENFORCE.get(namespace)
            if expected is None or labels.get(ENFORCE) != expected:
                problems.append(f"{r.name}: {namespace} enforces {labels.get(ENFORCE)}")
            # Every namespace but the node agents' also warns on what "restricted" refuses
            # (kubectl and the API show the warning when a pod would fail the stricter level).
            warn = None if expected == "privileged" else "restricted"
            if labels.get(WARN) != warn:
                problems.append(f"{r.name}: {namespace} warns at {labels.get(WARN)}")
            extra = sorted(k for k in labels if k.startswith(PSA) and k not in {ENFORCE, WARN})
            if extra:
                problems.append(f"{r.name}: {namespace} sets {extra}")
    return problems


def test_semantics_metadata_check_catches_unlabelled_objects() -> None:
    ns = "kubernetes:core/v1:Namespace"
    good = [
        _res(
            ns,
            "ns",
            {
                "metadata": {
                    "name": "llm",
                    "labels": {**PLATFORM_LABELS, ENFORCE: "baseline", WARN: "restricted"},
                }
            },
        ),
        _res(
            ns,
            "agents",
            {
                "metadata": {
                    "name": "gpu-resources",
                    "labels": {**PLATFORM_LABELS, ENFORCE: "privileged"},
                }
            },
        ),
        _res("kubernetes:helm.sh/v3:Release", "chart", {"name": "x"}),
    ]
    assert metadata_problems(good) == []
    warn_dropped = _res(
        ns,
        "w",
        {"metadata": {"name": "mlflow", "labels": {**PLATFORM_LABELS, ENFORCE: "restricted"}}},
    )
    assert metadata_problems([warn_dropped]) == ["w: mlflow warns at None"]
    audit = _res(
        ns,
        "x",
        {
            "metadata": {
                "name": "gpu-telemetry",
                "labels": {**PLATFORM_LABELS, ENFORCE: "privileged", f"{PSA}audit": "baseline"},
            }
        },
    )
    assert metadata_problems([audit]) == [
        "x: gpu-telemetry sets ['pod-security.kubernetes.io/audit']"
    ]
    bad = [
        _res(ns, "a", {"metadata": {"name": "mlflow", "labels": dict(PLATFORM_LABELS)}}),
        _res(
            ns,
            "b",
            {"metadata": {"name": "llm", "labels": {**PLATFORM_LABELS, ENFORCE: "restricted"}}},
        ),
        _res(
            ns,
            "c",
            {"metadata": {"name": "new", "labels": {**PLATFORM_LABELS, ENFORCE: "restricted"}}},
        ),
        _res("kubernetes:storage.k8s.io/v1:StorageClass", "d", {"metadata": {"name": "x"}}),
        _res(
            "kubernetes:core/v1:ConfigMap",
            "e",
            {"metadata": {"labels": {**PLATFORM_LABELS, "app.kubernetes.io/part-of": "x"}}},
        ),
    ]
    # (a, b and c also lack the warn label.)
    assert sorted({p.split(":")[0] for p in metadata_problems(bad)}) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_kubernetes_object_carries_the_platform_labels(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    resources = stack_runs[stack].resources
    namespaces = [r for r in resources if r.type == "kubernetes:core/v1:Namespace"]
    assert len(namespaces) >= 7
    assert metadata_problems(resources) == []


def test_semantics_namespace_table_has_no_stale_rows(stack_runs: dict[str, OfflineRun]) -> None:
    seen = {
        r.inputs["metadata"]["name"]
        for run in stack_runs.values()
        for r in run.of_type("kubernetes:core/v1:Namespace")
    }
    assert seen == set(NAMESPACE_ENFORCE)


# --- 6. a workload waits for what its pods use ----------------------------------------------
# A pod that names a ServiceAccount, ConfigMap, SecretProviderClass or claim that does not exist
# yet is refused or stuck (FailedMount) until it does: every such object the program creates is
# in the workload's recorded dependencies, so `pulumi up` applies it first.


def _pod_references(template: dict[str, Any]) -> Iterable[tuple[str, str]]:
    spec = template.get("spec") or {}
    if spec.get("serviceAccountName"):
        yield "ServiceAccount", spec["serviceAccountName"]
    for volume in spec.get("volumes") or []:
        if volume.get("configMap"):
            yield "ConfigMap", volume["configMap"]["name"]
        attributes = (volume.get("csi") or {}).get("volumeAttributes") or {}
        if attributes.get("secretProviderClass"):
            yield "SecretProviderClass", attributes["secretProviderClass"]
        if volume.get("persistentVolumeClaim"):
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            if source.get("configMapRef"):
                yield "ConfigMap", source["configMapRef"]["name"]
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                yield "ConfigMap", ref["name"]


def _identity(r: RecordedResource) -> tuple[str, str | None, str | None]:
    meta = r.inputs.get("metadata") or {}
    return r.inputs["kind"], meta.get("namespace"), meta.get("name")


def reference_problems(resources: Iterable[RecordedResource]) -> tuple[int, list[str]]:
    """(references to objects of the run checked, the ones the workload does not wait for)."""
    objects = [r for r in resources if _package(r.type) == "kubernetes" and "kind" in r.inputs]
    by_identity = {_identity(r): r for r in objects}
    checked, problems = 0, []
    for workload in objects:
        _, namespace, _ = _identity(workload)
        for template in pod_templates(workload.inputs):
            for kind, name in _pod_references(dict(template)):
                target = by_identity.get((kind, namespace, name))
                if target is None:
                    continue  # made by someone else (an add-on, KEDA, a chart)
                checked += 1
                if target.urn not in workload.dependencies:
                    problems.append(f"{workload.name}: does not wait for {kind} {name}")
    return checked, problems


def test_semantics_reference_check_catches_a_workload_that_does_not_wait() -> None:
    account = _res(
        "kubernetes:core/v1:ServiceAccount",
        "sa",
        {"kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "jobs"}},
    )
    config = _res(
        "kubernetes:core/v1:ConfigMap",
        "cm",
        {"kind": "ConfigMap", "metadata": {"name": "schema", "namespace": "jobs"}},
    )
    pod = {
        "spec": {
            "serviceAccountName": "runner",
            "volumes": [{"name": "s", "configMap": {"name": "schema"}}],
            "containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "other"}}]}],
        }
    }
    job = _res(
        "kubernetes:batch/v1:Job",
        "job",
        {"kind": "Job", "metadata": {"name": "j", "namespace": "jobs"}, "spec": {"template": pod}},
    )
    job.dependencies = [account.urn]
    assert reference_problems([account, config, job]) == (
        2,
        ["job: does not wait for ConfigMap schema"],
    )
    job.dependencies = [account.urn, config.urn]
    assert reference_problems([account, config, job]) == (2, [])


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_workload_waits_for_what_its_pods_use(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    checked, problems = reference_problems(stack_runs[stack].resources)
    assert checked >= 15, f"{stack}: only {checked} references seen"
    assert problems == []


# --- component level: a component honours the opts it is given -------------------------------
# At stack level most components sit at the root with no opts, where dropping them changes
# nothing visible; here each is built under an owner, as a caller may do.


class Owner(pulumi.ComponentResource):
    """A caller that parents a component under itself."""

    def __init__(self, name: str) -> None:
        super().__init__("Owner", name)
        self.label = name
        self.register_outputs({"label": self.label})


def _log_analytics(name: str, opts: pulumi.ResourceOptions) -> pulumi.ComponentResource:
    from components.observability.log_analytics import (  # noqa: PLC0415
        LogAnalyticsWorkspace,
        LogAnalyticsWorkspaceArgs,
    )

    args = LogAnalyticsWorkspaceArgs(
        resource_group_name=RG, location="westeurope", workspace_name="log-unit"
    )
    return LogAnalyticsWorkspace(name, args, opts)


def _prometheus(name: str, opts: pulumi.ResourceOptions) -> pulumi.ComponentResource:
    from components.observability.managed_prometheus import (  # noqa: PLC0415
        ManagedPrometheus,
        ManagedPrometheusArgs,
    )

    args = ManagedPrometheusArgs(
        resource_group_name=RG,
        location="westeurope",
        workspace_name="amw-unit",
        endpoint_name="dce-unit-prom",
        rule_name="dcr-unit-prom",
        association_name="dcra-prometheus",
        cluster_resource_id=CLUSTER_ID,
    )
    return ManagedPrometheus(name, args, opts)


def _node_pool(name: str, opts: pulumi.ResourceOptions) -> pulumi.ComponentResource:
    from components.cluster.node_pools import NodePool, NodePoolArgs  # noqa: PLC0415

    args = NodePoolArgs(
        resource_group_name=RG,
        cluster_name="aks-unit",
        pool_name="gpu",
        vm_size="Standard_NC24ads_A100_v4",
        min_count=0,
        max_count=2,
        node_subnet_resource_id=NODES_SUBNET_ID,
        zones=["1"],
    )
    return NodePool(name, args, opts)


def _device_plugin(name: str, opts: pulumi.ResourceOptions) -> pulumi.ComponentResource:
    from components.cluster.device_plugin import (  # noqa: PLC0415
        NvidiaDevicePlugin,
        NvidiaDevicePluginArgs,
    )

    return NvidiaDevicePlugin(name, NvidiaDevicePluginArgs(), opts)


@pytest.mark.parametrize("build", [_log_analytics, _prometheus, _node_pool, _device_plugin])
def test_semantics_component_honours_the_parent_it_is_given(run_components, build) -> None:
    def body() -> None:
        owner = Owner("owner")
        build("owner-thing", pulumi.ResourceOptions(parent=owner))

    run = run_components(body)
    owner = run.named("owner")
    thing = run.named("owner-thing")
    assert thing.parent == owner.urn
    assert descendants(run.resources, thing.urn), "the component registered no children"


# --- 7. every namespaced object waits for its namespace ---------------------------------------
# An object applied before its Namespace exists is refused ("namespaces ... not found"): every
# object in a namespace the program creates reaches that Namespace through its recorded
# dependencies (directly or through what it depends on; a component it depends on stands for
# all of the component's children).


def namespace_wait_problems(resources: list[RecordedResource]) -> tuple[int, list[str]]:
    """(objects in a namespace of the run, the ones that do not wait for it)."""
    objects = [r for r in resources if _package(r.type) == "kubernetes" and "kind" in r.inputs]
    namespaces = {
        r.inputs["metadata"]["name"]: r.urn
        for r in objects
        if r.type == "kubernetes:core/v1:Namespace"
    }
    children: dict[str, list[str]] = {}
    for r in resources:
        children.setdefault(r.parent, []).append(r.urn)
    deps = {r.urn: r.dependencies for r in resources}

    def waits_for(urn: str) -> set[str]:
        seen: set[str] = set()
        todo = list(deps.get(urn, []))
        while todo:
            dep = todo.pop()
            if dep in seen:
                continue
            seen.add(dep)
            todo += deps.get(dep, [])
            todo += children.get(dep, [])
        return seen

    checked, problems = 0, []
    for r in objects:
        namespace = (r.inputs.get("metadata") or {}).get("namespace")
        if namespace not in namespaces:
            continue
        checked += 1
        if namespaces[namespace] not in waits_for(r.urn):
            problems.append(f"{r.name}: does not wait for namespace {namespace}")
    return checked, problems


def test_semantics_namespace_check_catches_an_object_that_does_not_wait() -> None:
    ns = _res(
        "kubernetes:core/v1:Namespace", "ns", {"kind": "Namespace", "metadata": {"name": "jobs"}}
    )
    account = _res(
        "kubernetes:core/v1:ServiceAccount",
        "sa",
        {"kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "jobs"}},
    )
    job = _res(
        "kubernetes:batch/v1:Job",
        "job",
        {"kind": "Job", "metadata": {"name": "j", "namespace": "jobs"}},
    )
    elsewhere = _res(
        "kubernetes:core/v1:ConfigMap",
        "cm",
        {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "kube-system"}},
    )
    assert namespace_wait_problems([ns, account, job, elsewhere]) == (
        2,
        ["sa: does not wait for namespace jobs", "job: does not wait for namespace jobs"],
    )
    account.dependencies = [ns.urn]
    job.dependencies = [account.urn]  # through the account
    assert namespace_wait_problems([ns, account, job, elsewhere]) == (2, [])
    owner = _res("aks-mlops:x:Owner", "owner", custom=False)
    ns.parent = owner.urn
    job.dependencies = [owner.urn]  # through the component that holds the namespace
    assert namespace_wait_problems([owner, ns, account, job, elsewhere]) == (2, [])


@pytest.mark.parametrize("stack", STACKS)
def test_semantics_every_namespaced_object_waits_for_its_namespace(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    checked, problems = namespace_wait_problems(stack_runs[stack].resources)
    assert checked >= 30
    assert problems == []
