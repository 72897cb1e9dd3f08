"""Run mutmut on a seeded uniform random sample of the configuration's mutants
(``make mutation MUTATION_SAMPLE=n``).

Why a sample: every mutant of a component runs that component's tests under the mock
runtime, so all ~7,600 mutants take tens of CPU hours; a nightly budget cannot cover them and
mutmut's own order (cheapest first) makes a partial run a biased sample. A uniform random
sample of a few hundred mutants gives an unbiased estimate of the whole configuration's score
with a stated confidence interval (the report computes it), in well under an hour.

The sample is drawn from every mutant mutmut generates for ``[tool.mutmut]``'s scope, with
``random.Random(seed)``: the same seed over the same source draws the same sample. The names
are written to ``--out`` (one per line) for the report, then mutmut tests exactly those.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path


def generate() -> list[str]:
    """Every mutant name of the configured scope, generating the mutants first (mutmut's own
    first step; ``_run`` below finds them up to date and does not redo them)."""
    # mutmut reads pyproject.toml at import time: this runs from the project root.
    from mutmut.__main__ import create_mutants  # noqa: PLC0415
    from mutmut.mutation.data import SourceFileMutationData  # noqa: PLC0415
    from mutmut.utils.file_utils import (  # noqa: PLC0415
        copy_also_copy_files,
        copy_src_dir,
        setup_source_paths,
        walk_mutatable_files,
    )

    Path("mutants").mkdir(exist_ok=True)
    copy_src_dir()
    copy_also_copy_files()
    setup_source_paths()
    create_mutants(2)
    names: list[str] = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        names += data.exit_code_by_key
    return sorted(names)


def run(names: list[str], max_children: int, tests: list[str] | None = None) -> None:
    from mutmut import __main__ as mm  # noqa: PLC0415
    from mutmut.configuration import config  # noqa: PLC0415
    from mutmut.state import state  # noqa: PLC0415
    from mutmut.utils.format_utils import mangled_name_from_mutant_name  # noqa: PLC0415

    def tests_for(mutant_names: tuple[str, ...] | list[str]) -> set[str]:
        # mutmut 3.8.1 indexes its test map directly when given exact names, so a sampled
        # mutant that no test reaches raises KeyError before anything runs; mutmut's own loop
        # already scores such a mutant "no tests" (surviving), which is what it must count as.
        by_function = state().tests_by_mangled_function_name
        return {
            test
            for name in mutant_names
            for test in by_function.get(mangled_name_from_mutant_name(name), ())
        }

    mm.tests_for_mutant_names = tests_for
    if tests:
        # A narrower selection than pyproject's: fewer tests per mutant, so a faster run whose
        # score is a lower bound of the configured suite's (a mutant the narrower selection
        # kills, the whole one kills too).
        config().pytest_add_cli_args_test_selection = list(tests)
    mm._run(names, max_children)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True, help="mutants in the sample")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the draw")
    parser.add_argument("--out", default="build/mutation/sample.txt")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument(
        "--tests", nargs="*", help="test paths instead of [tool.mutmut]'s selection (a lower bound)"
    )
    args = parser.parse_args()
    if args.size < 1:
        print(f"--size must be a positive number of mutants, got {args.size}", file=sys.stderr)
        return 2
    population = generate()
    sample = sorted(random.Random(args.seed).sample(population, min(args.size, len(population))))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{name}\n" for name in sample))
    print(f"sample: {len(sample)} of {len(population)} mutants (seed {args.seed}) -> {out}")
    run(sample, args.max_children, args.tests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
