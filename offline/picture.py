"""A picture of a stack drawn from the resource graph of its offline run.

Components are boxes (clusters), resources are nodes with Azure / Kubernetes icons from the
``diagrams`` library, parents are the nesting and dependencies are the edges. Resources that
sit inside the VNet (node pools, the cluster, private endpoints, a VNet-integrated database)
are drawn in a dashed "in VNet" box inside their component, so the network boundary and the
private endpoints are visible. Rendering needs Graphviz's ``dot`` (Debian: ``graphviz``);
without it the picture is skipped with a note and the plan still succeeds.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagrams import Cluster, Diagram, Edge

from offline.runner import OfflineRun, RecordedResource
from offline.summary import azure_name

# Resource type (after the provider prefix) -> diagrams module.class.
ICONS: dict[str, str] = {
    "resources:ResourceGroup": "azure.general.Resourcegroups",
    "network:VirtualNetwork": "azure.networking.VirtualNetworks",
    "network:NetworkSecurityGroup": "azure.networking.NetworkSecurityGroups",
    "network:PrivateEndpoint": "azure.network.PrivateEndpoint",
    "network:PrivateDnsZoneGroup": "azure.network.DNSPrivateZones",
    "network:VirtualNetworkPeering": "azure.networking.Connections",
    "network:NatGateway": "azure.networking.Nat",
    "network:PublicIPAddress": "azure.networking.PublicIpAddresses",
    "network:RouteTable": "azure.networking.RouteTables",
    "privatedns:PrivateZone": "azure.network.DNSPrivateZones",
    "privatedns:VirtualNetworkLink": "azure.network.DNSPrivateZones",
    "containerservice:ManagedCluster": "azure.containers.KubernetesServices",
    "containerservice:AgentPool": "azure.compute.VMScaleSets",
    "containerservice:MaintenanceConfiguration": "azure.compute.MaintenanceConfiguration",
    "containerregistry:Registry": "azure.containers.ContainerRegistries",
    "managedidentity:UserAssignedIdentity": "azure.identity.ManagedIdentities",
    "managedidentity:FederatedIdentityCredential": "azure.identity.ManagedIdentities",
    "authorization:RoleAssignment": "azure.identity.AzureADRolesAndAdministrators",
    "storage:StorageAccount": "azure.storage.DataLakeStorage",
    "storage:BlobContainer": "azure.storage.BlobStorage",
    "storage:BlobServiceProperties": "azure.storage.BlobStorage",
    "keyvault:Vault": "azure.security.KeyVaults",
    "keyvault:Secret": "azure.security.KeyVaults",
    "dbforpostgresql:Server": "azure.databases.AzureDatabasePostgresqlServer",
    "dbforpostgresql:Database": "azure.databases.AzureDatabasePostgresqlServer",
    "dbforpostgresql:Configuration": "azure.databases.AzureDatabasePostgresqlServer",
    "dbforpostgresql:AdministratorsMicrosoftEntra": "azure.identity.Groups",
    "operationalinsights:Workspace": "azure.monitor.LogAnalyticsWorkspaces",
    "monitor:DiagnosticSetting": "azure.monitor.DiagnosticsSettings",
    "alertsmanagement:PrometheusRuleGroup": "azure.monitor.Metrics",
    "dashboard:Grafana": "azure.general.Dashboard",
    "apps/v1:Deployment": "k8s.compute.Deploy",
    "apps/v1:DaemonSet": "k8s.compute.DS",
    "apps/v1:StatefulSet": "k8s.compute.STS",
    "batch/v1:Job": "k8s.compute.Job",
    "batch/v1:CronJob": "k8s.compute.Cronjob",
    "core/v1:Namespace": "k8s.group.NS",
    "core/v1:Service": "k8s.network.SVC",
    "core/v1:ServiceAccount": "k8s.rbac.SA",
    "core/v1:ConfigMap": "k8s.podconfig.CM",
    "networking.k8s.io/v1:NetworkPolicy": "k8s.network.Netpol",
    "networking.k8s.io/v1:Ingress": "k8s.network.Ing",
}
FALLBACK = {"azure-native": "azure.general.Resource", "kubernetes": "k8s.others.CRD"}
# Types whose resource is placed in a subnet of the stack's VNet.
IN_VNET = frozenset(
    {
        "azure-native:containerservice:ManagedCluster",
        "azure-native:containerservice:AgentPool",
        "azure-native:network:PrivateEndpoint",
    }
)


def _icon_class(resource_type: str) -> Any:
    provider, _, rest = resource_type.partition(":")
    dotted = ICONS.get(rest) or FALLBACK[provider]
    module, cls = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(f"diagrams.{module}"), cls)


def _drawn(run: OfflineRun) -> list[RecordedResource]:
    return [
        r for r in run.resources if r.custom and r.type.startswith(("azure-native:", "kubernetes:"))
    ]


def _in_vnet(r: RecordedResource) -> bool:
    if r.type in IN_VNET:
        return True
    network = r.inputs.get("network") or {}
    return r.type == "azure-native:dbforpostgresql:Server" and bool(
        network.get("delegatedSubnetResourceId")
    )


def top_components(run: OfflineRun) -> dict[str, str]:
    """Custom resource URN -> the logical name of its top-level component."""
    by_urn = {r.urn: r for r in run.resources}
    out: dict[str, str] = {}
    for r in run.resources:
        record = r
        while record.parent in by_urn and not by_urn[record.parent].type.startswith("pulumi:"):
            record = by_urn[record.parent]
        out[r.urn] = record.name if record is not r else "(stack)"
    return out


def edges(run: OfflineRun) -> set[tuple[str, str]]:
    """(dependent URN, dependency URN) between drawn resources; a dependency on a component
    stands for its resources."""
    drawn = {r.urn for r in _drawn(run)}
    children: dict[str, list[str]] = defaultdict(list)
    for r in run.resources:
        children[r.parent].append(r.urn)

    def expand(urn: str) -> Iterable[str]:
        if urn in drawn:
            yield urn
            return
        for child in children.get(urn, []):
            yield from expand(child)

    return {
        (r.urn, dep)
        for r in _drawn(run)
        for d in r.dependencies
        for dep in expand(d)
        if dep != r.urn
    }


class _SourceOnly(Diagram):  # type: ignore[misc]
    """A diagram that keeps its DOT source and renders nothing (no Graphviz needed)."""

    source = ""

    def render(self) -> None:
        _SourceOnly.source = self.dot.source
        # Diagram's exit removes the DOT file a render leaves; leave it an empty one.
        Path(self.filename).touch()


def _draw(run: OfflineRun, diagram: type[Diagram], filename: str, formats: list[str]) -> None:
    components = top_components(run)
    grouped: dict[str, list[RecordedResource]] = defaultdict(list)
    for r in _drawn(run):
        grouped[components[r.urn]].append(r)
    kinds = {r.name: r.type.rsplit(":", 1)[-1] for r in run.resources if not r.custom}
    nodes: dict[str, Any] = {}

    def node(r: RecordedResource) -> None:
        label = f"{r.type.rsplit(':', 1)[-1]}\n{azure_name(r)}"
        # Stable ids (not diagrams' random ones): the same stack draws the same DOT source.
        nodes[r.urn] = _icon_class(r.type)(label, nodeid=hashlib.sha1(r.urn.encode()).hexdigest())

    with diagram(
        f"aks-mlops stack {run.stack} (offline plan)",
        filename=filename,
        outformat=formats,
        show=False,
        direction="TB",
        curvestyle="curved",
        graph_attr={"fontsize": "20", "pad": "0.5", "ranksep": "0.9", "nodesep": "0.25"},
        node_attr={"fontsize": "10"},
    ):
        for component in sorted(grouped):
            with Cluster(f"{component} ({kinds.get(component, 'stack')})"):
                inside = [r for r in grouped[component] if _in_vnet(r)]
                for r in grouped[component]:
                    if r not in inside:
                        node(r)
                if inside:
                    with Cluster("in VNet", graph_attr={"style": "dashed", "bgcolor": "#eef6ff"}):
                        for r in inside:
                            node(r)
        for dependent, dependency in sorted(edges(run)):
            # Within a component the nesting says enough; draw what crosses components.
            if components[dependent] != components[dependency]:
                nodes[dependency] >> Edge(color="#9aa5b1") >> nodes[dependent]


def dot_source(run: OfflineRun, workdir: Path) -> str:
    """The picture's Graphviz DOT source, without rendering it."""
    _draw(run, _SourceOnly, str(workdir / "architecture"), ["png"])
    return _SourceOnly.source


# The PNG's resolution (Graphviz ``dpi``; its default is 96). prod's graph is about 154 x 20
# inches: at 96 dpi a 14,800 x 2,000 px raster whose drawing is most of a plan's Graphviz
# time. At 48 dpi (7,400 px wide for prod) the 10 pt labels are still legible when zoomed;
# the SVG, drawn at full fidelity, is the file to read details from.
PNG_DPI = 48


@dataclass
class PendingPicture:
    """A picture whose Graphviz runs are under way (``wait`` for its files)."""

    processes: list[subprocess.Popen[bytes]]
    source: Path | None
    files: list[Path]

    def wait(self) -> list[Path]:
        """Wait for Graphviz; returns the files written (none without Graphviz)."""
        if self.source is None:
            return []
        failures = []
        for process, path in zip(self.processes, self.files, strict=True):
            _, stderr = process.communicate()
            returncode = process.returncode
            if returncode != 0 and b"not recognized" in stderr and path.suffix == ".png":
                fallback = subprocess.run(
                    _dot_command("png", path, self.source, device="png"),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    check=False,
                )
                returncode, stderr = fallback.returncode, fallback.stderr
            if returncode != 0:
                failures.append(
                    f"dot exited {returncode}: {stderr.decode(errors='replace')[-2000:]}"
                )
        self.source.unlink(missing_ok=True)
        if failures:
            raise RuntimeError("\n".join(failures))
        return self.files


# The PNG is drawn by cairo and written by gd's PNG writer as an 8-bit palette image: the
# same picture, a quarter of cairo's RGBA file, and about half of Graphviz's time for prod
# (most of cairo's own PNG time is compressing 7 megapixels of RGBA). A Graphviz built
# without the gd plugin (``Format: "png:cairo:gd" not recognized``) gets plain ``png``.
PNG_DEVICE = "png:cairo:gd"


def _dot_command(fmt: str, path: Path, source: Path, *, device: str | None = None) -> list[str]:
    # ``dpi`` also scales an SVG's coordinates, so only the PNG's own Graphviz run gets it;
    # every other format is written exactly as the DOT source lays it out.
    if fmt == "png":
        return [
            "dot",
            f"-Gdpi={PNG_DPI}",
            f"-T{device or PNG_DEVICE}",
            "-o",
            str(path),
            str(source),
        ]
    return ["dot", f"-T{fmt}", "-o", str(path), str(source)]


def start_render(
    run: OfflineRun, out_dir: Path, formats: tuple[str, ...] = ("svg", "png")
) -> PendingPicture:
    """Start drawing ``<out_dir>/<stack>/architecture.<fmt>`` in the background.

    One Graphviz process per format, all started at once (the layout itself takes ~0.02 s;
    the PNG raster is most of the time, so the caller does its other work while they run
    and calls ``wait`` last).
    """
    if shutil.which("dot") is None:
        return PendingPicture([], None, [])
    stack_dir = out_dir / run.stack
    stack_dir.mkdir(parents=True, exist_ok=True)
    source = stack_dir / "architecture.gv"
    source.write_text(dot_source(run, stack_dir))
    files = [stack_dir / f"architecture.{fmt}" for fmt in formats]
    processes = [
        subprocess.Popen(
            _dot_command(fmt, path, source), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for fmt, path in zip(formats, files, strict=True)
    ]
    return PendingPicture(processes, source, files)


def render(run: OfflineRun, out_dir: Path, formats: tuple[str, ...] = ("svg", "png")) -> list[Path]:
    """Draw ``<out_dir>/<stack>/architecture.<fmt>``; returns the files written (none
    without Graphviz)."""
    return start_render(run, out_dir, formats).wait()
