"""GrafanaDashboards: dashboards as code, provisioned into the stack's Managed Grafana.

Creates a ``pulumiverse_grafana`` provider for the instance (``url`` = the instance endpoint,
``auth`` = an Entra access token, see :mod:`components.observability.grafana_auth`) and one
``grafana.oss.Dashboard`` per JSON document, keyed by the file's stem (stable: renaming a file
replaces its dashboard, reordering never does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumiverse_grafana as grafana


def load_dashboards(directory: Path) -> dict[str, str]:
    """Every ``*.json`` dashboard under ``directory`` by file stem, as normalised JSON.

    Raises ``ValueError`` naming the file when it is not a dashboard (no JSON object with a
    ``title`` and ``panels``). A missing directory means no dashboards.
    """
    dashboards: dict[str, str] = {}
    if not directory.is_dir():
        return dashboards
    for path in sorted(directory.glob("*.json")):
        try:
            model = json.loads(path.read_text())
        except ValueError as exc:
            raise ValueError(f"dashboard {path.name} is not valid JSON: {exc}") from exc
        if not isinstance(model, dict) or not model.get("title") or "panels" not in model:
            raise ValueError(f"dashboard {path.name} must be a JSON object with title and panels")
        # Grafana assigns the numeric id; sending one from another instance would clash.
        model.pop("id", None)
        dashboards[path.stem] = json.dumps(model, sort_keys=True)
    return dashboards


@dataclass(frozen=True, kw_only=True)
class GrafanaDashboardsArgs:
    """Inputs of :class:`GrafanaDashboards`."""

    url: pulumi.Input[str]
    """Grafana endpoint (carry the admin grants as dependencies in this output)."""
    auth: pulumi.Input[str]
    """Bearer token for the Grafana HTTP API (secret)."""
    dashboards: Mapping[str, str]
    """Dashboard JSON by stable key."""


class GrafanaDashboards(pulumi.ComponentResource):
    """The Grafana provider and the stack's dashboards."""

    dashboard_uids: dict[str, pulumi.Output[str]]
    """Grafana uid of each dashboard, by key."""

    def __init__(
        self, name: str, args: GrafanaDashboardsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aks-mlops:observability:GrafanaDashboards", name, None, opts)
        provider = grafana.Provider(
            f"{name}-provider",
            url=args.url,
            auth=pulumi.Output.secret(args.auth),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_uids = {}
        for key, model in sorted(args.dashboards.items()):
            board = grafana.oss.Dashboard(
                f"{name}-{key}",
                config_json=model,
                overwrite=True,
                message="Provisioned by Pulumi (aks-mlops)",
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            self.dashboard_uids[key] = board.uid
        self.register_outputs({"dashboard_uids": self.dashboard_uids})
