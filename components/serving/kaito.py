"""A KAITO inference Workspace for a preset model on a named GPU pool.

KAITO's Workspace (``kaito.sh/v1beta1``, the API of the KAITO releases the AKS add-on ships
from v0.4; https://learn.microsoft.com/azure/aks/ai-toolchain-operator) keeps ``resource`` and
``inference`` at the top level of the object, not under ``spec``. ``resource.instanceType`` is
the GPU pool's VM size and ``resource.labelSelector`` selects that pool's nodes by the
``pool`` label every platform pool carries, so KAITO runs the preset on the pool the stack
declares. tests/schemas/kaito-workspace-v1beta1.json checks the fields used here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import pulumi

from components.kit import kubernetes as kube

KAITO_API = "kaito.sh/v1beta1"
WORKSPACE_KIND = "Workspace"


class TopLevelCustomResource(pulumi.CustomResource):
    """A custom resource whose fields sit beside ``metadata`` rather than under ``spec``.

    pulumi-kubernetes' Python ``CustomResource`` only takes ``spec``; its provider applies
    whatever fields the inputs hold (as the Node.js SDK's ``otherFields`` do), under the same
    type token ``kubernetes:<apiVersion>:<kind>``.
    """

    def __init__(
        self,
        name: str,
        *,
        api_version: str,
        kind: str,
        metadata: pulumi.Input[Any],
        fields: dict[str, Any],
        opts: pulumi.ResourceOptions,
    ) -> None:
        props = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}
        super().__init__(
            f"kubernetes:{api_version}:{kind}",
            name,
            props,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(version=version("pulumi-kubernetes"))
            ),
        )


@dataclass(frozen=True, kw_only=True)
class LlmWorkspaceSpec:
    """One preset on one GPU pool."""

    preset: str
    """KAITO preset name, e.g. ``phi-3-mini-4k-instruct``."""
    pool: str
    """Name of the GPU pool (its ``pool`` node label)."""
    instance_type: str
    """The pool's VM size."""
    namespace: str
    """Namespace of the Workspace (and of the inference pods and Service KAITO creates)."""


def workspace_name(preset: str) -> str:
    """A DNS-1123 name from the preset (``phi-3.5-mini-instruct`` -> ``llm-phi-3-5-...``)."""
    return "llm-" + preset.lower().replace(".", "-").replace("_", "-")


def create_workspace(
    name: str, spec: LlmWorkspaceSpec, *, opts: pulumi.ResourceOptions
) -> TopLevelCustomResource:
    """The Workspace custom resource (KAITO creates the inference workload from it)."""
    return TopLevelCustomResource(
        name,
        api_version=KAITO_API,
        kind=WORKSPACE_KIND,
        metadata={
            "name": workspace_name(spec.preset),
            "namespace": spec.namespace,
            "labels": kube.part_of_labels(),
        },
        fields={
            "resource": {
                "instanceType": spec.instance_type,
                "labelSelector": {"matchLabels": {kube.POOL_LABEL: spec.pool}},
            },
            "inference": {"preset": {"name": spec.preset}},
        },
        opts=opts,
    )
