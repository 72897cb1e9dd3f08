"""Benchmarks: plan + cost + picture of every stack against an import floor; and the vector
store (``bench_vectors.py``: pgvector ingestion against a COPY floor, HNSW query latency and
recall) on the local PostgreSQL + pgvector. ``--suite plan|vectors|all`` (default all).

The floor is a Python process that imports pulumi and every SDK module the program uses
and nothing else: the part of a plan's time the project cannot remove. It gets the same
process-level treatment as ``aks-mlops`` (``offline.cli.console_main``) so the ratio measures
only the project's own work: same interpreter and flags; Python's cyclic garbage collector on
while it imports what ``offline.cli``'s module-level imports load (pulumi and the SDKs'
top-level packages), off from there on, like ``console_main`` turns it off before running a
command; the heap frozen before exit, so neither process pays the interpreter's final
collections. (A floor that paid the collector during every import and at exit would charge
~1 s of the collector's work to the floor that the plan process no longer does.) Each measurement is
the median wall time of several fresh processes of ``aks-mlops plan``, which runs the
program, prices it (the cost table) and draws ``architecture.svg``/``.png``; the bench
checks each run really printed the cost table and wrote both picture files (every run writes
into an empty directory). Wall and CPU time are both reported, with the load average: on a
shared machine wall time swings with the other jobs, CPU time hardly does. Targets (checked
here, never in tests): every stack's plan <= 3x the floor in wall time. `make test` <= 60 s on
a 2-core machine is reported with --with-tests.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN_TARGET_RATIO = 3.0
TEST_TARGET_SECONDS = 60.0
SDK_PREFIXES = ("pulumi_azure_native.", "pulumi_kubernetes.", "pulumi_random")

_LIST_MODULES = """
import sys, types
from offline.runner import run_stack
run_stack(sys.argv[1])
# Lazy stubs of every SDK module sit in sys.modules (importlib's _LazyModule); a module the
# run really loaded is a plain module object. Every level counts: pulumi_kubernetes.core.v1's
# package eagerly imports all of its kinds when the program uses one, and that is SDK work.
mods = sorted(m for m, module in list(sys.modules.items())
              if m.startswith({prefixes!r}) and type(module) is types.ModuleType)
print('\\n'.join(['pulumi', *mods]))
"""

_LOADED_BY_CLI_IMPORT = """
import sys
import offline.cli
print('\\n'.join(m for m in sys.argv[1:] if m in sys.modules))
"""


@dataclass(frozen=True)
class Timing:
    """Medians of several runs: wall time, and CPU time (user + system, the process and the
    children it waited for, e.g. Graphviz). CPU time barely moves when other jobs share the
    cores; wall time is what the target is set on."""

    wall: float
    cpu: float


def _time(
    command: Callable[[Path], list[str]],
    runs: int,
    check: Callable[[str, Path], None] | None = None,
) -> Timing:
    """Timing of ``runs`` fresh processes, each writing into an empty directory (nothing a
    previous run wrote can satisfy a check or be reused)."""
    walls, cpus = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(
                command(Path(out)), cwd=ROOT, check=True, capture_output=True, text=True
            )
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if check:
                check(done.stdout, Path(out))
    return Timing(statistics.median(walls), statistics.median(cpus))


def _covers_cost_and_picture(stack: str) -> Callable[[str, Path], None]:
    def check(stdout: str, out: Path) -> None:
        if "estimated monthly cost" not in stdout:
            raise SystemExit(f"bench: plan of {stack} printed no cost table")
        if shutil.which("dot"):
            for name in ("architecture.svg", "architecture.png"):
                if not (out / stack / name).is_file():
                    raise SystemExit(f"bench: plan of {stack} wrote no {name}")

    return check


def _plan_command(stack: str) -> Callable[[Path], list[str]]:
    def command(out: Path) -> list[str]:
        return [sys.executable, "-m", "offline.cli", "plan", "--stack", stack, "--out", str(out)]

    return command


def sdk_modules(stack: str) -> list[str]:
    """The pulumi / SDK modules a plan of ``stack`` really loads (every level)."""
    code = _LIST_MODULES.format(prefixes=SDK_PREFIXES)
    out = subprocess.run(
        [sys.executable, "-c", code, stack],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line]


def floor_program(modules: list[str]) -> str:
    """The floor process's code: ``modules`` imported under the GC regime of a plan process.

    ``python -m offline.cli`` runs its module-level imports with the collector on, then
    ``console_main`` turns it off, runs the command and freezes the heap before exit. The
    packages those module-level imports load (pulumi, the SDKs' top-level packages with their
    lazy stubs; no SDK type module) are imported here with the collector on as well; the SDK
    modules a run loads are imported with it off; the heap is frozen last.
    """
    packages = sorted({m.split(".")[0] for m in modules} | {"pulumi"})
    loaded = subprocess.run(
        [sys.executable, "-c", _LOADED_BY_CLI_IMPORT, *packages],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    lines = ["import gc, importlib", *(f"import {p}" for p in loaded), "gc.disable()"]
    # SDK packages load submodules lazily; touching each module's namespace loads it for real.
    lines += [f"hasattr(importlib.import_module({m!r}), '__all__')" for m in modules]
    lines.append("gc.freeze()")
    return "\n".join(lines)


def main() -> int:
    """Run the benchmark and print a table; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--with-tests", action="store_true", help="also time `make test`")
    parser.add_argument("--suite", choices=("all", "plan", "vectors"), default="all")
    args = parser.parse_args()
    summary: dict[str, object] = {}
    ok = True
    if args.suite in ("all", "plan"):
        ok = _plans(args, summary)
    if args.suite in ("all", "vectors"):
        import bench_vectors  # noqa: PLC0415  (needs the local services: make services)

        vectors_ok, summary["vectors"] = bench_vectors.run()
        ok = ok and vectors_ok
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    (build / "bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if ok else 1


def _plans(args: argparse.Namespace, summary: dict[str, object]) -> bool:
    """Plan timings of every stack against the import floor; whether the targets were met."""
    stacks = sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml"))
    modules = sorted({m for s in stacks for m in sdk_modules(s)})
    floor_code = floor_program(modules)
    load_before = os.getloadavg()[0]
    floor = _time(lambda _out: [sys.executable, "-c", floor_code], args.runs)
    results: dict[str, Timing] = {}
    for stack in stacks:
        results[stack] = _time(_plan_command(stack), args.runs, _covers_cost_and_picture(stack))
    load_after = os.getloadavg()[0]
    print(
        f"{os.cpu_count()} cores, load average {load_before:.1f} -> {load_after:.1f} "
        f"(median of {args.runs} runs)"
    )
    print(f"floor (import {len(modules)} modules): {floor.wall:.2f}s wall, {floor.cpu:.2f}s CPU")
    ratios = {stack: t.wall / floor.wall for stack, t in results.items()}
    cpu_ratios = {stack: t.cpu / floor.cpu for stack, t in results.items()}
    for stack, t in results.items():
        print(
            f"plan+cost+picture {stack:5s}: {t.wall:.2f}s = {ratios[stack]:.2f}x floor "
            f"(CPU {t.cpu:.2f}s = {cpu_ratios[stack]:.2f}x)"
        )
    ok = all(r <= PLAN_TARGET_RATIO for r in ratios.values())
    print(f"target every stack <= {PLAN_TARGET_RATIO:.0f}x floor: {'met' if ok else 'MISSED'}")
    summary.update(
        {
            "cores": os.cpu_count(),
            "load_average": [load_before, load_after],
            "floor_s": floor.wall,
            "floor_cpu_s": floor.cpu,
            "plans_s": {s: t.wall for s, t in results.items()},
            "plans_cpu_s": {s: t.cpu for s, t in results.items()},
            "ratios": ratios,
            "cpu_ratios": cpu_ratios,
        }
    )
    if args.with_tests:
        test_s = _time(lambda _out: ["make", "test"], 1).wall
        summary["make_test_s"] = test_s
        met = test_s <= TEST_TARGET_SECONDS
        ok = ok and met
        print(
            f"make test: {test_s:.1f}s (target <= {TEST_TARGET_SECONDS:.0f}s: "
            f"{'met' if met else 'MISSED'})"
        )
    return ok


if __name__ == "__main__":
    sys.exit(main())
