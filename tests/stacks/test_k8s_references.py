"""Every shipped stack's Kubernetes objects reference only what exists: volumes, probe ports,
and the pod ports a Service targets (tests/k8s_semantics.py)."""

from __future__ import annotations

import pytest

from offline.manifests import manifest
from offline.runner import OfflineRun
from tests import k8s_conventions
from tests.conftest import STACKS
from tests.k8s_semantics import pod_templates, problems


@pytest.mark.parametrize("stack", STACKS)
def test_k8s_references_resolve_in_every_stack(
    stack_runs: dict[str, OfflineRun], stack: str
) -> None:
    objects = [
        manifest(r)
        for r in stack_runs[stack].resources
        if r.type.startswith("kubernetes:") and "kind" in r.inputs
    ]

    # The check has something to check: the stacks run workloads.
    assert sum(1 for o in objects for _ in pod_templates(o)) >= 5
    assert problems(objects) == []
    assert k8s_conventions.problems(objects) == []
