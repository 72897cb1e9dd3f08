"""Write the mutation-testing report (``make mutation``) from mutmut's results in ``mutants/``.

Score = killed / (killed + survived + no tests + suspicious), where timeouts and mutants the
type checker caught count as killed and a mutant no test reaches counts as surviving (nothing
would notice it). Mutants the time budget did not reach are reported, not scored.
Every surviving mutant is listed with its diff: each is a change to the product that the fast
suite (tests/unit + tests/components) lets through.
"""

from __future__ import annotations

import argparse
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


def render(results: dict[str, dict[str, str]], budget: str, scope: str) -> str:
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
        "against `tests/unit` + `tests/components`",
        f"- scope: {scope or 'everything configured'}; time budget: {budget} s",
        f"- **score: {score:.1f} %** ({killed} killed of {scored} scored mutants; "
        f"{totals['not checked']} not reached within the budget)",
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
    args = parser.parse_args()
    if not Path("mutants").is_dir():
        print("no mutants/ folder: run `make mutation` first", file=sys.stderr)
        return 2
    report = render(collect(), args.budget, args.scope)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(next(line for line in report.splitlines() if line.startswith("- **score")))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
