"""The project's pod rules (tests/k8s_conventions.py) catch what they are for."""

from __future__ import annotations

from typing import Any

from tests.k8s_conventions import problems


def _job(pod: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": pod}}}


GOOD = {
    "automountServiceAccountToken": False,
    "volumes": [
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        {"name": "secrets", "csi": {"driver": "secrets-store.csi.k8s.io"}},
    ],
    "initContainers": [{"name": "wait", "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]}],
    "containers": [{"name": "main", "volumeMounts": [{"name": "secrets", "mountPath": "/s"}]}],
}


def test_conventions_accept_a_pod_that_keeps_them() -> None:
    assert problems([_job(GOOD)]) == []


def test_conventions_refuse_a_mounted_api_token() -> None:
    for value in (True, None):
        pod = {**GOOD, "automountServiceAccountToken": value}
        if value is None:
            del pod["automountServiceAccountToken"]
        assert problems([_job(pod)]) == ["Job/j: automountServiceAccountToken is not false"]


def test_conventions_refuse_a_volume_no_container_mounts() -> None:
    pod = {**GOOD, "containers": [{"name": "main"}]}
    assert problems([_job(pod)]) == ["Job/j: volume 'secrets' is mounted by no container"]


def test_conventions_refuse_a_volume_without_exactly_one_source() -> None:
    pod = {
        **GOOD,
        "volumes": [{"name": "tmp"}, {"name": "secrets", "csi": {}, "secret": {"a": 1}}],
    }
    assert problems([_job(pod)]) == [
        "Job/j: volume 'tmp' has sources []",
        "Job/j: volume 'secrets' has sources ['csi', 'secret']",
    ]
