"""Run the real program for a stack under Pulumi's mock runtime and record what it registers.

This is the engine of the offline plan and of the tests: the real SDK classes (a wrong
kwarg or a missing required property raises), no credentials, no backend, no CLI.
The mocks return realistic Azure ids and the computed outputs later resources depend on
(OIDC issuer URL, kubelet identity, login server, ...) so dependent inputs are real values.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import runpy
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings

from components.observability.grafana_auth import offline_token, use_token_source
from offline.computed import (
    TENANT_ID,
    data_layer_computed,
    monitoring_computed,
    registry_computed,
    stable_uuid,
)

PROJECT = "aks-mlops"
ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "infra" / "__main__.py"
BOOTSTRAP_DIR = ROOT / "bootstrap"
BOOTSTRAP_PROJECT = "aks-mlops-bootstrap"
SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000000001"
CLIENT_OBJECT_ID = "00000000-0000-4000-8000-000000000003"
SECRET_PLACEHOLDER = "offline-placeholder-secret"
MASK = "[secret]"
# Read by the program (infra/config/placeholders.py): documentation placeholders in a stack
# file are a warning in the offline plan and an error anywhere else.
OFFLINE_PLAN_ENV = "AKS_MLOPS_OFFLINE_PLAN"

# Type token module -> ARM provider/resource type, for realistic resource ids.
_ARM_TYPES: dict[str, str] = {
    "network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
    "network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
    "network:PrivateEndpoint": "Microsoft.Network/privateEndpoints",
    "privatedns:PrivateZone": "Microsoft.Network/privateDnsZones",
    "containerservice:ManagedCluster": "Microsoft.ContainerService/managedClusters",
    "containerregistry:Registry": "Microsoft.ContainerRegistry/registries",
    "managedidentity:UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "storage:StorageAccount": "Microsoft.Storage/storageAccounts",
    "keyvault:Vault": "Microsoft.KeyVault/vaults",
    "dbforpostgresql:Server": "Microsoft.DBforPostgreSQL/flexibleServers",
    "operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces",
    "monitor:AzureMonitorWorkspace": "Microsoft.Monitor/accounts",
    "monitor:DataCollectionEndpoint": "Microsoft.Insights/dataCollectionEndpoints",
    "monitor:DataCollectionRule": "Microsoft.Insights/dataCollectionRules",
    "monitor:ActionGroup": "Microsoft.Insights/actionGroups",
    "alertsmanagement:PrometheusRuleGroup": "Microsoft.AlertsManagement/prometheusRuleGroups",
    "dashboard:Grafana": "Microsoft.Dashboard/grafana",
}
# Extension resources: their id hangs off the resource they extend (`resourceUri`).
_EXTENSION_TYPES: dict[str, tuple[str, str]] = {
    "monitor:DiagnosticSetting": ("Microsoft.Insights/diagnosticSettings", "name"),
    "monitor:DataCollectionRuleAssociation": (
        "Microsoft.Insights/dataCollectionRuleAssociations",
        "associationName",
    ),
}
# Child resources: ARM path under the resource group's providers, and the input holding the
# child's own name (its inputs also carry the parent's name, which must not be mistaken for it).
_CHILD_TYPES: dict[str, tuple[str, str]] = {
    "storage:BlobServiceProperties": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/{blobServicesName}",
        "blobServicesName",
    ),
    "storage:BlobContainer": (
        "Microsoft.Storage/storageAccounts/{accountName}/blobServices/default/containers/"
        "{containerName}",
        "containerName",
    ),
    "keyvault:Secret": ("Microsoft.KeyVault/vaults/{vaultName}/secrets/{secretName}", "secretName"),
    "keyvault:Key": ("Microsoft.KeyVault/vaults/{vaultName}/keys/{keyName}", "keyName"),
    "dbforpostgresql:Database": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/databases/{databaseName}",
        "databaseName",
    ),
    "dbforpostgresql:Configuration": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/configurations/{configurationName}",
        "configurationName",
    ),
    "containerservice:AgentPool": (
        "Microsoft.ContainerService/managedClusters/{resourceName}/agentPools/{agentPoolName}",
        "agentPoolName",
    ),
    "containerservice:MaintenanceConfiguration": (
        "Microsoft.ContainerService/managedClusters/{resourceName}/maintenanceConfigurations/"
        "{configName}",
        "configName",
    ),
    "managedidentity:FederatedIdentityCredential": (
        "Microsoft.ManagedIdentity/userAssignedIdentities/{resourceName}/"
        "federatedIdentityCredentials/{federatedIdentityCredentialResourceName}",
        "federatedIdentityCredentialResourceName",
    ),
    "network:PrivateDnsZoneGroup": (
        "Microsoft.Network/privateEndpoints/{privateEndpointName}/privateDnsZoneGroups/"
        "{privateDnsZoneGroupName}",
        "privateDnsZoneGroupName",
    ),
    "network:VirtualNetworkPeering": (
        "Microsoft.Network/virtualNetworks/{virtualNetworkName}/virtualNetworkPeerings/"
        "{virtualNetworkPeeringName}",
        "virtualNetworkPeeringName",
    ),
    "privatedns:VirtualNetworkLink": (
        "Microsoft.Network/privateDnsZones/{privateZoneName}/virtualNetworkLinks/"
        "{virtualNetworkLinkName}",
        "virtualNetworkLinkName",
    ),
    "containerregistry:CacheRule": (
        "Microsoft.ContainerRegistry/registries/{registryName}/cacheRules/{cacheRuleName}",
        "cacheRuleName",
    ),
    "containerregistry:CredentialSet": (
        "Microsoft.ContainerRegistry/registries/{registryName}/credentialSets/{credentialSetName}",
        "credentialSetName",
    ),
    "dbforpostgresql:AdministratorsMicrosoftEntra": (
        "Microsoft.DBforPostgreSQL/flexibleServers/{serverName}/administrators/{objectId}",
        "objectId",
    ),
}
# Inputs that carry a resource's own Azure name, by type (else the first `*Name` input).
_NAME_KEYS = (
    "resourceName",
    "privateZoneName",
    "ruleGroupName",
    "workspaceName",
    "azureMonitorWorkspaceName",
    "dataCollectionRuleName",
    "dataCollectionEndpointName",
    "actionGroupName",
)


def _physical_name(typ: str, logical: str, inputs: Mapping[str, Any]) -> str:
    if typ == "azure-native:resources:ResourceGroup":
        return str(inputs.get("resourceGroupName", logical))
    child = _CHILD_TYPES.get(typ.removeprefix("azure-native:"))
    if child is not None:
        return str(inputs.get(child[1], logical))
    for key in _NAME_KEYS:
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    for key, value in inputs.items():
        if key.endswith("Name") and key != "resourceGroupName" and isinstance(value, str):
            return value
    meta = inputs.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("name"), str):
        return str(meta["name"])
    return logical


class OfflineMocks(pulumi.runtime.Mocks):
    """Realistic ids and computed outputs for the resources and invokes the program uses.

    ``subscription_id`` is the deployer's subscription the client config reports (and the one
    resource ids are placed in); tests vary it to check subscription-dependent names.
    """

    def __init__(self, subscription_id: str = SUBSCRIPTION_ID) -> None:
        self.subscription_id = subscription_id

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        typ = args.typ
        name = _physical_name(typ, args.name, inputs)
        group = inputs.get("resourceGroupName", "rg-offline")
        base = f"/subscriptions/{self.subscription_id}/resourceGroups/{group}"
        module_type = typ.split(":", 1)[1] if typ.startswith("azure-native:") else typ
        if typ == "azure-native:resources:ResourceGroup":
            rid = base
        elif typ == "azure-native:authorization:RoleAssignment":
            # Extension resource under its scope; the provider names it with a new GUID, so
            # what identifies it is (scope, role, principal): all three force a replacement.
            assignment = stable_uuid(
                str(inputs.get("scope")),
                str(inputs.get("roleDefinitionId")),
                str(inputs.get("principalId")),
            )
            scope = inputs.get("scope")
            rid = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{assignment}"
        elif typ == "azure-native:security:Pricing":
            # Subscription-level: `scopeId` is `subscriptions/<id>` (no leading slash).
            rid = f"/{inputs.get('scopeId')}/providers/Microsoft.Security/pricings/{name}"
        elif module_type in _EXTENSION_TYPES:
            arm_type, name_key = _EXTENSION_TYPES[module_type]
            name = str(inputs.get(name_key, name))
            rid = f"{inputs.get('resourceUri', base)}/providers/{arm_type}/{name}"
        elif module_type in _CHILD_TYPES:
            path = _CHILD_TYPES[module_type][0].format_map(defaultdict(lambda: "unknown", inputs))
            rid = f"{base}/providers/{path}"
        elif module_type in _ARM_TYPES:
            rid = f"{base}/providers/{_ARM_TYPES[module_type]}/{name}"
        elif typ.startswith("azure-native:"):
            rid = f"{base}/providers/Microsoft.Offline/{module_type.replace(':', '/')}/{name}"
        else:
            rid = f"{name}-id"
        outputs: dict[str, Any] = {**inputs, "name": name, "id": rid}
        identity = inputs.get("identity")
        if isinstance(identity, Mapping) and isinstance(
            identity.get("userAssignedIdentities"), list
        ):
            # Inputs list the identity ids; ARM answers with a map of id -> identity details.
            outputs["identity"] = {
                **identity,
                "userAssignedIdentities": {
                    str(i): {
                        "principalId": stable_uuid(str(i), "principal"),
                        "clientId": stable_uuid(str(i), "client"),
                    }
                    for i in identity["userAssignedIdentities"]
                },
            }
        outputs.update(self._computed(typ, name, rid, inputs))
        return rid, outputs

    @staticmethod
    def _computed(typ: str, name: str, rid: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if typ == "azure-native:managedidentity:UserAssignedIdentity":
            return {
                "principalId": stable_uuid(rid, "principal"),
                "clientId": stable_uuid(rid, "client"),
                "tenantId": TENANT_ID,
            }
        if typ == "azure-native:containerservice:ManagedCluster":
            return {
                "fqdn": f"{inputs.get('dnsPrefix', name)}.hcp.{inputs.get('location')}.azmk8s.io",
                "privateFQDN": f"{inputs.get('dnsPrefix', name)}-{stable_uuid(rid)[:8]}."
                f"{stable_uuid(rid, 'zone')}.privatelink.{inputs.get('location')}.azmk8s.io",
                "oidcIssuerProfile": {
                    "enabled": True,
                    "issuerURL": f"https://{inputs.get('location')}.oic.prod-aks.azure.com/"
                    f"{TENANT_ID}/{stable_uuid(rid, 'oidc')}/",
                },
                "identityProfile": {
                    "kubeletidentity": {
                        "clientId": stable_uuid(rid, "kubelet-client"),
                        "objectId": stable_uuid(rid, "kubelet-object"),
                        "resourceId": f"{rid}-agentpool",
                    }
                },
            }
        if typ.startswith("azure-native:containerregistry:"):
            return registry_computed(typ, name, rid, inputs)
        if typ.startswith(("azure-native:monitor:", "azure-native:dashboard:")) or typ in (
            "azure-native:operationalinsights:Workspace",
        ):
            return monitoring_computed(typ, name, rid, inputs)
        if typ == "random:index/randomPassword:RandomPassword":
            return {"result": SECRET_PLACEHOLDER}
        return data_layer_computed(typ, name, inputs)

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == "azure-native:authorization:getClientConfig":
            client = {
                "clientId": stable_uuid("client"),
                "objectId": CLIENT_OBJECT_ID,
                "subscriptionId": self.subscription_id,
                "tenantId": TENANT_ID,
            }
            return client, []
        if args.token == "azure-native:containerservice:listManagedClusterUserCredentials":
            kubeconfig = base64.b64encode(b"apiVersion: v1\nkind: Config\n").decode()
            return {"kubeconfigs": [{"name": "clusterUser", "value": kubeconfig}]}, []
        return {}, []


@dataclass
class RecordedResource:
    """One registration: what a real `pulumi up` would be asked to create."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool
    ignore_changes: list[str]
    provider: str
    aliases: list[str]
    """Old URNs this resource declares as aliases (it takes over their deployed state)."""
    inputs: dict[str, Any]
    """Inputs with wire names; secret values replaced by ``[secret]``."""
    id: str = ""
    """The id the mocks assigned (a realistic Azure resource id)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Outputs the mocks returned (inputs plus computed values), secrets masked."""


def mask_secrets(value: Any) -> Any:
    """Replace every secret-wrapped value with ``[secret]``."""
    if rpc.is_rpc_secret(value):
        return MASK
    if isinstance(value, Mapping):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]
    return value


def _urn(parent_urn: str, typ: str, name: str, stack: str, project: str) -> str:
    """A URN as the SDK's ``create_urn`` forms it (under a parent: its type chain)."""
    if parent_urn:
        return f"{parent_urn[: parent_urn.rfind('::')]}${typ}::{name}"
    return f"urn:pulumi:{stack}::{project}::{typ}::{name}"


def _inherited(child_name: str, child_type: str, parent_name: str, parent_alias: str) -> str:
    """The SDK's ``inherited_child_alias``: a child's URN under one of its parent's aliases
    (a name derived from the parent's, ``{parent}-x``, follows the parent's old name)."""
    name = child_name
    if child_name.startswith(parent_name):
        name = parent_alias[parent_alias.rfind("::") + 2 :] + child_name[len(parent_name) :]
    return _urn(parent_alias, child_type, name, "", "")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also records resource options (not visible to `Mocks`).

    Aliases arrive as alias specs (the monitor supports them, as the engine does) and are
    recorded as the full URNs the SDK would compute for an engine without specs: a resource's
    own aliases, and each combined with each alias of its parent. Resolving them here with
    string operations instead of letting the SDK do it with an Output per alias (the
    azure-native SDK gives every resource a type alias per API version) takes about a quarter
    of the CPU time off a stack's run.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []
        # Component URN -> the outputs it registered (secrets masked; None values are
        # dropped by the SDK's serialization, so a missing key is an output that was None).
        self.component_outputs: dict[str, dict[str, Any]] = {}
        # URN -> (logical name, its own alias URNs): what a child's inherited aliases use.
        self._own_aliases: dict[str, tuple[str, list[str]]] = {}

    def _alias_urns(self, request: Any, urn: str) -> list[str]:
        stack, project = pulumi.get_stack(), pulumi.get_project()
        own: list[str] = list(request.aliasURNs)
        for alias in request.aliases:
            if alias.urn:
                own.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            if parent == request.parent and parent.split("::")[2].endswith("pulumi:pulumi:Stack"):
                # A resource without a parent option is registered under the root stack, but
                # the SDK forms its alias URNs without a parent.
                parent = ""
            own.append(
                _urn(
                    parent,
                    spec.type or request.type,
                    spec.name or request.name,
                    spec.stack or stack,
                    spec.project or project,
                )
            )
        self._own_aliases[urn] = (request.name, own)
        found = set(own)
        parent_name, parent_aliases = self._own_aliases.get(request.parent, ("", []))
        for parent_alias in parent_aliases:
            found.add(_inherited(request.name, request.type, parent_name, parent_alias))
            for child_alias in own:
                parts = child_alias.split("::")
                found.add(_inherited(parts[3], parts[2].split("$")[-1], parent_name, parent_alias))
        return sorted(found)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        outputs = rpc.deserialize_properties(request.outputs)
        self.component_outputs[request.urn] = mask_secrets(outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            registered = self.resources.get(urn)
            self.records.append(
                RecordedResource(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    dependencies=sorted(set(request.dependencies)),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=list(request.ignoreChanges),
                    provider=request.provider,
                    aliases=self._alias_urns(request, urn),
                    inputs=mask_secrets(rpc.deserialize_properties(request.object)),
                    id=registered.id if registered else "",
                    outputs=mask_secrets(registered.state) if registered else {},
                )
            )
        return response


@dataclass
class OfflineRun:
    """The result of running the program offline for one stack."""

    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    # Component URN -> the outputs it registered (``register_outputs``), None values left out.
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[RecordedResource]:
        """Resources whose type token is ``typ``."""
        return [r for r in self.resources if r.type == typ]

    def named(self, name: str) -> RecordedResource:
        """The resource with logical name ``name``."""
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}")
        return found[0]


def stack_file(stack: str, root: Path = ROOT) -> Path:
    """``Pulumi.<stack>.yaml`` of the project."""
    return root / f"Pulumi.{stack}.yaml"


def load_stack_config(stack: str, root: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the engine passes it (strings; objects as JSON).

    Secure values cannot be decrypted offline; they become a placeholder and are listed as
    secret keys. Returns ``(config, secret_keys)``.
    """
    path = stack_file(stack, root)
    if not path.is_file():
        raise FileNotFoundError(f"stack file {path.name} not found (stacks: {list_stacks(root)})")
    doc = yaml.safe_load(path.read_text()) or {}
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (doc.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


def list_stacks(root: Path = ROOT) -> list[str]:
    """Stack names that have a stack file."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration (restored afterwards).

    A run imports the SDK modules it uses and creates tens of thousands of Outputs, futures
    and tasks: allocations that keep triggering collections, and each full collection walks
    every object the SDKs' type modules hold. That was half of a stack run's CPU time. The
    cycles a run leaves behind are a few MB, collected once the collector runs again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_callable(
    body: Callable[[], object],
    *,
    stack: str = "unit",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    monitor: RecordingMonitor | None = None,
    project: str = PROJECT,
    offline_plan: bool = True,
) -> OfflineRun:
    """Run ``body`` (which registers resources) under mocks with a fresh root stack.

    Waits for every registration and output; exceptions from ``body`` propagate unchanged
    (pass ``monitor`` to inspect what was registered before one). ``offline_plan=False``
    runs the program as a real deployment would (documentation placeholders are errors).
    """
    settings.ROOT.set(None)
    monitor = monitor or RecordingMonitor(OfflineMocks())
    mocks = monitor.mocks
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}), secret_keys or [])
    exported: dict[str, Any] = {}

    async def _collect(outputs: dict[str, Any]) -> None:
        # Stack outputs marked secret are written as MASK, like secret inputs: the offline
        # plan must never print or store a secret the program exports.
        for key, value in outputs.items():
            out = pulumi.Output.from_input(value)
            resolved = await out.future()
            exported[key] = MASK if await out.is_secret() else mask_secrets(resolved)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def _run() -> pulumi.Output[Any]:
        body()
        root = settings.get_root_resource()
        outputs: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
        return pulumi.Output.from_input(_collect(outputs))

    previous = os.environ.pop(OFFLINE_PLAN_ENV, None)
    if offline_plan:
        os.environ[OFFLINE_PLAN_ENV] = "1"
    try:
        # The Grafana provider's token must not come from Azure in a mock run.
        with use_token_source(offline_token), cyclic_gc_paused():
            _run()
    finally:
        os.environ.pop(OFFLINE_PLAN_ENV, None)
        if previous is not None:
            os.environ[OFFLINE_PLAN_ENV] = previous
    return OfflineRun(
        stack=stack,
        resources=list(monitor.records),
        outputs=exported,
        component_outputs=dict(monitor.component_outputs),
    )


def run_program(
    stack: str,
    config: Mapping[str, str],
    secret_keys: list[str] | None = None,
    program: Path = PROGRAM,
    monitor: RecordingMonitor | None = None,
    *,
    project: str = PROJECT,
    offline_plan: bool = True,
) -> OfflineRun:
    """Run the Pulumi program for ``stack`` with ``config`` under mocks.

    ``program`` and ``project`` default to the platform; the bootstrap program passes its own.
    """
    return run_callable(
        lambda: runpy.run_path(str(program), run_name="__pulumi_program__"),
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        monitor=monitor,
        project=project,
        offline_plan=offline_plan,
    )


def run_stack(stack: str, root: Path = ROOT) -> OfflineRun:
    """Run the program for a stack file of the project."""
    config, secret_keys = load_stack_config(stack, root)
    return run_program(stack, config, secret_keys)


def run_bootstrap_stack(stack: str, root: Path = BOOTSTRAP_DIR) -> OfflineRun:
    """Run the bootstrap program (``bootstrap/``) for one of its stack files."""
    config, secret_keys = load_stack_config(stack, root)
    return run_program(
        stack,
        config,
        secret_keys,
        program=BOOTSTRAP_DIR / "__main__.py",
        project=BOOTSTRAP_PROJECT,
    )
