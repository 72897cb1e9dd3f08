"""The one mock harness: every test that registers resources goes through it.

- ``run_components(body)`` runs ``body`` (component constructors) under Pulumi's mock runtime
  with a fresh root stack and returns what was registered (inputs with wire names, parent,
  dependencies, protect / retain options). Every component the body builds must register
  its outputs, each under the name of the component attribute that holds it (the outputs
  `pulumi stack export` and the console show are the ones the code hands to consumers).
- ``stack_runs`` runs the real program for every stack file once per session.
- ``stack_config(stack)`` is a stack file's config as the engine passes it, to mutate in tests.
- Under ``make mutation``'s stats pass, what a session- or module-scoped fixture ran (e.g. the
  whole program in ``stack_runs``) is credited to every test that uses the fixture, not only to
  the first one (see ``pytest_fixture_setup`` below).

The mocks (``offline.runner.OfflineMocks``) return realistic Azure ids and the computed
outputs later resources consume (OIDC issuer URL, kubelet identity, login server), so inputs
that depend on them are real values, never unknowns.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Generator
from typing import Any

import pulumi
import pytest
from pulumi.runtime.stack import Stack

from offline.runner import OfflineRun, list_stacks, load_stack_config, run_callable, run_program
from tests import k8s_conventions, k8s_semantics

STACKS = ("dev", "test", "prod")

# mutmut's stats pass credits every product function a test reaches to that test, and a mutant
# is later checked against the tests credited with its function only. A shared fixture runs
# once, during the first test that asks for it, so without this every later test using it would
# be left out and its mutants checked against one test: the score would understate the suite.
_SHARED_FIXTURE_HITS: dict[str, frozenset[str]] = {}


def _mutmut_stats() -> set[str] | None:
    """The functions hit since the last test, while mutmut collects stats; else None."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return None
    from mutmut.state import state  # noqa: PLC0415 (only installed with the dev extra)

    hits: set[str] = state()._stats
    return hits


class _SharedFixtureHits:
    """Records what each session- or module-scoped fixture reached. Registered as a plugin of
    its own: pytest asks a directory's conftest hooks only about nodes below it, and a session
    fixture is set up for the session node, above ``tests/``."""

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Generator[None, object, object]:
        result = yield
        hits = _mutmut_stats()
        if hits is not None and fixturedef.scope != "function":
            _SHARED_FIXTURE_HITS[fixturedef.argname] = frozenset(hits)
        return result


def pytest_configure(config: pytest.Config) -> None:
    if _mutmut_stats() is not None:
        config.pluginmanager.register(_SharedFixtureHits(), "aks-mlops-shared-fixture-hits")


# Under mutmut (its clean run, and every mutant), the tests credited with the mutated functions
# are given to pytest as node ids in no particular order, and pytest runs them in the order
# given: a module's tests interleaved with other modules' set its module fixtures up again
# each time (whole stacks, checkov), which made one mutant cost minutes. Here they run grouped
# by file, and, since a mutant's run stops at the first failure (-x), in the order most likely
# to fail fast: fine-grained files first, the golden identities (any URN or physical-name
# change) next, then the other stack-wide checks, and the manifests' scanners (checkov's
# set-up is the slowest of the suite) last. Only the time depends on the order.
KILL_ORDER = (
    "tests/unit/",
    "tests/components/",
    "tests/stacks/test_identities.py",
    "tests/stacks/",
    "tests/observability/",
    "tests/manifests/test_manifests_valid.py",
    "tests/manifests/",
)


def kill_rank(nodeid: str) -> tuple[int, str]:
    """Where a test runs under a mutant: its rank in KILL_ORDER, then its file (a file's tests
    stay together, so module fixtures are set up once)."""
    path = nodeid.split("::", 1)[0]
    rank = next((i for i, p in enumerate(KILL_ORDER) if path.startswith(p)), len(KILL_ORDER))
    return rank, path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if "MUTANT_UNDER_TEST" not in os.environ:  # not under mutmut: pytest's own order
        return
    items.sort(key=lambda item: kill_rank(item.nodeid))  # stable: order kept within a file


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    hits = _mutmut_stats()
    if hits is not None:
        for name in getattr(item, "fixturenames", ()):
            hits |= _SHARED_FIXTURE_HITS.get(name, frozenset())


@pytest.fixture
def run_components() -> Callable[[Callable[[], object]], OfflineRun]:
    """Run component constructors under mocks; returns the recorded registrations."""

    def _run(body: Callable[[], object]) -> OfflineRun:
        registered: list[tuple[pulumi.ComponentResource, object]] = []
        original = pulumi.ComponentResource.register_outputs

        def _record(self: pulumi.ComponentResource, outputs: Any) -> None:
            registered.append((self, outputs))
            original(self, outputs)

        pulumi.ComponentResource.register_outputs = _record  # type: ignore[method-assign]
        try:
            run = run_callable(body, stack="unit")
        finally:
            pulumi.ComponentResource.register_outputs = original  # type: ignore[method-assign]
        urns = {(r.type, r.name): r.urn for r in run.resources if not r.custom}
        for component, outputs in registered:
            if isinstance(component, Stack):  # the root stack registers the program's exports
                continue
            _check_registered_outputs(component, outputs)
            resolved = run.component_outputs[urns[component._type, component._name]]
            may_be_none = OPTIONAL_OUTPUTS.get(type(component).__name__, set())
            keys = set(outputs) if isinstance(outputs, dict) else set()
            none = sorted(keys - set(resolved) - may_be_none)
            assert not none, f"{type(component).__name__} outputs resolved to None: {none}"
        _check_parented(run)
        _check_child_names(run)
        manifests = [r.inputs for r in run.resources if r.type.startswith("kubernetes:")]
        objects: list[k8s_semantics.Obj] = [m for m in manifests if "kind" in m]
        found = k8s_semantics.problems(objects)
        assert not found, f"refused by the API server or admission, or unresolved: {found}"
        found = k8s_conventions.problems(objects)
        assert not found, f"pods breaking the project's rules: {found}"
        _check_type_tokens(run, [c for c, _ in registered if not isinstance(c, Stack)])
        return run

    return _run


# Component outputs that are None by design in some configurations (every other output of
# every component must resolve to a value: a consumer reading None would misconfigure itself).
OPTIONAL_OUTPUTS = {
    "Network": {"route_table_id"},  # no route table unless egress goes through a firewall
    # Entra-only authentication: no administrator login, no password secret.
    "PostgresServer": {"administrator_login", "password_secret_name"},
}


# The type token of every component, as deployed: part of every child's URN, so a change
# replaces what users have (identities/*.yaml hold the stacks' URNs; this covers every
# component a component test builds). Written out, never read from the code.
COMPONENT_TYPES = {
    "AksCluster": "aks-mlops:aks:AksCluster",
    "NodePool": "aks-mlops:aks:NodePool",
    "AllowedImagesPolicy": "aks-mlops:cluster:AllowedImagesPolicy",
    "DefenderForContainers": "aks-mlops:cluster:DefenderForContainers",
    "DataLake": "aks-mlops:data:DataLake",
    "DatabaseRoles": "aks-mlops:data:DatabaseRoles",
    "PostgresServer": "aks-mlops:data:PostgresServer",
    "WorkloadIdentity": "aks-mlops:identity:WorkloadIdentity",
    "Network": "aks-mlops:network:Network",
    "AlertActionGroup": "aks-mlops:observability:AlertActionGroup",
    "ContainerInsights": "aks-mlops:observability:ContainerInsights",
    "DiagnosticSettings": "aks-mlops:observability:DiagnosticSettings",
    "GrafanaDashboards": "aks-mlops:observability:GrafanaDashboards",
    "LogAnalyticsWorkspace": "aks-mlops:observability:LogAnalyticsWorkspace",
    "ManagedGrafana": "aks-mlops:observability:ManagedGrafana",
    "ManagedPrometheus": "aks-mlops:observability:ManagedPrometheus",
    "PrometheusRuleGroups": "aks-mlops:observability:PrometheusRuleGroups",
    "ContainerRegistry": "aks-mlops:registry:ContainerRegistry",
    "KeyVault": "aks-mlops:secrets:KeyVault",
    "ModelServing": "aks-mlops:serving:ModelServing",
    "KubeRay": "aks-mlops:workflows:KubeRay",
    "Workflows": "aks-mlops:workflows:Workflows",
    "DcgmExporter": "aks-mlops:workloads:DcgmExporter",
    "Mlflow": "aks-mlops:workloads:Mlflow",
    "NvidiaDevicePlugin": "aks-mlops:workloads:NvidiaDevicePlugin",
    "VectorStore": "aks-mlops:workloads:VectorStore",
}


def _check_type_tokens(run: OfflineRun, components: list[pulumi.ComponentResource]) -> None:
    expected = {COMPONENT_TYPES.get(type(c).__name__, type(c).__name__) for c in components}
    tokens = {r.type for r in run.resources if not r.custom and r.type != "pulumi:pulumi:Stack"}
    assert tokens == expected, f"component type tokens {sorted(tokens)} != {sorted(expected)}"


def _check_child_names(run: OfflineRun) -> None:
    """A component's children are named ``<component name>-<what>`` (the project's naming of
    logical names: URNs stay unique per component and readable in the console)."""
    names = {
        r.urn: r.name for r in run.resources if not r.custom and r.type != "pulumi:pulumi:Stack"
    }
    stray = [
        f"{r.name} (in {names[r.parent]})"
        for r in run.resources
        if r.parent in names
        and r.type != "pulumi:pulumi:Stack"
        and not r.name.startswith(f"{names[r.parent]}-")
    ]
    assert not stray, f"children not named after their component: {stray}"


# Types a component test creates at the stack's root to hand to a component (never a type a
# component creates): providers and random values.
TEST_INPUT_TYPES = ("pulumi:providers:", "random:")


def _check_parented(run: OfflineRun) -> None:
    """Every resource a component creates is its child (or a child of one of its children): a
    resource left at the stack's root gets another URN than the one users deployed, and is
    missing from the component's tree in the console and the plan."""
    # The root stack is not among the records (the monitor leaves it out): a resource at the
    # root names a parent whose type is the Stack's, or none. What a test itself creates there
    # as a component's input (a provider, a password) is not a component's child.
    orphans = [
        r.name
        for r in run.resources
        if r.custom
        and (not r.parent or r.parent.split("::")[2] == "pulumi:pulumi:Stack")
        and not r.type.startswith(TEST_INPUT_TYPES)
    ]
    assert not orphans, f"created outside any component: {orphans}"


def _check_registered_outputs(component: pulumi.ComponentResource, outputs: object) -> None:
    kind = type(component).__name__
    assert isinstance(outputs, dict), f"{kind} registers no outputs"
    assert outputs, f"{kind} registers no outputs"
    missing = object()
    for key, value in outputs.items():
        assert getattr(component, key, missing) is value, (
            f"{kind} registers output {key!r}, which is not the attribute of that name"
        )


@pytest.fixture(scope="session")
def stack_runs() -> dict[str, OfflineRun]:
    """The program run offline for every stack file (dev, test, prod, ...)."""
    assert set(STACKS) <= set(list_stacks()), "dev, test and prod stack files must exist"
    runs = {}
    for stack in list_stacks():
        config, secrets = load_stack_config(stack)
        runs[stack] = run_program(stack, config, secrets)
    return runs


def stack_values(stack: str) -> dict[str, Any]:
    """A stack file's ``aks-mlops:*`` config decoded to Python values (a deep copy)."""
    config, _ = load_stack_config(stack)
    out: dict[str, Any] = {}
    for key, raw in config.items():
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return copy.deepcopy(out)


def encode(values: dict[str, Any]) -> dict[str, str]:
    """Python values back to engine-shaped config strings."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
