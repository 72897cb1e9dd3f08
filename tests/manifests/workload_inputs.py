"""Literal Azure outputs for calling ``build_workloads`` under the mocks, and a renderer.

Values are shaped like the ones the data components will hand over (resource ids, names,
FQDN), so what the workloads are built from looks like a real stack's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.kit.naming import Kind, Namer
from infra.config import PlatformConfig, parse_config
from infra.workloads import WorkloadInputs, Workloads, build_workloads
from offline.runner import SUBSCRIPTION_ID, TENANT_ID, OfflineRun
from tests.conftest import stack_values

ADMIN_LOGIN = "mlopsadmin"
ADMIN_PASSWORD_SECRET = "postgres-admin-password"
# Written out (not imported) so a renamed role or secret fails the tests.
MLFLOW_LOGIN = "mlflow_app"
MLFLOW_PASSWORD_SECRET = "postgres-mlflow-password"
VECTORS_LOGIN = "vectors_app"
VECTORS_PASSWORD_SECRET = "postgres-vectors-password"


def workload_inputs(cfg: PlatformConfig, stack: str) -> WorkloadInputs:
    """Inputs for ``stack`` named the way the stack's namer names them."""
    namer = Namer(
        workload=cfg.workload,
        stack=stack,
        location=cfg.location,
        subscription_id=SUBSCRIPTION_ID,
        suffix=cfg.name_suffix,
    )
    group = namer.name(Kind.RESOURCE_GROUP)
    base = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}/providers"
    account = namer.name(Kind.STORAGE_ACCOUNT)
    vault = namer.name(Kind.KEY_VAULT)
    server = f"{base}/Microsoft.DBforPostgreSQL/flexibleServers/{namer.name(Kind.POSTGRES_SERVER)}"
    return WorkloadInputs(
        resource_group_name=group,
        location=cfg.location,
        cluster_name=namer.name(Kind.AKS_CLUSTER),
        oidc_issuer_url=f"https://{cfg.location}.oic.prod-aks.azure.com/{TENANT_ID}/0000/",
        tenant_id=TENANT_ID,
        storage_account_name=account,
        artifacts_container_resource_id=(
            f"{base}/Microsoft.Storage/storageAccounts/{account}/blobServices/default/"
            "containers/mlflow-artifacts"
        ),
        key_vault_name=vault,
        key_vault_resource_id=f"{base}/Microsoft.KeyVault/vaults/{vault}",
        postgres_fqdn=f"{namer.name(Kind.POSTGRES_SERVER)}.postgres.database.azure.com",
        postgres_admin_login=ADMIN_LOGIN,
        postgres_admin_password_secret_name=ADMIN_PASSWORD_SECRET,
        postgres_app_password_secret_names={
            "mlflow": MLFLOW_PASSWORD_SECRET,
            "vectors": VECTORS_PASSWORD_SECRET,
        },
        postgres_database_resource_ids={
            "mlflow": f"{server}/databases/mlflow",
            "vectors": f"{server}/databases/vectors",
        },
        postgres_extensions_resource_id=f"{server}/configurations/azure.extensions",
        tags=cfg.tags.as_dict(),
        api_server_path_ids=[],
        namer=namer,
    )


def stack_config(stack: str, **overrides: Any) -> PlatformConfig:
    """A stack file's config, with top-level sections deep-merged from ``overrides``."""
    values = stack_values(stack)
    for key, value in overrides.items():
        full = f"aks-mlops:{key}"
        current = values.get(full)
        if isinstance(current, dict) and isinstance(value, dict):
            values[full] = _merge(current, value)
        else:
            values[full] = value
    return parse_config(values)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def render(
    cfg: PlatformConfig,
    stack: str,
    run_components: Callable[[Callable[[], object]], OfflineRun],
) -> tuple[OfflineRun, dict[str, Any]]:
    """``build_workloads`` for ``cfg`` under the mocks: the run and the components' outputs.

    Outputs are read inside the run (``apply``), keyed ``mlflow.<attr>`` and
    ``vector_store.<attr>``.
    """
    seen: dict[str, Any] = {}

    def body() -> None:
        built: Workloads = build_workloads(cfg, workload_inputs(cfg, stack))
        for component, attrs in {
            "mlflow": ("name", "namespace", "tracking_uri", "client_id", "principal_id"),
            "vector_store": (
                "name",
                "namespace",
                "endpoint",
                "credential_secret_name",
                "client_id",
                "principal_id",
            ),
        }.items():
            for attr in attrs:
                output = getattr(getattr(built, component), attr)
                output.apply(lambda value, key=f"{component}.{attr}": seen.__setitem__(key, value))

    run = run_components(body)
    return run, seen


def objects(run: OfflineRun, kind: str) -> list[dict[str, Any]]:
    """Recorded inputs of every Kubernetes object of ``kind``."""
    return [
        r.inputs
        for r in run.resources
        if r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
    ]


def one(run: OfflineRun, kind: str, name: str) -> dict[str, Any]:
    """The recorded inputs of the ``kind`` object named ``name`` (exactly one)."""
    found = [o for o in objects(run, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} objects named {name!r}"
    return found[0]


def in_namespace(run: OfflineRun, kind: str, namespace: str) -> list[dict[str, Any]]:
    """Recorded inputs of every ``kind`` object in ``namespace``."""
    return [o for o in objects(run, kind) if o["metadata"].get("namespace") == namespace]


def one_in(run: OfflineRun, kind: str, namespace: str) -> dict[str, Any]:
    """The one ``kind`` object in ``namespace``."""
    found = in_namespace(run, kind, namespace)
    assert len(found) == 1, f"{len(found)} {kind} objects in namespace {namespace!r}"
    return found[0]


def container(workload: dict[str, Any], name: str) -> dict[str, Any]:
    """A container of a Deployment / StatefulSet / Job by name."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    found = [c for c in containers if c["name"] == name]
    assert len(found) == 1, f"{len(found)} containers named {name!r}"
    return found[0]


def env_of(spec: dict[str, Any]) -> dict[str, str]:
    """A container's env as a mapping (every entry must be a plain value)."""
    return {e["name"]: e["value"] for e in spec.get("env", [])}
