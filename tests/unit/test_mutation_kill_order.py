"""The order tests run in under mutmut (tests/conftest.py ``kill_rank``): only speed depends on
it, but tests of one file given apart set its module fixtures up again, and a slow file first
makes every killed mutant pay for it."""

from __future__ import annotations

import pytest

from tests.conftest import kill_rank, pytest_collection_modifyitems

NODE_IDS = [
    "tests/manifests/test_checkov.py::test_checkov_reports_no_failed_check_on_any_stack",
    "tests/stacks/test_wiring.py::test_wiring_config_value_reaches_its_resource[dev-location0]",
    "tests/observability/test_alert_rules.py::test_a",
    "tests/manifests/test_manifests_valid.py::test_b",
    "tests/stacks/test_identities.py::test_identities_match_the_golden_files[dev]",
    "tests/components/test_mlflow.py::test_c",
    "tests/unit/test_config.py::test_d",
    "tests/stacks/test_data_stacks.py::test_e",
    "tests/components/test_acr.py::test_f",
]


def test_kill_order_fine_grained_first_identities_next_checkov_last() -> None:
    ordered = [n.split("::")[0] for n in sorted(NODE_IDS, key=kill_rank)]
    assert ordered == [
        "tests/unit/test_config.py",
        "tests/components/test_acr.py",
        "tests/components/test_mlflow.py",
        "tests/stacks/test_identities.py",
        "tests/stacks/test_data_stacks.py",
        "tests/stacks/test_wiring.py",
        "tests/observability/test_alert_rules.py",
        "tests/manifests/test_manifests_valid.py",
        "tests/manifests/test_checkov.py",
    ]


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_kill_order_not_applied_outside_mutmut(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    items = [_Item(n) for n in NODE_IDS]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == NODE_IDS


@pytest.mark.parametrize("under_test", ["components.kit.naming.x_name__mutmut_1", "", "stats"])
def test_kill_order_applied_under_mutmut(monkeypatch: pytest.MonkeyPatch, under_test: str) -> None:
    # mutmut's clean run sets the variable empty; its mutants set their names.
    monkeypatch.setenv("MUTANT_UNDER_TEST", under_test)
    items = [_Item(n) for n in [*NODE_IDS[1:], NODE_IDS[0], "tests/unit/test_config.py::test_z"]]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items[:2]] == [
        "tests/unit/test_config.py::test_d",
        "tests/unit/test_config.py::test_z",
    ]  # a file's tests together, even when given apart
    assert items[-1].nodeid.startswith("tests/manifests/test_checkov.py::")
    # A file's tests stay in the order they were collected.
    same = ["tests/unit/test_x.py::b", "tests/unit/test_x.py::a"]
    items = [_Item(n) for n in same]
    pytest_collection_modifyitems(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == same
