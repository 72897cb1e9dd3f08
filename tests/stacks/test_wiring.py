"""Per-stack wiring: every configured value that reaches Azure or Kubernetes is where it must be.

Each stack file is read with plain ``yaml.safe_load`` -- not through the config model or the
namer -- and each row of :data:`ROWS` names one config key, where its value must appear in
the inputs the real program registers, and how the value is spelled on the wire. A row runs
for every stack whose file sets that key; keys the shipped files leave at their defaults are
exercised by :data:`VARIANTS` (a shipped file with those keys set to non-default values).

Adding a config key that reaches a resource = adding a row here. Rows are plain data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.runner import OfflineRun, RecordedResource, run_program
from tests.conftest import STACKS, encode

ROOT = Path(__file__).resolve().parents[2]
P = "aks-mlops:"
MISSING = object()


def plain_config(stack: str) -> dict[str, Any]:
    """``Pulumi.<stack>.yaml``'s ``aks-mlops:*`` keys, as YAML says them (prefix dropped)."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return {k[len(P) :]: v for k, v in doc["config"].items() if k.startswith(P)}


def lookup(cfg: Any, path: str) -> Any:
    """``cluster.apiServer.authorizedIpRanges`` / ``gpuPools[1].vmSize`` in a plain dict."""
    node = cfg
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if token.startswith("["):
            index = int(token[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return MISSING
            node = node[index]
        else:
            if not isinstance(node, dict) or token not in node:
                return MISSING
            node = node[token]
    return node


# Variants: a shipped file with keys the shipped files leave at their defaults set to values
# that are not the defaults, so their rows run too (plain dict edits, no config model).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev-variant": (
        "dev",
        {
            "cluster.imageCleanerIntervalHours": 72,
            "cluster.azurePolicyEnabled": False,
            "cluster.upgradeChannel": "node-image",
            "cluster.nodeOsUpgradeChannel": "Unmanaged",
            # A node-OS window needs a channel that follows it (NodeImage or SecurityPatch).
            "cluster.maintenance.nodeOs": None,
            "systemPool.osSku": "Ubuntu",
            "systemPool.osDiskSizeGb": 64,
            "systemPool.maxPods": 60,
            "cpuPool.osDiskSizeGb": 96,
            "cpuPool.maxPods": 80,
            "cpuPool.zones": ["1"],
            "cpuPool.spot": True,
            "gpuPools[0].osSku": "AzureLinux",
            "gpuPools[0].osDiskSizeGb": 128,
            "gpuPools[0].maxPods": 30,
            "gpuPools[0].gpuDriver": "None",
            "gpuPools[0].zones": ["1"],
            "keyVault.sku": "premium",
            "keyVault.purgeProtectionEnabled": True,
            "postgres.version": "17",
            "postgres.backupRetentionDays": 14,
            "postgres.entraAdmin.principalType": "User",
            "mlflow.image": "ghcr.io/mlflow/mlflow:v3.17.1-full",
            "mlflow.namespace": "tracking",
            "mlflow.workers": 3,
            "mlflow.cpuRequest": "300m",
            "mlflow.cpuLimit": "2",
            "mlflow.memoryRequest": "768Mi",
            "mlflow.memoryLimit": "3Gi",
            "mlflow.scratchSizeGi": 48,
            "vectorDb.dimensions": 768,
            "vectorDb.distance": "l2",
            "vectorDb.collection": "chunks",
        },
    ),
    "test-variant": (
        "test",
        {
            "vectorDb.qdrant.image": "docker.io/qdrant/qdrant:v1.18.2",
            "vectorDb.qdrant.namespace": "vectors",
            "vectorDb.qdrant.storageClass": "qdrant-premium-zrs",
            "registry.zoneRedundancyEnabled": True,
            "vectorDb.distance": "inner_product",
        },
    ),
}


def _set(cfg: dict[str, Any], path: str, value: Any) -> None:
    tokens = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    node: Any = cfg
    for token in tokens[:-1]:
        node = node[int(token[1:-1])] if token.startswith("[") else node.setdefault(token, {})
    node[tokens[-1]] = value


def variant_config(name: str) -> dict[str, Any]:
    base, changes = VARIANTS[name]
    cfg = copy.deepcopy(plain_config(base))
    for path, value in changes.items():
        _set(cfg, path, value)
    return cfg


SOURCES = (*STACKS, *VARIANTS)


def source_config(source: str) -> dict[str, Any]:
    return variant_config(source) if source in VARIANTS else plain_config(source)


@pytest.fixture(scope="module")
def runs(stack_runs: dict[str, OfflineRun]) -> dict[str, OfflineRun]:
    """The shipped stacks (session runs) plus one run per variant."""
    out = dict(stack_runs)
    for name, (base, _) in VARIANTS.items():
        raw = yaml.safe_load((ROOT / f"Pulumi.{base}.yaml").read_text())["config"]
        values = {k: v for k, v in raw.items() if not k.startswith(P)}
        values |= {P + k: v for k, v in variant_config(name).items()}
        out[name] = run_program(base, encode(values))
    return out


# --- where values land ---------------------------------------------------------------------


def one(run: OfflineRun, typ: str, name: str | None = None) -> RecordedResource:
    found = [r for r in run.of_type(typ) if name is None or r.name == name]
    assert len(found) == 1, f"{len(found)} {typ} {name or ''} in {run.stack}"
    return found[0]


def dig(value: Any, path: str) -> Any:
    """``a.b[0].c`` inside recorded inputs; MISSING when absent."""
    return lookup(value, path)


def inputs(typ: str, path: str, name: str | None = None) -> Callable[[OfflineRun], Any]:
    def where(run: OfflineRun) -> Any:
        return dig(one(run, typ, name).inputs, path)

    return where


CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
REGISTRY = "azure-native:containerregistry:Registry"
ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
VAULT = "azure-native:keyvault:Vault"
SERVER = "azure-native:dbforpostgresql:Server"
ENTRA_ADMIN = "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra"
VNET = "azure-native:network:VirtualNetwork"
PEERING = "azure-native:network:VirtualNetworkPeering"
DNS_LINK = "azure-native:privatedns:VirtualNetworkLink"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
CONFIGMAP = "kubernetes:core/v1:ConfigMap"


def mlflow_container(run: OfflineRun) -> dict[str, Any]:
    dep = one(run, DEPLOYMENT, "mlflow-deployment").inputs
    container: dict[str, Any] = dep["spec"]["template"]["spec"]["containers"][0]
    return container


def mlflow_arg(flag: str) -> Callable[[OfflineRun], Any]:
    def where(run: OfflineRun) -> Any:
        args = mlflow_container(run)["args"]
        return args[args.index(flag) + 1]

    return where


def mlflow_volume_size(volume: str) -> Callable[[OfflineRun], Any]:
    def where(run: OfflineRun) -> Any:
        spec = one(run, DEPLOYMENT, "mlflow-deployment").inputs["spec"]["template"]["spec"]
        return next(v["emptyDir"]["sizeLimit"] for v in spec["volumes"] if v["name"] == volume)

    return where


def schema_sql(run: OfflineRun) -> str:
    sql: str = one(run, CONFIGMAP, "vector-store-schema").inputs["data"]["schema.sql"]
    return sql


def qdrant(path: str) -> Callable[[OfflineRun], Any]:
    return inputs(STATEFULSET, path, "vector-store-statefulset")


# The registry's cache prefixes (repository in the registry -> upstream host), as the cache
# rules map them: an image configured upstream is pulled as <login server>/<prefix>/<path>.
CACHE_PREFIXES = {"dockerhub": "docker.io", "ghcr": "ghcr.io", "nvcr": "nvcr.io"}


def pulled_through_cache(where: Callable[[OfflineRun], Any]) -> Callable[[OfflineRun], Any]:
    """The upstream image a container pulls through the stack registry's cache."""

    def upstream(run: OfflineRun) -> Any:
        image = str(where(run))
        login = one(run, "azure-native:containerregistry:Registry").outputs["loginServer"]
        prefix, _, path = image.removeprefix(f"{login}/").partition("/")
        if not image.startswith(f"{login}/") or prefix not in CACHE_PREFIXES:
            return f"not through the cache: {image}"
        return f"{CACHE_PREFIXES[prefix]}/{path}"

    return upstream


def subnet_prefix(subnet: str) -> Callable[[OfflineRun], Any]:
    def where(run: OfflineRun) -> Any:
        subnets = one(run, VNET).inputs["subnets"]
        found = [s["addressPrefix"] for s in subnets if s["name"].endswith(f"-{subnet}")]
        return found[0] if len(found) == 1 else MISSING

    return where


def every_pool_profile(run: OfflineRun) -> dict[str, dict[str, Any]]:
    """Pool name -> its inputs (system pool from the cluster, user pools as AgentPools)."""
    pools = {p["name"]: p for p in one(run, CLUSTER).inputs["agentPoolProfiles"]}
    pools |= {r.inputs["agentPoolName"]: r.inputs for r in run.of_type(AGENT_POOL)}
    return pools


# --- how config values are spelled on the wire ----------------------------------------------


def same(value: Any) -> Any:
    return value


def enabled(value: Any) -> str:
    return "Enabled" if value else "Disabled"


def public_access(private: Any) -> str:
    return "Disabled" if private else "Enabled"


def number(value: Any) -> float:
    return float(value)


def cidrs(value: Any) -> list[str]:
    return [str(v) for v in value]


# pgvector operator classes per configured distance (https://github.com/pgvector/pgvector#hnsw).
PGVECTOR_OPS = {
    "cosine": "vector_cosine_ops",
    "l2": "vector_l2_ops",
    "inner_product": "vector_ip_ops",
}
# The `gpu-model` node label per VM size, written out here (not read from the product's table):
# NCasT4_v3 -> NVIDIA T4; NC_A100_v4 -> A100 80 GB PCIe (Azure VM size pages).
GPU_MODEL_LABELS = {
    "Standard_NC4as_T4_v3": "t4",
    "Standard_NC8as_T4_v3": "t4",
    "Standard_NC16as_T4_v3": "t4",
    "Standard_NC64as_T4_v3": "t4",
    "Standard_NC24ads_A100_v4": "a100-80gb",
    "Standard_NC48ads_A100_v4": "a100-80gb",
    "Standard_NC96ads_A100_v4": "a100-80gb",
}


@dataclass(frozen=True)
class Row:
    """One config key: where its value lands and how it is spelled there."""

    key: str
    where: Callable[[OfflineRun], Any]
    wire: Callable[[Any], Any] = same
    when: Callable[[dict[str, Any]], bool] = lambda cfg: True
    """Only for stack configs where this holds (e.g. pgvector-only keys)."""


def pgvector(cfg: dict[str, Any]) -> bool:
    return lookup(cfg, "vectorDb.engine") in (MISSING, "pgvector")


def qdrant_engine(cfg: dict[str, Any]) -> bool:
    return lookup(cfg, "vectorDb.engine") == "qdrant"


ROWS: list[Row] = [
    Row("location", inputs(CLUSTER, "location")),
    Row("location", inputs(SERVER, "location")),
    # network
    Row("network.vnetCidr", inputs(VNET, "addressSpace.addressPrefixes[0]")),
    Row("network.subnets.nodes", subnet_prefix("nodes")),
    Row("network.subnets.privateEndpoints", subnet_prefix("pep")),
    Row("network.subnets.apiServer", subnet_prefix("apiserver")),
    Row("network.subnets.postgres", subnet_prefix("psql")),
    Row("network.podCidr", inputs(CLUSTER, "networkProfile.podCidr")),
    Row("network.serviceCidr", inputs(CLUSTER, "networkProfile.serviceCidr")),
    Row("network.dnsServiceIp", inputs(CLUSTER, "networkProfile.dnsServiceIP")),
    # cluster
    Row("cluster.kubernetesVersion", inputs(CLUSTER, "kubernetesVersion")),
    Row("cluster.skuTier", inputs(CLUSTER, "sku.tier")),
    Row(
        "cluster.apiServer.privateClusterEnabled",
        inputs(CLUSTER, "apiServerAccessProfile.enablePrivateCluster"),
    ),
    Row(
        "cluster.apiServer.authorizedIpRanges",
        inputs(CLUSTER, "apiServerAccessProfile.authorizedIPRanges"),
        cidrs,
    ),
    Row(
        "cluster.apiServer.vnetIntegrationEnabled",
        inputs(CLUSTER, "apiServerAccessProfile.enableVnetIntegration"),
    ),
    Row("cluster.adminGroupObjectIds", inputs(CLUSTER, "aadProfile.adminGroupObjectIDs")),
    Row("cluster.upgradeChannel", inputs(CLUSTER, "autoUpgradeProfile.upgradeChannel")),
    Row("cluster.nodeOsUpgradeChannel", inputs(CLUSTER, "autoUpgradeProfile.nodeOSUpgradeChannel")),
    Row(
        "cluster.imageCleanerIntervalHours",
        inputs(CLUSTER, "securityProfile.imageCleaner.intervalHours"),
        number,
    ),
    Row("cluster.azurePolicyEnabled", inputs(CLUSTER, "addonProfiles.azurepolicy.enabled")),
    # registry
    Row("registry.sku", inputs(REGISTRY, "sku.name")),
    Row("registry.zoneRedundancyEnabled", inputs(REGISTRY, "zoneRedundancy"), enabled),
    Row("registry.retentionDays", inputs(REGISTRY, "policies.retentionPolicy.days"), number),
    Row("registry.privateEndpointEnabled", inputs(REGISTRY, "publicNetworkAccess"), public_access),
    # data lake
    Row("dataLake.sku", inputs(ACCOUNT, "sku.name")),
    Row("dataLake.blobSoftDeleteDays", inputs(BLOB_SERVICE, "deleteRetentionPolicy.days"), number),
    Row(
        "dataLake.containerSoftDeleteDays",
        inputs(BLOB_SERVICE, "containerDeleteRetentionPolicy.days"),
        number,
    ),
    Row("dataLake.privateEndpointEnabled", inputs(ACCOUNT, "publicNetworkAccess"), public_access),
    # key vault
    Row("keyVault.sku", inputs(VAULT, "properties.sku.name")),
    Row(
        "keyVault.softDeleteRetentionDays",
        inputs(VAULT, "properties.softDeleteRetentionInDays"),
        number,
    ),
    # The API takes only true or absent for purge protection.
    Row(
        "keyVault.purgeProtectionEnabled",
        inputs(VAULT, "properties.enablePurgeProtection"),
        lambda v: True if v else MISSING,
    ),
    Row(
        "keyVault.privateEndpointEnabled",
        inputs(VAULT, "properties.publicNetworkAccess"),
        public_access,
    ),
    # postgres
    Row("postgres.version", inputs(SERVER, "version")),
    Row("postgres.skuName", inputs(SERVER, "sku.name")),
    Row("postgres.tier", inputs(SERVER, "sku.tier")),
    Row("postgres.storageSizeGb", inputs(SERVER, "storage.storageSizeGB"), number),
    Row("postgres.backupRetentionDays", inputs(SERVER, "backup.backupRetentionDays"), number),
    Row("postgres.geoRedundantBackupEnabled", inputs(SERVER, "backup.geoRedundantBackup"), enabled),
    Row("postgres.highAvailability", inputs(SERVER, "highAvailability.mode")),
    Row(
        "postgres.privateAccessEnabled",
        inputs(SERVER, "network.publicNetworkAccess"),
        public_access,
    ),
    Row("postgres.entraAdmin.objectId", inputs(ENTRA_ADMIN, "objectId")),
    Row("postgres.entraAdmin.principalName", inputs(ENTRA_ADMIN, "principalName")),
    Row(
        "postgres.entraAdmin.principalType",
        inputs(ENTRA_ADMIN, "principalType"),
        lambda v: v.lower(),
    ),
    # vector DB (pgvector: in the schema the Job applies; qdrant: the StatefulSet)
    Row("vectorDb.dimensions", schema_sql, lambda n: True, pgvector),
    Row("vectorDb.distance", schema_sql, lambda d: True, pgvector),
    Row("vectorDb.collection", schema_sql, lambda c: True, pgvector),
    Row(
        "vectorDb.qdrant.image",
        pulled_through_cache(qdrant("spec.template.spec.containers[0].image")),
        when=qdrant_engine,
    ),
    Row(
        "vectorDb.qdrant.storageClass",
        qdrant("spec.volumeClaimTemplates[0].spec.storageClassName"),
        when=qdrant_engine,
    ),
    Row(
        "vectorDb.qdrant.storageSizeGi",
        qdrant("spec.volumeClaimTemplates[0].spec.resources.requests.storage"),
        lambda n: f"{n}Gi",
        qdrant_engine,
    ),
    Row("vectorDb.qdrant.namespace", qdrant("metadata.namespace"), when=qdrant_engine),
    # MLflow
    Row("mlflow.image", pulled_through_cache(lambda run: mlflow_container(run)["image"])),
    Row("mlflow.replicas", inputs(DEPLOYMENT, "spec.replicas", "mlflow-deployment"), number),
    Row("mlflow.namespace", inputs(DEPLOYMENT, "metadata.namespace", "mlflow-deployment")),
    Row("mlflow.workers", mlflow_arg("--workers"), str),
    Row("mlflow.cpuRequest", lambda run: mlflow_container(run)["resources"]["requests"]["cpu"]),
    Row("mlflow.cpuLimit", lambda run: mlflow_container(run)["resources"]["limits"]["cpu"]),
    Row(
        "mlflow.memoryRequest", lambda run: mlflow_container(run)["resources"]["requests"]["memory"]
    ),
    Row("mlflow.memoryLimit", lambda run: mlflow_container(run)["resources"]["limits"]["memory"]),
    Row("mlflow.scratchSizeGi", mlflow_volume_size("tmp"), lambda n: f"{n}Gi"),
]

# Pool keys, for the system pool, the CPU pool and every GPU pool ({pool} = the config path).
POOL_ROWS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("vmSize", "vmSize", same),
    ("minCount", "minCount", number),
    ("maxCount", "maxCount", number),
    ("osSku", "osSKU", same),
    ("osDiskSizeGb", "osDiskSizeGB", number),
    ("maxPods", "maxPods", number),
    ("zones", "availabilityZones", same),
    ("spot", "scaleSetPriority", lambda spot: "Spot" if spot else "Regular"),
    ("migProfile", "gpuInstanceProfile", same),
    ("gpuDriver", "gpuProfile.driver", same),
]


def _pool_paths(cfg: dict[str, Any]) -> Iterator[str]:
    yield "systemPool"
    yield "cpuPool"
    for i, _ in enumerate(cfg.get("gpuPools") or []):
        yield f"gpuPools[{i}]"


def _rows_for(cfg: dict[str, Any]) -> Iterator[tuple[str, Row]]:
    for row in ROWS:
        if lookup(cfg, row.key) is not MISSING and row.when(cfg):
            yield row.key, row
    for pool_path in _pool_paths(cfg):
        name = lookup(cfg, f"{pool_path}.name")
        for key, wire_path, wire in POOL_ROWS:
            path = f"{pool_path}.{key}"
            if lookup(cfg, path) is MISSING:
                continue

            def where(run: OfflineRun, name: str = name, wire_path: str = wire_path) -> Any:
                return dig(every_pool_profile(run)[name], wire_path)

            yield path, Row(path, where, wire)


CASES = [
    pytest.param(source, row, id=f"{source}-{key}")
    for source in SOURCES
    for key, row in _rows_for(source_config(source))
]


@pytest.mark.parametrize(("source", "row"), CASES)
def test_wiring_config_value_reaches_its_resource(
    runs: dict[str, OfflineRun], source: str, row: Row
) -> None:
    configured = lookup(source_config(source), row.key)
    actual = row.where(runs[source])
    if row.key == "vectorDb.dimensions":
        assert f"embedding vector({configured}) NOT NULL" in actual
    elif row.key == "vectorDb.distance":
        assert f"USING hnsw (embedding {PGVECTOR_OPS[configured]})" in actual
    elif row.key == "vectorDb.collection":
        assert f"CREATE TABLE IF NOT EXISTS public.{configured} (" in actual
    else:
        assert actual == row.wire(configured), f"{source}: {row.key}={configured!r} -> {actual!r}"


@pytest.mark.parametrize("source", SOURCES)
def test_wiring_gpu_model_label_follows_vm_size(runs: dict[str, OfflineRun], source: str) -> None:
    cfg = source_config(source)
    pools = every_pool_profile(runs[source])
    assert cfg["gpuPools"], "every shipped stack has a GPU pool"
    for gpu in cfg["gpuPools"]:
        labels = pools[gpu["name"]]["nodeLabels"]
        assert labels["gpu-model"] == GPU_MODEL_LABELS[gpu["vmSize"]], gpu["name"]


@pytest.mark.parametrize("source", SOURCES)
def test_wiring_pool_zones_default_to_the_cluster_zones(
    runs: dict[str, OfflineRun], source: str
) -> None:
    cfg = source_config(source)
    pools = every_pool_profile(runs[source])
    for path in _pool_paths(cfg):
        pool = lookup(cfg, path)
        zones = pool.get("zones", cfg["cluster"].get("zones", []))
        assert pools[pool["name"]].get("availabilityZones", []) == zones, pool["name"]


@pytest.mark.parametrize("source", SOURCES)
def test_wiring_tags_from_config_on_the_cluster(runs: dict[str, OfflineRun], source: str) -> None:
    tags = source_config(source)["tags"]
    assert one(runs[source], CLUSTER).inputs["tags"] == {**tags, "managed-by": "pulumi"}


@pytest.mark.parametrize("source", SOURCES)
def test_wiring_peerings_reach_both_directions_and_the_api_dns_link(
    runs: dict[str, OfflineRun], source: str
) -> None:
    peerings = lookup(source_config(source), "network.peerings")
    run = runs[source]
    if peerings is MISSING:
        assert run.of_type(PEERING) == []
        return
    for key, vnet_id in peerings.items():
        out = one(run, PEERING, f"network-peering-{key}").inputs
        back = one(run, PEERING, f"network-peering-{key}-back").inputs
        assert out["remoteVirtualNetwork"]["id"] == vnet_id
        assert back["virtualNetworkName"] == vnet_id.rsplit("/", 1)[1]
        assert back["resourceGroupName"] == vnet_id.split("/")[4]
        link = one(run, DNS_LINK, f"aks-api-dns-{key}").inputs
        assert link["virtualNetwork"]["id"] == vnet_id


def test_wiring_every_row_runs_somewhere() -> None:
    """A row no stack or variant exercises is a row that cannot fail: set it in a variant."""
    exercised = {key for source in SOURCES for key, _ in _rows_for(source_config(source))}
    assert {row.key for row in ROWS} <= exercised
    pool_keys = {key.rsplit(".", 1)[1] for key in exercised if "Pool" in key}
    assert {key for key, _, _ in POOL_ROWS} <= pool_keys
