"""VectorStore: pgvector schema + job, Qdrant StatefulSet, identities, policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

from components.kit.kubernetes import Placement
from components.vectordb import pgvector, qdrant
from components.vectordb.schema import index_name, nearest_sql, schema_sql
from components.vectordb.store import VectorStore, VectorStoreArgs
from offline.runner import MASK, SECRET_PLACEHOLDER, OfflineRun
from tests.manifests.workload_inputs import (
    VECTORS_LOGIN,
    VECTORS_PASSWORD_SECRET,
    container,
    env_of,
    in_namespace,
    objects,
    one,
    one_in,
    render,
    stack_config,
    workload_inputs,
)
from tests.unit.test_well_known_values import CLIENT_ID_ANNOTATION, ROLE_IDS, USE_LABEL

Runner = Callable[[Callable[[], object]], OfflineRun]
QDRANT = {
    "engine": "qdrant",
    "qdrant": {"storageClass": "managed-csi-premium", "storageSizeGi": 64},
}
QDRANT_DEFAULT_CLASS = {"engine": "qdrant"}


@pytest.fixture
def pg(run_components: Runner) -> tuple[OfflineRun, dict[str, Any]]:
    """The dev stack's vector store (pgvector)."""
    return render(stack_config("dev"), "dev", run_components)


@pytest.fixture
def qd(run_components: Runner) -> tuple[OfflineRun, dict[str, Any]]:
    """The dev stack switched to Qdrant."""
    return render(stack_config("dev", vectorDb=QDRANT), "dev", run_components)


@pytest.mark.parametrize(
    ("distance", "operator_class"),
    [("cosine", "vector_cosine_ops"), ("l2", "vector_l2_ops"), ("inner_product", "vector_ip_ops")],
)
def test_schema_sql_indexes_with_operator_class_of_distance(
    distance: str, operator_class: str
) -> None:
    sql = schema_sql(table="documents", dimensions=384, distance=distance)

    assert f"USING hnsw (embedding {operator_class})" in sql
    assert f"CREATE INDEX IF NOT EXISTS {index_name('documents', distance)}" in sql
    assert "embedding vector(384) NOT NULL" in sql
    assert "metadata jsonb NOT NULL" in sql
    assert sql.startswith("CREATE EXTENSION IF NOT EXISTS vector;")
    assert sql.count("DROP INDEX IF EXISTS") == 2
    assert f"DROP INDEX IF EXISTS public.{index_name('documents', distance)}" not in sql


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": "documents", "dimensions": 2001, "distance": "cosine"}, "dimensions"),
        ({"table": "Docs; DROP", "dimensions": 3, "distance": "cosine"}, "collection"),
        ({"table": "documents", "dimensions": 3, "distance": "dot"}, "distance"),
    ],
)
def test_schema_sql_rejects_input_when_invalid(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        schema_sql(**kwargs)


def test_nearest_sql_orders_by_operator_of_distance_when_inner_product() -> None:
    sql = nearest_sql(table="documents", distance="inner_product")

    assert "ORDER BY embedding <#> %(query)s" in sql


@pytest.mark.parametrize(
    ("distance", "operator"), [("cosine", "<=>"), ("l2", "<->"), ("inner_product", "<#>")]
)
def test_nearest_sql_whole_statement_per_distance(distance: str, operator: str) -> None:
    # pgvector operators: <-> L2, <#> negative inner product, <=> cosine distance
    # (https://github.com/pgvector/pgvector#querying); ORDER BY the same operator the HNSW
    # index was built for, or the index is not used.
    assert nearest_sql(table="documents", distance=distance) == (
        f"SELECT id, content, metadata, embedding {operator} %(query)s AS distance "
        f"FROM public.documents ORDER BY embedding {operator} %(query)s LIMIT %(k)s"
    )
    assert nearest_sql(table="chunks", distance=distance, limit_param="10").endswith(
        "FROM public.chunks ORDER BY embedding " + operator + " %(query)s LIMIT 10"
    )


def test_vector_store_pgvector_job_applies_schema_with_mounted_password(
    pg: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = pg
    job = one_in(run, "Job", "vector-store")
    name = job["metadata"]["name"]
    psql = container(job, "psql")
    env = env_of(psql)
    config_map = one(run, "ConfigMap", name)
    pod = job["spec"]["template"]["spec"]

    assert config_map["data"]["schema.sql"] == schema_sql(
        table="documents", dimensions=384, distance="cosine"
    )
    assert name == pgvector.run_name(config_map["data"]["schema.sql"], pgvector.SCHEMA_JOB_IMAGE)
    assert psql["image"] == "docker.io/library/postgres:17.10-alpine"
    assert psql["command"][:2] == ["/bin/sh", "-c"]
    assert '"$DB_PASSWORD_FILE"' in psql["command"][2]
    assert "--single-transaction" in psql["command"][2]
    assert env["DB_PASSWORD_FILE"] == "/mnt/secrets-store/postgres-password"
    mounts = {m["name"]: m["mountPath"] for m in psql["volumeMounts"]}
    assert env["SCHEMA_FILE"] == f"{mounts['schema']}/schema.sql"
    assert mounts["secrets-store"] == "/mnt/secrets-store"
    assert (env["PGDATABASE"], env["PGUSER"], env["PGSSLMODE"], env["PGPORT"]) == (
        "vectors",
        VECTORS_LOGIN,
        "require",
        "5432",  # Azure Database for PostgreSQL's port
    )
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "vector-schema"
    assert job["spec"]["template"]["metadata"]["labels"][USE_LABEL] == "true"
    assert {v["name"]: v for v in pod["volumes"]}["schema"]["configMap"] == {"name": name}


def test_vector_store_pgvector_reads_only_password_secret_when_deployed(
    pg: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = pg
    inputs = workload_inputs(stack_config("dev"), "dev")
    role = run.named("vector-store-identity-secret-reader").inputs
    spc = one(run, "SecretProviderClass", "vector-schema-postgres")
    items = [
        yaml.safe_load(i) for i in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]
    ]
    account = one(run, "ServiceAccount", "vector-schema")

    assert role["scope"] == f"{inputs.key_vault_resource_id}/secrets/{VECTORS_PASSWORD_SECRET}"
    assert role["roleDefinitionId"].endswith(ROLE_IDS["Key Vault Secrets User"])
    assert items == [
        {
            "objectName": VECTORS_PASSWORD_SECRET,
            "objectType": "secret",
            "objectAlias": "postgres-password",
        }
    ]
    assert (
        account["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == seen["vector_store.client_id"]
    )
    assert spc["spec"]["parameters"]["clientID"] == seen["vector_store.client_id"]


def test_vector_store_pgvector_outputs_vectors_database_endpoint(
    pg: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = pg
    fqdn = workload_inputs(stack_config("dev"), "dev").postgres_fqdn

    assert seen["vector_store.endpoint"] == f"postgresql://{fqdn}:5432/vectors"
    assert seen["vector_store.credential_secret_name"] == VECTORS_PASSWORD_SECRET
    assert seen["vector_store.name"] == "pgvector"
    assert objects(run, "StatefulSet") == []


def test_vector_store_pgvector_denies_all_ingress_in_its_namespace(
    pg: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = pg
    policy = one_in(run, "NetworkPolicy", "vector-store")

    assert policy["metadata"]["name"] == "deny-all-ingress"

    assert policy["spec"]["podSelector"] == {}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert "ingress" not in policy["spec"]


def test_vector_store_job_name_changes_when_dimensions_change(run_components: Runner) -> None:
    first, _ = render(stack_config("dev"), "dev", run_components)
    second, _ = render(stack_config("dev", vectorDb={"dimensions": 768}), "dev", run_components)
    job_a = one_in(first, "Job", "vector-store")
    job_b = one_in(second, "Job", "vector-store")

    assert job_a["metadata"]["name"] != job_b["metadata"]["name"]
    assert (
        "vector(768)" in one(second, "ConfigMap", job_b["metadata"]["name"])["data"]["schema.sql"]
    )


def test_vector_store_qdrant_claims_storage_class_and_size_from_config(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = qd
    statefulset = one(run, "StatefulSet", "qdrant")
    (claim,) = statefulset["spec"]["volumeClaimTemplates"]
    mounts = {m["mountPath"]: m["name"] for m in container(statefulset, "qdrant")["volumeMounts"]}

    assert claim["spec"]["storageClassName"] == "managed-csi-premium"
    assert claim["spec"]["resources"]["requests"]["storage"] == "64Gi"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert mounts["/qdrant/storage"] == claim["metadata"]["name"]
    assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert statefulset["spec"]["serviceName"] == "qdrant-headless"
    assert one(run, "Service", "qdrant-headless")["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("protect", [True, False])
def test_vector_store_qdrant_statefulset_protected_and_retained_when_protect(
    run_components: Runner, protect: bool
) -> None:
    cfg = stack_config("dev", vectorDb=QDRANT, protectStatefulResources=protect)
    run, _ = render(cfg, "dev", run_components)
    statefulset = run.named("vector-store-statefulset")
    namespace = run.named("vector-store-namespace")
    deployment = run.named("mlflow-deployment")

    assert (statefulset.protect, statefulset.retain_on_delete) == (protect, protect)
    assert (namespace.protect, namespace.retain_on_delete) == (protect, protect)
    assert (deployment.protect, deployment.retain_on_delete) == (False, False)


def test_vector_store_qdrant_api_key_goes_to_key_vault_masked_when_generated(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = qd
    (password,) = run.of_type("random:index/randomPassword:RandomPassword")
    secret = run.named("vector-store-api-key-secret").inputs
    inputs = workload_inputs(stack_config("dev"), "dev")
    role = run.named("vector-store-identity-secret-reader").inputs

    assert password.inputs["special"] is False
    assert password.inputs["length"] >= 32
    # The value (or the whole properties object holding it) is masked in the record.
    properties = secret["properties"]
    assert properties == MASK or properties["value"] == MASK
    assert SECRET_PLACEHOLDER not in repr([r.inputs for r in run.resources])
    assert secret["secretName"] == "qdrant-api-key"
    assert secret["vaultName"] == inputs.key_vault_name
    assert role["scope"] == f"{inputs.key_vault_resource_id}/secrets/qdrant-api-key"
    assert seen["vector_store.credential_secret_name"] == "qdrant-api-key"
    assert all(r.inputs.get("kind") != "Secret" for r in run.resources)


def test_vector_store_qdrant_reads_api_key_from_mounted_file(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = qd
    statefulset = one(run, "StatefulSet", "qdrant")
    server = container(statefulset, "qdrant")
    env = env_of(server)
    spc = one(run, "SecretProviderClass", "qdrant-api-key")
    items = [
        yaml.safe_load(i) for i in yaml.safe_load(spc["spec"]["parameters"]["objects"])["array"]
    ]
    account = one(run, "ServiceAccount", "qdrant")

    assert env["QDRANT_API_KEY_FILE"] == "/mnt/secrets-store/api-key"
    assert "QDRANT__SERVICE__API_KEY" not in env
    assert 'QDRANT__SERVICE__API_KEY="$(cat "$QDRANT_API_KEY_FILE")"' in server["command"][2]
    assert server["command"][2].rstrip().endswith("exec ./entrypoint.sh")
    assert items == [
        {"objectName": "qdrant-api-key", "objectType": "secret", "objectAlias": "api-key"}
    ]
    assert (
        account["metadata"]["annotations"][CLIENT_ID_ANNOTATION] == seen["vector_store.client_id"]
    )
    assert statefulset["spec"]["template"]["metadata"]["labels"][USE_LABEL] == "true"


def test_vector_store_qdrant_network_policy_admits_platform_namespaces(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = qd
    policy = one(run, "NetworkPolicy", "qdrant-ingress")["spec"]
    (rule,) = policy["ingress"]

    assert rule["ports"] == [{"protocol": "TCP", "port": 6333}, {"protocol": "TCP", "port": 6334}]
    # Ingestion (the workflows namespace) writes vectors.
    assert rule["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == [
        "mlflow",
        "qdrant",
        "workflows",
    ]
    assert policy["podSelector"]["matchLabels"] == qdrant.selector_labels()


def test_vector_store_qdrant_outputs_cluster_endpoint_and_runs_restricted(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, seen = qd
    pod = one(run, "StatefulSet", "qdrant")["spec"]["template"]["spec"]
    server = container(one(run, "StatefulSet", "qdrant"), "qdrant")

    assert seen["vector_store.endpoint"] == "http://qdrant.qdrant.svc.cluster.local:6333"
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"]) == (
        10001,
        10001,
    )
    assert server["imagePullPolicy"] == "Always"
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert server["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"}
    assert pod["nodeSelector"] == {"pool": "cpu"}
    assert in_namespace(run, "Job", "qdrant") == []
    assert [j["metadata"]["namespace"] for j in objects(run, "Job")] == ["db-roles", "mlflow"]


def test_vector_store_rejects_pgvector_without_postgres_inputs(run_components: Runner) -> None:
    def body() -> None:
        VectorStore(
            "vs",
            VectorStoreArgs(
                engine="pgvector",
                namespace="vector-store",
                resource_group_name="rg",
                location="westeurope",
                identity_name="id-vs",
                oidc_issuer_url="https://issuer/",
                tenant_id="t",
                key_vault_name="kv",
                key_vault_resource_id="/subscriptions/s/resourceGroups/rg/providers/x/kv",
                node_placement=Placement(pool="cpu"),
                client_namespaces=["mlflow"],
                postgres_fqdn=pulumi.Output.from_input("db.example"),
            ),
        )

    with pytest.raises(ValueError, match="engine pgvector needs postgres_fqdn"):
        run_components(body)


@pytest.mark.parametrize(
    ("zones", "sku", "name"),
    [
        (["1", "2", "3"], "Premium_ZRS", "qdrant-premium-zrs"),
        (["1"], "Premium_LRS", "qdrant-premium-lrs"),
    ],
)
def test_vector_store_qdrant_volume_zone_redundant_when_pool_spans_zones(
    run_components: Runner, zones: list[str], sku: str, name: str
) -> None:
    cfg = stack_config("dev", vectorDb=QDRANT_DEFAULT_CLASS, cpuPool={"zones": zones})
    run, _ = render(cfg, "dev", run_components)
    (storage_class,) = objects(run, "StorageClass")
    (claim,) = one(run, "StatefulSet", "qdrant")["spec"]["volumeClaimTemplates"]

    assert storage_class["metadata"]["name"] == name
    # Azure Disk CSI driver parameters:
    # https://github.com/kubernetes-sigs/azuredisk-csi-driver/blob/master/docs/driver-parameters.md
    assert storage_class["provisioner"] == "disk.csi.azure.com"
    assert storage_class["parameters"] == {"skuName": sku}
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert claim["spec"]["storageClassName"] == name
    assert (
        run.named("vector-store-storage-class").urn
        in run.named("vector-store-statefulset").dependencies
    )


@pytest.mark.parametrize(("protect", "policy"), [(True, "Retain"), (False, "Delete")])
def test_vector_store_qdrant_storage_class_keeps_disks_when_protected(
    run_components: Runner, protect: bool, policy: str
) -> None:
    cfg = stack_config("dev", vectorDb=QDRANT_DEFAULT_CLASS, protectStatefulResources=protect)
    run, _ = render(cfg, "dev", run_components)
    (storage_class,) = objects(run, "StorageClass")

    assert storage_class["reclaimPolicy"] == policy


def test_vector_store_qdrant_uses_configured_class_without_creating_one(
    qd: tuple[OfflineRun, dict[str, Any]],
) -> None:
    run, _ = qd

    assert objects(run, "StorageClass") == []


@pytest.mark.parametrize(
    ("distance", "expected"), [("cosine", "Cosine"), ("l2", "Euclid"), ("inner_product", "Dot")]
)
def test_qdrant_collection_body_uses_qdrant_distance_names(distance: str, expected: str) -> None:
    # https://qdrant.tech/documentation/concepts/collections/#create-a-collection :
    # PUT /collections/<name> {"vectors": {"size": N, "distance": "Cosine" | "Euclid" | "Dot"}}
    assert qdrant.collection_config(dimensions=384, distance=distance) == {
        "vectors": {"size": 384, "distance": expected}
    }
