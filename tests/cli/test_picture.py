"""The architecture picture is drawn from the real resource graph of a stack."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from offline import picture
from offline.runner import OfflineRun


def _urn(run: OfflineRun, typ: str, name: str) -> str:
    return next(r.urn for r in run.resources if r.type == typ and r.name == name)


def test_picture_edges_follow_dependencies(stack_runs: dict[str, OfflineRun]) -> None:
    run = stack_runs["prod"]
    edges = picture.edges(run)
    # AcrPull is granted to the cluster's kubelet identity: the assignment waits for the cluster.
    acr_pull = _urn(run, "azure-native:authorization:RoleAssignment", "registry-kubelet-acrpull")
    cluster = _urn(run, "azure-native:containerservice:ManagedCluster", "aks-cluster")
    assert (acr_pull, cluster) in edges
    # Every edge joins two drawn resources, never a component or a provider.
    drawn = {
        r.urn for r in run.resources if r.custom and not r.type.startswith(("pulumi:", "random:"))
    }
    assert all(a in drawn and b in drawn for a, b in edges)


def test_picture_components_group_children(stack_runs: dict[str, OfflineRun]) -> None:
    run = stack_runs["prod"]
    components = picture.top_components(run)
    pool = next(r for r in run.resources if r.type == "azure-native:containerservice:AgentPool")
    assert components[pool.urn].startswith("pool-")
    vault = _urn(run, "azure-native:keyvault:Vault", "keyvault-vault")
    assert components[vault] == "keyvault"


def test_picture_dot_source_shows_vnet_boundary_and_private_endpoints(
    stack_runs: dict[str, OfflineRun], tmp_path: Path
) -> None:
    source = picture.dot_source(stack_runs["prod"], tmp_path)
    assert source == picture.dot_source(stack_runs["prod"], tmp_path), "not deterministic"
    assert 'label="in VNet"' in source
    assert source.count('label="PrivateEndpoint\n') >= 4  # registry, lake blob+dfs, vault
    # A node pool is labelled with its own name, not the cluster's.
    assert re.search(r'label="AgentPool\ngpua100"', source)
    assert "resources/azure/containers/kubernetes-services.png" in source


def test_picture_render_writes_svg_and_png(
    stack_runs: dict[str, OfflineRun], tmp_path: Path
) -> None:
    assert shutil.which("dot"), "Graphviz's dot is required (Debian: apt-get install graphviz)"
    files = picture.render(stack_runs["dev"], tmp_path)
    assert [f.name for f in files] == ["architecture.svg", "architecture.png"]
    assert files[0].read_text().lstrip().startswith("<?xml")
    assert files[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "aks&#45;mlops stack dev (offline plan)" in files[0].read_text()  # SVG escapes "-"


def test_picture_without_graphviz_writes_nothing(
    stack_runs: dict[str, OfflineRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(picture.shutil, "which", lambda _name: None)
    assert picture.render(stack_runs["dev"], tmp_path) == []
    assert not (tmp_path / "dev").exists()


def _png_size(path: Path) -> tuple[int, int]:
    # PNG header: 8-byte signature, IHDR chunk length and type, then width and height.
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert header[12:16] == b"IHDR"
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def test_picture_png_at_half_resolution_svg_as_laid_out(
    stack_runs: dict[str, OfflineRun], tmp_path: Path
) -> None:
    assert shutil.which("dot"), "Graphviz's dot is required (Debian: apt-get install graphviz)"
    svg, png = picture.render(stack_runs["prod"], tmp_path)
    # The SVG is exactly what Graphviz draws from the DOT source with no option of ours.
    plain = subprocess.run(
        ["dot", "-Tsvg"],
        input=picture.dot_source(stack_runs["prod"], tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert svg.read_text() == plain
    size = re.search(r'<svg width="(\d+)pt" height="(\d+)pt"', plain)
    assert size, "no size in the SVG"
    width_pt, height_pt = int(size[1]), int(size[2])
    # The PNG: 48 pixels per inch (72 pt), half Graphviz's default 96; prod stays wider than
    # 5,000 px (legible labels) and well under the ~14,800 px of the default.
    width, height = _png_size(png)
    assert abs(width - width_pt * 48 / 72) <= 2
    assert abs(height - height_pt * 48 / 72) <= 2
    assert 5_000 < width < 8_000
    assert height < 1_500


def test_picture_png_is_a_palette_image_written_by_gd(
    stack_runs: dict[str, OfflineRun], tmp_path: Path
) -> None:
    assert shutil.which("dot"), "Graphviz's dot is required (Debian: apt-get install graphviz)"
    _, png = picture.render(stack_runs["dev"], tmp_path)
    # IHDR: bit depth at byte 24, colour type at byte 25 (3 = palette, 6 = RGBA).
    assert png.read_bytes()[24:26] == bytes([8, 3])


def test_picture_png_falls_back_to_plain_png_without_the_gd_plugin(
    stack_runs: dict[str, OfflineRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shutil.which("dot"), "Graphviz's dot is required (Debian: apt-get install graphviz)"
    # A device this Graphviz does not have: dot answers 'Format: "..." not recognized'.
    monkeypatch.setattr(picture, "PNG_DEVICE", "png:cairo:no-such-writer")
    _, png = picture.render(stack_runs["dev"], tmp_path)
    # cairo's own writer: 8-bit truecolour (2 = RGB, 6 = RGBA), not a palette.
    assert png.read_bytes()[24:26] in (bytes([8, 2]), bytes([8, 6]))
    assert not (tmp_path / "dev" / "architecture.gv").exists()


def test_picture_other_graphviz_failures_are_reported(
    stack_runs: dict[str, OfflineRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shutil.which("dot"), "Graphviz's dot is required (Debian: apt-get install graphviz)"
    real = picture._dot_command

    def unreadable_source(fmt: str, path: Path, source: Path, **kw: str | None) -> list[str]:
        return real(fmt, path, source.with_name("missing.gv"), **kw)

    monkeypatch.setattr(picture, "_dot_command", unreadable_source)
    with pytest.raises(RuntimeError, match=r"dot exited 2: .*missing\.gv"):
        picture.render(stack_runs["dev"], tmp_path)
