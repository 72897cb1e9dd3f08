"""Globally unique names depend on the deployer's subscription unless ``nameSuffix`` is set.

The real program runs under mocks whose client config reports a chosen subscription id.
"""

from __future__ import annotations

from offline.runner import OfflineMocks, OfflineRun, RecordingMonitor, run_program
from tests.conftest import encode, stack_values

# Azure types whose names are global (DNS names): storage, registry, vault, PostgreSQL.
GLOBAL_TYPES = {
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:dbforpostgresql:Server": "serverName",
}
SUB_A = "00000000-0000-4000-8000-000000000001"
SUB_B = "0f0e0d0c-0b0a-4900-8800-123456789abc"


def _run(subscription_id: str, name_suffix: str | None = None) -> OfflineRun:
    values = stack_values("dev")
    if name_suffix is not None:
        values["aks-mlops:nameSuffix"] = name_suffix
    monitor = RecordingMonitor(OfflineMocks(subscription_id=subscription_id))
    return run_program("dev", encode(values), monitor=monitor)


def _global_names(run: OfflineRun) -> dict[str, str]:
    names = {}
    for typ, key in GLOBAL_TYPES.items():
        (resource,) = run.of_type(typ)
        names[typ] = resource.inputs[key]
    return names


def test_names_globally_unique_differ_between_subscriptions() -> None:
    a, b = _global_names(_run(SUB_A)), _global_names(_run(SUB_B))
    assert set(a) == set(GLOBAL_TYPES)
    for typ in GLOBAL_TYPES:
        assert a[typ] != b[typ], typ


def test_names_globally_unique_are_stable_for_one_subscription() -> None:
    assert _global_names(_run(SUB_B)) == _global_names(_run(SUB_B))


def test_names_name_suffix_overrides_the_subscription() -> None:
    a = _global_names(_run(SUB_A, name_suffix="keep01"))
    b = _global_names(_run(SUB_B, name_suffix="keep01"))
    assert a == b
    assert all(name.endswith("keep01") for name in a.values()), a
