"""The harness's Kubernetes reference checks (tests/k8s_semantics.py) fail on broken objects."""

from __future__ import annotations

import copy
from typing import Any

import pytest

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


# --- API server validation (tests/k8s_validation.py) ---------------------------------------
# Each row: a small object broken in one field -> the exact problem. Enumerations are the
# Kubernetes API reference's (https://kubernetes.io/docs/reference/kubernetes-api/), written
# here as literals; a different case is a different (refused) value.


def _pod(**spec: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": "img:1"}], **spec}


def _workload(kind: str, pod: dict[str, Any], **spec: Any) -> dict[str, Any]:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": pod}
    body: dict[str, Any] = {"template": template, **spec}
    if kind == "CronJob":
        body = {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}, **spec}
    return {"kind": kind, "metadata": {"name": "x", "namespace": "apps"}, "spec": body}


def _container(**fields: Any) -> dict[str, Any]:
    return _pod(containers=[{"name": "c", "image": "img:1", **fields}])


def _required_node_affinity(*requirements: dict[str, Any]) -> dict[str, Any]:
    terms = [{"matchExpressions": list(requirements)}]
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
        }
    }


def _obj(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x", "namespace": "apps"}, "spec": spec}


DS = "DaemonSet/x"
VALIDATION_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "toleration operator case",
        _workload("DaemonSet", _pod(tolerations=[{"key": "k", "operator": "EXISTS"}])),
        [f"{DS}: toleration operator 'EXISTS' is not one of Exists, Equal"],
    ),
    (
        "toleration effect",
        _workload(
            "DaemonSet",
            _pod(tolerations=[{"key": "k", "operator": "Exists", "effect": "XXNoScheduleXX"}]),
        ),
        [
            f"{DS}: toleration effect 'XXNoScheduleXX' is not one of "
            "NoSchedule, PreferNoSchedule, NoExecute"
        ],
    ),
    (
        "toleration Exists with a value",
        _workload(
            "DaemonSet", _pod(tolerations=[{"key": "k", "operator": "Exists", "value": "v"}])
        ),
        [f"{DS}: toleration 'k' Exists takes no value"],
    ),
    (
        "toleration without key, Equal",
        _workload("DaemonSet", _pod(tolerations=[{"operator": "Equal", "value": "v"}])),
        [f"{DS}: toleration without a key must use operator Exists"],
    ),
    (
        "tolerationSeconds without NoExecute",
        _workload(
            "DaemonSet",
            _pod(
                tolerations=[
                    {
                        "key": "k",
                        "operator": "Exists",
                        "effect": "NoSchedule",
                        "tolerationSeconds": 60,
                    }
                ]
            ),
        ),
        [f"{DS}: toleration 'k' tolerationSeconds needs effect NoExecute"],
    ),
    (
        "node selector operator",
        _workload(
            "DaemonSet",
            _pod(
                affinity=_required_node_affinity(
                    {"key": "accelerator", "operator": "XXInXX", "values": ["nvidia"]}
                )
            ),
        ),
        [
            f"{DS}: node selector operator 'XXInXX' is not one of In, NotIn, Exists, DoesNotExist, "
            "Gt, Lt"
        ],
    ),
    (
        "node selector In without values",
        _workload(
            "DaemonSet",
            _pod(affinity=_required_node_affinity({"key": "accelerator", "operator": "In"})),
        ),
        [f"{DS}: node selector 'accelerator' In needs values"],
    ),
    (
        "node selector DoesNotExist with values",
        _workload(
            "DaemonSet",
            _pod(
                affinity=_required_node_affinity(
                    {"key": "mig", "operator": "DoesNotExist", "values": ["x"]}
                )
            ),
        ),
        [f"{DS}: node selector 'mig' DoesNotExist takes no values"],
    ),
    (
        "node selector Gt not an integer",
        _workload(
            "DaemonSet",
            _pod(
                affinity=_required_node_affinity(
                    {"key": "gpus", "operator": "Gt", "values": ["two"]}
                )
            ),
        ),
        [f"{DS}: node selector 'gpus' Gt needs one integer value"],
    ),
    (
        "label selector operator",
        _workload(
            "DaemonSet",
            _pod(),
            selector={"matchExpressions": [{"key": "app", "operator": "in", "values": ["x"]}]},
        ),
        [f"{DS}: matchExpressions operator 'in' is not one of In, NotIn, Exists, DoesNotExist"],
    ),
    (
        "label selector NotIn without values",
        _workload(
            "DaemonSet",
            _pod(),
            selector={"matchExpressions": [{"key": "app", "operator": "NotIn"}]},
        ),
        [f"{DS}: matchExpressions 'app' NotIn needs values"],
    ),
    (
        "imagePullPolicy case",
        _workload("DaemonSet", _container(imagePullPolicy="always")),
        [f"{DS}/c: imagePullPolicy 'always' is not one of Always, IfNotPresent, Never"],
    ),
    (
        "container port protocol",
        _workload("DaemonSet", _container(ports=[{"containerPort": 80, "protocol": "tcp"}])),
        [f"{DS}/c: port protocol 'tcp' is not one of TCP, UDP, SCTP"],
    ),
    (
        "probe scheme",
        _workload(
            "DaemonSet", _container(livenessProbe={"httpGet": {"port": 80, "scheme": "http"}})
        ),
        [f"{DS}/c: livenessProbe scheme 'http' is not one of HTTP, HTTPS"],
    ),
    (
        "container seccomp type",
        _workload(
            "DaemonSet", _container(securityContext={"seccompProfile": {"type": "runtime/default"}})
        ),
        [
            f"{DS}/c: seccompProfile type 'runtime/default' is not one of "
            "RuntimeDefault, Localhost, Unconfined"
        ],
    ),
    (
        "pod seccomp Localhost without a profile",
        _workload("DaemonSet", _pod(securityContext={"seccompProfile": {"type": "Localhost"}})),
        [f"{DS}: seccompProfile type Localhost needs a localhostProfile"],
    ),
    (
        "fsGroupChangePolicy",
        _workload("DaemonSet", _pod(securityContext={"fsGroupChangePolicy": "OnMismatch"})),
        [f"{DS}: fsGroupChangePolicy 'OnMismatch' is not one of OnRootMismatch, Always"],
    ),
    (
        "hostPath type",
        _workload(
            "DaemonSet", _pod(volumes=[{"name": "dev", "hostPath": {"path": "/d", "type": "Dir"}}])
        ),
        [
            f"{DS}/dev: hostPath type 'Dir' is not one of \"\", DirectoryOrCreate, Directory, "
            "FileOrCreate, File, Socket, CharDevice, BlockDevice"
        ],
    ),
    (
        "restartPolicy value",
        _workload("Deployment", _pod(restartPolicy="Sometimes")),
        [
            "Deployment/x: restartPolicy 'Sometimes' is not one of Always, OnFailure, Never",
            "Deployment/x: a Deployment's pods restart Always, not 'Sometimes'",
        ],
    ),
    (
        "Deployment pods restart Never",
        _workload("Deployment", _pod(restartPolicy="Never")),
        ["Deployment/x: a Deployment's pods restart Always, not 'Never'"],
    ),
    (
        "Job pods restart unset (defaults to Always)",
        _workload("Job", _pod()),
        ["Job/x: a Job's pods restart OnFailure or Never, not None"],
    ),
    (
        "CronJob pods restart Always",
        _workload("CronJob", _pod(restartPolicy="Always")),
        ["CronJob/x: a CronJob's pods restart OnFailure or Never, not 'Always'"],
    ),
    (
        "CronJob concurrencyPolicy",
        _workload("CronJob", _pod(restartPolicy="Never"), concurrencyPolicy="forbid"),
        ["CronJob/x: concurrencyPolicy 'forbid' is not one of Allow, Forbid, Replace"],
    ),
    (
        "Deployment strategy type",
        _workload("Deployment", _pod(), strategy={"type": "Rolling"}),
        ["Deployment/x: strategy type 'Rolling' is not one of Recreate, RollingUpdate"],
    ),
    (
        "DaemonSet updateStrategy type",
        _workload("DaemonSet", _pod(), updateStrategy={"type": "rollingUpdate"}),
        [f"{DS}: updateStrategy type 'rollingUpdate' is not one of RollingUpdate, OnDelete"],
    ),
    (
        "topology spread whenUnsatisfiable",
        _workload(
            "Deployment",
            _pod(
                topologySpreadConstraints=[
                    {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "Schedule"}
                ]
            ),
        ),
        ["Deployment/x: whenUnsatisfiable 'Schedule' is not one of DoNotSchedule, ScheduleAnyway"],
    ),
    (
        "Service type case",
        _obj("Service", {"type": "clusterip", "ports": [{"port": 80}]}),
        [
            "Service/x: type 'clusterip' is not one of ClusterIP, NodePort, LoadBalancer, "
            "ExternalName"
        ],
    ),
    (
        "Service port protocol",
        _obj("Service", {"ports": [{"port": 80, "protocol": "HTTP"}]}),
        ["Service/x: port protocol 'HTTP' is not one of TCP, UDP, SCTP"],
    ),
    (
        "Ingress pathType",
        _obj("Ingress", {"rules": [{"http": {"paths": [{"path": "/", "pathType": "prefix"}]}}]}),
        ["Ingress/x: pathType 'prefix' is not one of Exact, Prefix, ImplementationSpecific"],
    ),
    (
        "Ingress pathType missing",
        _obj("Ingress", {"rules": [{"http": {"paths": [{"path": "/"}]}}]}),
        ["Ingress/x: path '/' needs a pathType"],
    ),
    (
        "NetworkPolicy policyTypes",
        _obj("NetworkPolicy", {"podSelector": {}, "policyTypes": ["ingress"]}),
        ["NetworkPolicy/x: policyType 'ingress' is not one of Ingress, Egress"],
    ),
    (
        "NetworkPolicy peer selector and port",
        _obj(
            "NetworkPolicy",
            {
                "podSelector": {},
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {"key": "k", "operator": "Exists", "values": ["v"]}
                                    ]
                                }
                            }
                        ],
                        "ports": [{"port": 80, "protocol": "Tcp"}],
                    }
                ],
            },
        ),
        [
            "NetworkPolicy/x: matchExpressions 'k' Exists takes no values",
            "NetworkPolicy/x: port protocol 'Tcp' is not one of TCP, UDP, SCTP",
        ],
    ),
    (
        "PodDisruptionBudget",
        _obj(
            "PodDisruptionBudget",
            {"minAvailable": 1, "maxUnavailable": 1, "unhealthyPodEvictionPolicy": "Always"},
        ),
        [
            "PodDisruptionBudget/x: unhealthyPodEvictionPolicy 'Always' is not one of "
            "IfHealthyBudget, AlwaysAllow",
            "PodDisruptionBudget/x: minAvailable and maxUnavailable are mutually exclusive",
        ],
    ),
]


@pytest.mark.parametrize(
    ("obj", "expected"), [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES]
)
def test_k8s_validation_finds_what_the_api_server_refuses(
    obj: dict[str, Any], expected: list[str]
) -> None:
    assert problems([obj]) == expected


@pytest.mark.parametrize(
    "pod",
    [
        _pod(restartPolicy="OnFailure"),
        _pod(
            restartPolicy="Never",
            tolerations=[
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                {"key": "spot", "operator": "Equal", "value": "spot", "effect": "NoSchedule"},
                {"operator": "Exists"},
            ],
            affinity=_required_node_affinity(
                {"key": "accelerator", "operator": "In", "values": ["nvidia"]},
                {"key": "mig", "operator": "DoesNotExist"},
                {"key": "gpus", "operator": "Gt", "values": ["1"]},
            ),
        ),
    ],
)
def test_k8s_validation_accepts_valid_job_pods(pod: dict[str, Any]) -> None:
    assert problems([_workload("Job", pod)]) == []


# --- KEDA (tests/manifests/crds.py) ---------------------------------------------------------
# https://keda.sh/docs/2.16/reference/scaledjob-spec/ and scaledobject-spec/


def _keda(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "keda.sh/v1alpha1", **_obj(kind, spec)}


SCALED_JOB_SPEC: dict[str, Any] = {
    "jobTargetRef": {"template": {"spec": _pod(restartPolicy="Never")}},
    "pollingInterval": 60,
    "rollout": {"strategy": "gradual"},
    "triggers": [{"type": "cron", "metadata": {"timezone": "UTC"}}],
}
SCALED_OBJECT_SPEC: dict[str, Any] = {
    "scaleTargetRef": {"name": "web"},
    "pollingInterval": 30,
    "triggers": [{"type": "cron", "metadata": {"timezone": "UTC"}}],
}


def test_keda_accepts_valid_objects() -> None:
    assert problems([_keda("ScaledJob", SCALED_JOB_SPEC)]) == []
    assert problems([_keda("ScaledObject", SCALED_OBJECT_SPEC)]) == []


def test_keda_finds_unknown_key_the_api_server_would_prune() -> None:
    spec = {**SCALED_OBJECT_SPEC, "POLLINGINTERVAL": 30}
    del spec["pollingInterval"]

    assert problems([_keda("ScaledObject", spec)]) == [
        "ScaledObject/x: .spec.POLLINGINTERVAL: not a field of ScaledObjectSpec"
    ]


def test_keda_finds_unknown_key_in_the_job_template() -> None:
    spec = copy.deepcopy(SCALED_JOB_SPEC)
    spec["jobTargetRef"]["template"]["spec"]["restartpolicy"] = "Never"

    assert problems([_keda("ScaledJob", spec)]) == [
        "ScaledJob/x: .spec.jobTargetRef.template.spec.restartpolicy: not a field of SpecModel"
    ]


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("rollout", "strategy", "XXgradualXX", "default, gradual"),
        ("rollout", "propagationPolicy", "Foreground", "background, foreground"),
        ("scalingStrategy", "strategy", "fast", "default, custom, accurate, eager"),
        ("scalingStrategy", "multipleScalersCalculation", "mean", "max, min, avg, sum"),
    ],
)
def test_keda_finds_scaled_job_value_keda_does_not_know(
    section: str, key: str, value: str, allowed: str
) -> None:
    spec = {**SCALED_JOB_SPEC, section: {key: value}}

    assert problems([_keda("ScaledJob", spec)]) == [
        f"ScaledJob/x: spec.{section}.{key} {value!r} is not one of {allowed}"
    ]


def test_keda_scaled_job_pods_restart_on_failure_or_never() -> None:
    spec = copy.deepcopy(SCALED_JOB_SPEC)
    del spec["jobTargetRef"]["template"]["spec"]["restartPolicy"]

    assert problems([_keda("ScaledJob", spec)]) == [
        "ScaledJob/x: a ScaledJob's pods restart OnFailure or Never, not None"
    ]


def test_keda_finds_enum_the_crd_declares() -> None:
    auth = _keda("TriggerAuthentication", {"podIdentity": {"provider": "azure"}})

    (found,) = problems([auth])
    assert found.startswith("TriggerAuthentication/x: 1 validation error")
    assert "spec.podIdentity.provider" in found
    assert "'azure-workload', 'gcp', 'aws', 'aws-eks' or 'none'" in found


# --- Pod Security admission (tests/pod_security.py) -----------------------------------------
# https://kubernetes.io/docs/concepts/security/pod-security-standards/


def _namespace(level: str | None) -> dict[str, Any]:
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    return {"kind": "Namespace", "metadata": {"name": "apps", "labels": labels}}


def _restricted_pod() -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "c",
                "image": "img:1",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}],
    }


def _pss(level: str, change: Any) -> list[str]:
    pod = _restricted_pod()
    change(pod, pod["containers"][0]["securityContext"])
    return problems([_namespace(level), _workload("Deployment", pod)])


R = "Deployment/x: Pod Security 'restricted' refuses"
B = "Deployment/x: Pod Security 'baseline' refuses"


def test_pod_security_restricted_accepts_the_restricted_pod() -> None:
    assert _pss("restricted", lambda pod, c: None) == []
    # The container's own settings are enough where the pod sets none.
    moved = _pss(
        "restricted",
        lambda pod, c: (
            c.update(pod.pop("securityContext")),
            c.update(seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}),
        ),
    )
    assert moved == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda pod, c: c.pop("allowPrivilegeEscalation"),
            [f"{R} container 'c' must set allowPrivilegeEscalation=false"],
        ),
        (lambda pod, c: c.pop("capabilities"), [f"{R} container 'c' must drop ALL capabilities"]),
        (
            lambda pod, c: c["capabilities"].update(add=["NET_BIND_SERVICE", "CHOWN"]),
            [f"{R} container 'c' may add only NET_BIND_SERVICE, not ['CHOWN']"],
        ),
        (
            lambda pod, c: pod["securityContext"].pop("runAsNonRoot"),
            [f"{R} pod or container 'c' must set runAsNonRoot=true"],
        ),
        (
            lambda pod, c: c.update(runAsNonRoot=False),
            [f"{R} pod or container 'c' must set runAsNonRoot=true"],
        ),
        (lambda pod, c: pod["securityContext"].update(runAsUser=0), [f"{R} pod runAsUser=0"]),
        (lambda pod, c: c.update(runAsUser=0), [f"{R} container 'c' runAsUser=0"]),
        (
            lambda pod, c: pod["securityContext"].pop("seccompProfile"),
            [f"{R} pod or container 'c' needs seccompProfile RuntimeDefault/Localhost"],
        ),
        (
            lambda pod, c: pod["volumes"].append(
                {"name": "nfs", "nfs": {"server": "s", "path": "/"}}
            ),
            [f"{R} volume 'nfs' of type ['nfs']"],
        ),
        (
            lambda pod, c: pod["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
            [f"{R} hostPath volume 'h'", f"{R} volume 'h' of type ['hostPath']"],
        ),
        (
            lambda pod, c: c.update(seccompProfile={"type": "Unconfined"}),
            [
                f"{R} container 'c' seccompProfile Unconfined",
                f"{R} pod or container 'c' needs seccompProfile RuntimeDefault/Localhost",
            ],
        ),
    ],
)
def test_pod_security_restricted_refuses(change: Any, expected: list[str]) -> None:
    assert _pss("restricted", change) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda pod, c: c.update(privileged=True), [f"{B} container 'c' privileged"]),
        (
            lambda pod, c: pod.update(hostNetwork=True, hostPID=True),
            [f"{B} hostNetwork=true", f"{B} hostPID=true"],
        ),
        (lambda pod, c: pod.update(hostIPC=True), [f"{B} hostIPC=true"]),
        (
            lambda pod, c: pod["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
            [f"{B} hostPath volume 'h'"],
        ),
        (
            lambda pod, c: pod["containers"][0].update(
                ports=[{"containerPort": 80, "hostPort": 80}]
            ),
            [f"{B} container 'c' hostPort"],
        ),
        (
            lambda pod, c: c["capabilities"].update(add=["SYS_ADMIN", "CHOWN"]),
            [f"{B} container 'c' adds ['SYS_ADMIN']"],
        ),
        (
            lambda pod, c: pod["securityContext"].update(seccompProfile={"type": "Unconfined"}),
            [f"{B} pod seccompProfile Unconfined"],
        ),
        (
            lambda pod, c: c.update(procMount="Unmasked"),
            [f"{B} container 'c' procMount 'Unmasked'"],
        ),
    ],
)
def test_pod_security_baseline_refuses(change: Any, expected: list[str]) -> None:
    assert _pss("baseline", change) == expected


def test_pod_security_baseline_admits_what_only_restricted_refuses() -> None:
    def loosen(pod: dict[str, Any], c: dict[str, Any]) -> None:
        del pod["securityContext"]
        c.clear()
        pod["volumes"].append({"name": "nfs", "nfs": {"server": "s", "path": "/"}})

    assert _pss("baseline", loosen) == []


def test_pod_security_privileged_admits_anything_and_unknown_namespaces_are_not_checked() -> None:
    def host(pod: dict[str, Any], c: dict[str, Any]) -> None:
        pod.update(hostNetwork=True)
        c.update(privileged=True)

    assert _pss("privileged", host) == []
    pod = _restricted_pod()
    pod["hostNetwork"] = True
    assert problems([_workload("Deployment", pod)]) == []


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, ["Namespace/apps: no pod-security.kubernetes.io/enforce label"]),
        (
            "Restricted",
            [
                "Namespace/apps: pod-security.kubernetes.io/enforce 'Restricted' is not one of "
                "privileged, baseline, restricted"
            ],
        ),
    ],
)
def test_pod_security_every_namespace_enforces_a_level(
    level: str | None, expected: list[str]
) -> None:
    assert problems([_namespace(level)]) == expected


@pytest.mark.parametrize(
    "value", ["256Mi", "64Mi", "500m", "1", "0.5", "1Gi", "2", "1e3", "100k", 2, 0.25]
)
def test_k8s_validation_accepts_quantities_the_api_server_parses(value: object) -> None:
    from tests.k8s_validation import quantity_problems  # noqa: PLC0415

    assert quantity_problems("Pod/p", "limits.memory", value) == []


@pytest.mark.parametrize("value", ["256mi", "64MI", "XX256MiXX", "1 Gi", "", "Mi", "1.2.3", None])
def test_k8s_validation_refuses_quantities_the_api_server_refuses(value: object) -> None:
    job = {
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": value}}],
                    "containers": [
                        {
                            "name": "c",
                            "resources": {"limits": {"memory": value}},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                }
            }
        },
    }
    found = [p for p in problems([job]) if "quantity" in p]
    if value is None:  # an unset sizeLimit is no limit; a null limit is not a quantity
        assert found == ["Job/j/c: limits.memory None is not a quantity"]
    else:
        assert found == [
            f"Job/j/tmp: emptyDir sizeLimit {value!r} is not a quantity",
            f"Job/j/c: limits.memory {value!r} is not a quantity",
        ]
