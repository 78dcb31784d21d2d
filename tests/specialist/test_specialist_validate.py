"""Validation by code: only findings on lines the diff shows survive, with safe suggestions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.model import Category, Severity, fingerprint
from bot.specialist.validate import CAPS, validate_findings
from tests.support.specialist_repo import HEAD_ORDERS, QUERY_LINE, Change, analyzer_finding, line_of, make_change


@pytest.fixture()
def change(tmp_path: Path) -> Change:
    return make_change(tmp_path / "repo")


def raw(**over: Any) -> dict[str, Any]:
    n = line_of(QUERY_LINE)
    base = {
        "category": "quadratic_loop", "severity": "medium", "path": "app/orders.py", "start_line": n,
        "end_line": n, "title": "Totals computed per user", "evidence": "app/orders.py:15 loops",
        "risk": "grows with users", "rollback": "revert", "monitoring": "p95 latency",
    }
    return {**base, **over}


def check(change: Change, items: list[dict[str, Any]], reads: dict[str, Any] | None = None,
          candidates: list[Any] | None = None) -> Any:
    return validate_findings(items, changes=change.changes, candidates=candidates or [], repo=change.repo,
                             reads=reads or {})


def test_a_grounded_finding_becomes_a_specialist_finding(change: Change) -> None:
    out = check(change, [raw()])
    [f] = out.findings
    n = line_of(QUERY_LINE)
    assert (f.path, f.start_line, f.end_line, f.source) == ("app/orders.py", n, n, "specialist")
    assert f.id == fingerprint("specialist:quadratic_loop", "app/orders.py", QUERY_LINE + "\n")
    assert out.dropped == []


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"path": "app/payments.py"}, "not a file of this change"),
        ({"path": "app/db.py"}, "not a file of this change"),
        ({"start_line": 300, "end_line": 310}, "lines not shown by the diff"),
        ({"path": "../app/orders.py"}, "not a file of this change"),
        ({"severity": "catastrophic"}, "invalid finding"),
        ({"category": "vibes"}, "invalid finding"),
    ],
)
def test_hallucinated_places_are_dropped_with_a_reason(change: Change, over: dict[str, Any], reason: str) -> None:
    out = check(change, [raw(**over)])
    assert out.findings == []
    assert len(out.dropped) == 1 and reason in out.dropped[0]


def test_a_range_reaching_outside_the_hunk_is_clamped_to_what_the_diff_shows(change: Change) -> None:
    end = len(HEAD_ORDERS.splitlines())
    out = check(change, [raw(start_line=end - 1, end_line=end + 40, suggestion="    return {}\n")])
    [f] = out.findings
    assert (f.start_line, f.end_line) == (end - 1, end)
    assert f.suggestion is None  # written for other lines: removed, finding kept
    assert any("suggestion removed" in n for n in out.notes)


def test_a_suggestion_that_does_not_parse_is_removed_and_the_finding_kept(change: Change) -> None:
    bad = '        rows = session.query("orders").filter(user_id=uid.all(\n'
    out = check(change, [raw(suggestion=bad)])
    [f] = out.findings
    assert f.suggestion is None
    assert any("would no longer parse" in n for n in out.notes)


def test_a_suggestion_that_parses_is_kept(change: Change) -> None:
    good = '        rows = session.query("orders").filter(user_id=uid).limit(1000).all()\n'
    [f] = check(change, [raw(suggestion=good)]).findings
    assert f.suggestion == good.strip()


def test_noop_and_fence_breaking_suggestions_are_removed(change: Change) -> None:
    out = check(change, [raw(suggestion=QUERY_LINE + "\n"),
                         raw(category="missing_limits", suggestion="```\nboom\n```")])
    assert [f.suggestion for f in out.findings] == [None, None]
    assert any("changes nothing" in n for n in out.notes) and any("code fence" in n for n in out.notes)


def test_duplicates_of_the_analyzers_and_of_itself_are_dropped(change: Change) -> None:
    candidate = analyzer_finding(change)
    out = check(change, [raw(category="n_plus_one"), raw(), raw(title="same again")], candidates=[candidate])
    assert [f.category for f in out.findings] == [Category.quadratic_loop]
    assert any(candidate.id in d for d in out.dropped)
    assert any("repeats specialist finding" in d for d in out.dropped)


def test_critical_needs_a_tool_read_of_the_file(change: Change) -> None:
    [unread] = check(change, [raw(severity="critical")]).findings
    assert unread.severity == Severity.high
    [read] = check(change, [raw(severity="critical")], reads={"app/orders.py": [[1, 20]]}).findings
    assert read.severity == Severity.critical


def test_text_is_length_capped(change: Change) -> None:
    [f] = check(change, [raw(evidence="e" * 50_000, title="t" * 290)]).findings
    assert len(f.evidence) <= CAPS["evidence"] and len(f.title) <= CAPS["title"]
