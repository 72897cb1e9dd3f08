"""The harness's Kubernetes reference checks (tests/k8s_semantics.py) fail on broken objects."""

from __future__ import annotations

import copy
from typing import Any

from tests.k8s_semantics import problems

DEPLOYMENT: dict[str, Any] = {
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "apps"},
    "spec": {
        "template": {
            "metadata": {"labels": {"app": "web", "tier": "front"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        }
    },
}
SERVICE: dict[str, Any] = {
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "apps"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
}


def test_k8s_semantics_accepts_consistent_objects() -> None:
    assert problems([DEPLOYMENT, SERVICE]) == []


def test_k8s_semantics_finds_mount_without_volume() -> None:
    broken = copy.deepcopy(DEPLOYMENT)
    del broken["spec"]["template"]["spec"]["volumes"]

    assert problems([broken]) == ["Deployment/web/web: mount 'tmp', no volume"]


def test_k8s_semantics_finds_probe_on_undeclared_port() -> None:
    broken = copy.deepcopy(DEPLOYMENT)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]

    assert problems([broken]) == ["Deployment/web/web: probe on port 'http', not declared"]


def test_k8s_semantics_finds_service_target_port_no_pod_declares() -> None:
    broken = copy.deepcopy(SERVICE)
    broken["spec"]["ports"][0]["targetPort"] = "https"

    assert problems([DEPLOYMENT, broken]) == ["Service web: targetPort 'https' names no pod port"]


def test_k8s_semantics_statefulset_claim_templates_are_volumes() -> None:
    sts = copy.deepcopy(DEPLOYMENT)
    sts["kind"] = "StatefulSet"
    del sts["spec"]["template"]["spec"]["volumes"]
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "tmp"}}]

    assert problems([sts]) == []
