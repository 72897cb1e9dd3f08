"""Write the mutation-testing report (``make mutation``) from mutmut's results in ``mutants/``.

Score = killed / (killed + survived + no tests + suspicious), where timeouts and mutants the
type checker caught count as killed and a mutant no test reaches counts as surviving (nothing
would notice it). Mutants the time budget did not reach are reported, not scored.
Every surviving mutant is listed with its diff: each is a change to the product that the fast
suite (tests/unit + tests/components) lets through.

With ``--sample FILE`` (``make mutation MUTATION_SAMPLE=n``: a seeded uniform random sample,
``scripts/mutation_sample.py``) only the sampled mutants are scored, and the score is given
with its 95 % Wilson interval as the estimate of the whole configuration's score.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
UNDETECTED = {"survived", "no tests", "suspicious"}
MAX_DIFFS = 400


def collect() -> dict[str, dict[str, str]]:
    """file -> {mutant name: status}, from mutmut's per-file metadata."""
    # mutmut reads its configuration (pyproject.toml) at import time: run from the project.
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415
    from mutmut.stats import status_by_exit_code  # noqa: PLC0415
    from mutmut.utils.file_utils import walk_mutatable_files  # noqa: PLC0415

    out: dict[str, dict[str, str]] = {}
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        if data.exit_code_by_key:
            out[str(path)] = {k: status_by_exit_code[v] for k, v in data.exit_code_by_key.items()}
    return out


def diff(name: str, path: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant  # noqa: PLC0415

    # A report must not die on one unreadable mutant.
    try:
        return str(get_diff_for_mutant(name, path=path))
    except Exception as exc:
        return f"(diff unavailable: {exc})"


def wilson(killed: int, scored: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (sound near 0 and 1, unlike the normal one)."""
    if not scored:
        return 0.0, 0.0
    p = killed / scored
    centre = (p + z * z / (2 * scored)) / (1 + z * z / scored)
    half = (
        z * math.sqrt(p * (1 - p) / scored + z * z / (4 * scored * scored)) / (1 + z * z / scored)
    )
    return max(0.0, centre - half), min(1.0, centre + half)


def restrict(results: dict[str, dict[str, str]], sample: set[str]) -> dict[str, dict[str, str]]:
    """Only the sampled mutants, per file (files with none of them drop out)."""
    kept = {path: {k: v for k, v in s.items() if k in sample} for path, s in results.items()}
    return {path: s for path, s in kept.items() if s}


def render(
    results: dict[str, dict[str, str]],
    budget: str,
    scope: str,
    population: int | None = None,
    tests: str = "",
) -> str:
    totals: Counter[str] = Counter()
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for path, statuses in results.items():
        for status in statuses.values():
            totals[status] += 1
            per_file[path][status] += 1
    killed = sum(totals[s] for s in KILLED)
    undetected = sum(totals[s] for s in UNDETECTED)
    scored = killed + undetected
    score = 100.0 * killed / scored if scored else 0.0
    lines = [
        "# Mutation testing report",
        "",
        f"- generated: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "- tool: mutmut 3 over `components/` and `infra/config` (pyproject `[tool.mutmut]`), "
        f"against {tests or 'the selection in pyproject `[tool.mutmut]`'}",
        f"- scope: {scope or 'everything configured'}; time budget: {budget} s",
        f"- **score: {score:.1f} %** ({killed} killed of {scored} scored mutants; "
        f"{totals['not checked']} not reached within the budget)",
        *(
            [
                f"- uniform random sample of {sum(totals.values())} of {population} mutants: "
                "estimated score of all of them {:.1f} to {:.1f} % (95 % Wilson interval)".format(
                    *(100 * b for b in wilson(killed, scored))
                )
            ]
            if population is not None
            else []
        ),
        "",
        "| status | mutants |",
        "|---|---|",
        *(f"| {status} | {count} |" for status, count in sorted(totals.items())),
        "",
        "## Per file",
        "",
        "| file | killed | survived | no tests | not checked | score |",
        "|---|---|---|---|---|---|",
    ]
    for path in sorted(per_file):
        c = per_file[path]
        k = sum(c[s] for s in KILLED)
        u = sum(c[s] for s in UNDETECTED)
        file_score = f"{100.0 * k / (k + u):.0f} %" if k + u else "-"
        lines.append(
            f"| `{path}` | {k} | {c['survived'] + c['suspicious']} | {c['no tests']} | "
            f"{c['not checked']} | {file_score} |"
        )
    lines += ["", "## Surviving mutants (the fast suite lets these changes through)", ""]
    shown = 0
    for path in sorted(results):
        for name, status in sorted(results[path].items()):
            if status not in UNDETECTED:
                continue
            if shown < MAX_DIFFS:
                lines += [f"### `{name}` ({status})", "", "```diff", diff(name, path), "```", ""]
            else:
                lines.append(f"- `{name}` ({status})")
            shown += 1
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/mutation/report.md")
    parser.add_argument("--budget", default="?")
    parser.add_argument("--scope", default="")
    parser.add_argument("--sample", help="score only the mutants named in this file")
    parser.add_argument("--tests", default="", help="the tests each mutant ran, if narrowed")
    args = parser.parse_args()
    if not Path("mutants").is_dir():
        print("no mutants/ folder: run `make mutation` first", file=sys.stderr)
        return 2
    results = collect()
    population = None
    if args.sample:
        sample = set(Path(args.sample).read_text().split())
        population = sum(len(statuses) for statuses in results.values())
        results = restrict(results, sample)
    narrowed = f"`{args.tests}` (narrowed: a lower bound)" if args.tests else ""
    report = render(results, args.budget, args.scope, population, narrowed)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(next(line for line in report.splitlines() if line.startswith("- **score")))
    print(*(line for line in report.splitlines() if line.startswith("- uniform")), sep="\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
