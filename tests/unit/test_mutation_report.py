"""The mutation report's sample estimate (``make mutation MUTATION_SAMPLE=n``): the interval
and the restriction to the sampled mutants. The expected intervals are textbook values of the
95 % Wilson score interval, not numbers produced by the code under test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mutation_report", ROOT / "scripts" / "mutation_report.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation_report", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("killed", "scored", "low", "high"),
    [
        # 90 of 100: 0.8256 to 0.9448 (Wilson's formula worked by hand, p = 0.9, n = 100).
        (90, 100, 0.8256, 0.9448),
        # None and all of 10: 0 to z²/(n+z²) = 0.2775 and n/(n+z²) = 0.7225 to 1.
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_mutation_report_wilson_interval_matches_textbook_values(
    killed: int, scored: int, low: float, high: float
) -> None:
    lo, hi = load().wilson(killed, scored)

    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_mutation_report_scores_only_sampled_mutants_when_sampled() -> None:
    report = load()
    results = {
        "components/a.py": {"a.f__mutmut_1": "killed", "a.f__mutmut_2": "survived"},
        "components/b.py": {"b.g__mutmut_1": "not checked"},
    }

    text = report.render(report.restrict(results, {"a.f__mutmut_1"}), "60", "", population=3)

    assert "- **score: 100.0 %** (1 killed of 1 scored mutants; 0 not reached" in text
    assert "- uniform random sample of 1 of 3 mutants: estimated score of all of them" in text
    assert "a.f__mutmut_2" not in text
    assert "components/b.py" not in text
