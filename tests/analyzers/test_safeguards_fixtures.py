"""One fires/quiet pair per safeguard kind and language: tests/fixtures/safeguards/<kind>/<language>/.

`head` drops the safeguard that `base` has and must be reported on a line GitHub accepts, inside the
change, under that kind's rule; `quiet` moves it or replaces it by an equivalent and must stay silent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyzers.safeguards import SafeguardAnalyzer
from bot.core.model import Finding
from tests.support.two_sides import file_input

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "safeguards"
CASES = sorted(p for p in FIXTURES.glob("*/*") if p.is_dir())


def _run(case: Path, variant: str) -> tuple[list[Finding], object]:
    base = next(case.glob("base.*"))
    other = next(case.glob(f"{variant}.*"))
    inp = file_input(base.read_text(), other.read_text(), f"src/example{base.suffix}")
    return SafeguardAnalyzer().analyze(inp), inp


def test_every_kind_has_fixtures() -> None:
    kinds = {p.parent.name for p in CASES}
    assert kinds == {"eager_loading", "index", "timeout", "batching", "limit", "hoisting", "concurrency"}
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_removed_safeguard_is_reported_where_github_accepts_it(case: Path) -> None:
    findings, inp = _run(case, "head")
    rule = "safeguard-" + case.parent.name.replace("_", "-")
    ours = [f for f in findings if f.source == rule]
    assert ours, f"no {rule} finding; got {[f.source for f in findings]}"
    change = inp.change  # type: ignore[attr-defined]
    for f in ours:
        assert change.can_comment_range(f.start_line, f.end_line)
        assert change.touches(f.start_line, f.end_line)
        assert f.rollback and f.monitoring and f.risk
        assert "10x" in f.risk and "100x" in f.risk


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}-{p.name}")
def test_a_move_or_an_equivalent_stays_quiet(case: Path) -> None:
    findings, _ = _run(case, "quiet")
    assert findings == []
