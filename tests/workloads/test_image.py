"""The workloads image: pinned base, non-root user, exact pins in step with the tests' pins,
and every third-party module the workloads import provided by those pins."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "workloads" / "Dockerfile"
REQUIREMENTS = ROOT / "workloads" / "requirements.txt"
FIRST_PARTY = {"contract", "workloads"}
# Pins an issue asks the image to carry (ingest, retrain, monitor, serve).
EXPECTED = {
    "azure-identity",
    "azure-storage-blob",
    "mlflow",
    "pandera",
    "pgvector",
    "prometheus-client",
    "psycopg",
    "pypdf",
    "qdrant-client",
    "ray",
    "scikit-learn",
    "scipy",
}


def _pins(path: Path) -> dict[str, Requirement]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def _version(requirement: Requirement) -> str:
    (spec,) = requirement.specifier
    assert spec.operator == "==", requirement
    return spec.version


def test_requirements_are_exact_pins_of_every_expected_package() -> None:
    pins = _pins(REQUIREMENTS)

    assert EXPECTED - set(pins) == set()
    assert all(_version(r) for r in pins.values())


def test_requirements_match_versions_the_tests_run_with() -> None:
    image = _pins(REQUIREMENTS)
    tested = _pins(ROOT / "requirements-integration.txt")
    constraints = _pins(ROOT / "constraints.txt")

    for name, requirement in image.items():
        expected = tested.get(name) or constraints[name]
        assert _version(requirement) == _version(expected), name
        assert requirement.extras == (tested[name].extras if name in tested else set()), name


def _closure(pins: dict[str, Requirement]) -> set[str]:
    """Distributions the pins install (their extras included), from installed metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    queue = [(name, frozenset(r.extras)) for name, r in pins.items()]
    while queue:
        name, extras = queue.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for raw in metadata.requires(name) or []:
            dep = Requirement(raw)
            environments = [{"extra": e} for e in extras or {""}]
            if dep.marker is None or any(dep.marker.evaluate(env) for env in environments):
                queue.append((canonicalize_name(dep.name), frozenset(dep.extras)))
    return {name for name, _ in seen}


def _third_party_imports() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "workloads").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - FIRST_PARTY - set(sys.stdlib_module_names)


def test_every_workload_import_is_installed_by_requirements() -> None:
    installed = _closure(_pins(REQUIREMENTS))
    providers = metadata.packages_distributions()
    # Imported only when a team selects it, and deliberately not in the image (see embedders).
    optional = {"sentence_transformers"}

    missing = {
        module: providers.get(module)
        for module in _third_party_imports() - optional
        if not {canonicalize_name(d) for d in providers.get(module, [])} & installed
    }

    assert missing == {}
    assert "pypdf" in _third_party_imports()


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    rows = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in rows
        if line and not line.startswith("#")
    ]


def test_dockerfile_bases_pinned_by_version_and_runtime_non_root() -> None:
    instructions = _instructions()
    bases = [args.split()[0] for op, args in instructions if op == "FROM"]
    users = [args for op, args in instructions if op == "USER"]

    assert bases
    for image in bases:
        # A full version tag (x.y.z) or a digest; never latest or a floating major.
        assert re.search(r":\d+\.\d+\.\d+[-\w.]*$|@sha256:[0-9a-f]{64}$", image), image
    assert users[-1] == "10001:10001"
    assert instructions[-1] == ("CMD", '["python", "-m", "workloads"]')


def test_dockerfile_installs_with_constraints_and_copies_only_workloads_code() -> None:
    instructions = _instructions()
    copies = [args for op, args in instructions if op == "COPY" and "--from" not in args]
    runs = " ".join(args for op, args in instructions if op == "RUN")

    assert "-r /tmp/deps/requirements.txt -c /tmp/deps/constraints.txt" in runs
    sources = {src for args in copies for src in args.split()[:-1]}
    assert sources == {"workloads/requirements.txt", "constraints.txt", "contract/", "workloads/"}
    ignore = (ROOT / "workloads" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:4] == ["*", "!constraints.txt", "!contract/", "!workloads/"]


def test_image_default_command_lists_entry_points() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workloads"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert done.returncode == 2
    assert "  workloads.ingest" in done.stdout.splitlines()
