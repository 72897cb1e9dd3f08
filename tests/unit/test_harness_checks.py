"""The component harness's parent check (tests/conftest.py ``_check_parented``) refuses what it
is there to refuse: a check that cannot fail would let every component test pass."""

from __future__ import annotations

import pytest

from offline.runner import OfflineRun, RecordedResource
from tests.conftest import _check_parented
from tests.records import recorded

STACK = "urn:pulumi:unit::aks-mlops::pulumi:pulumi:Stack::aks-mlops-unit"
OWNER = "urn:pulumi:unit::aks-mlops::aks-mlops:unit:Owner::owner"


def _res(typ: str, name: str, parent: str, custom: bool = True) -> RecordedResource:
    return recorded(typ, name, parent=parent, custom=custom)


def test_harness_parent_check_refuses_a_resource_at_the_stacks_root() -> None:
    run = OfflineRun(
        stack="unit",
        resources=[
            _res("aks-mlops:unit:Owner", "owner", STACK, custom=False),
            _res("kubernetes:core/v1:ConfigMap", "owner-config", OWNER),
            _res("kubernetes:core/v1:ConfigMap", "stray", STACK),
            _res("kubernetes:core/v1:ConfigMap", "no-parent", ""),
        ],
    )
    with pytest.raises(AssertionError, match=r"\['stray', 'no-parent'\]"):
        _check_parented(run)


def test_harness_parent_check_accepts_a_tests_own_inputs_at_the_root() -> None:
    run = OfflineRun(
        stack="unit",
        resources=[
            _res("pulumi:providers:kubernetes", "k8s", STACK),
            _res("random:index/randomPassword:RandomPassword", "pw", STACK),
            _res("kubernetes:core/v1:ConfigMap", "owner-config", OWNER),
        ],
    )
    _check_parented(run)
