"""One problem, one comment: a removed safeguard merges with another rule's finding on the same statement."""

from __future__ import annotations

from pathlib import Path

from bot.analyzers.same_problem import merge_same_problem
from bot.core.model import Category, Finding, Severity
from tests.analyzers.test_differential import _review

GO_BASE = """package main

import (
\t"net/http"
\t"time"
)

func newClient() *http.Client {
\treturn &http.Client{
\t\tTransport: http.DefaultTransport,
\t\tTimeout:   10 * time.Second,
\t}
}
"""
GO_HEAD = GO_BASE.replace("\t\tTimeout:   10 * time.Second,\n", "")


def _finding(source: str, start: int, end: int, *, severity: Severity = Severity.medium,
             category: Category = Category.missing_timeout, confidence: float = 0.8) -> Finding:
    return Finding(id=f"{source}-{start}", category=category, severity=severity, path="a.go", start_line=start,
                   end_line=end, title=source, evidence=f"evidence of {source}", risk="r", rollback="r",
                   monitoring="m", confidence=confidence, source=source)


def test_removing_a_timeout_from_a_client_literal_is_one_comment_that_quotes_what_went(tmp_path: Path) -> None:
    result = _review(tmp_path, {"svc/client.go": GO_BASE}, {"svc/client.go": GO_HEAD})
    timeouts = [f for f in result.findings if f.category == Category.missing_timeout]
    assert len(timeouts) == 1, [(f.source, f.start_line) for f in result.findings]
    assert "Timeout:   10 * time.Second" in timeouts[0].evidence or "Timeout: 10 * time.Second" in timeouts[0].evidence


def test_ties_keep_the_local_rule_and_its_suggestion() -> None:
    local = _finding("go-http-client-no-timeout", 9, 11).model_copy(update={"suggestion": "fixed"})
    merged = merge_same_problem([local, _finding("safeguard-timeout", 10, 10)])
    assert [f.source for f in merged] == ["go-http-client-no-timeout"]
    assert merged[0].suggestion == "fixed" and "evidence of safeguard-timeout" in merged[0].evidence


def test_a_more_severe_safeguard_wins() -> None:
    merged = merge_same_problem([_finding("go-http-client-no-timeout", 9, 11),
                                 _finding("safeguard-timeout", 10, 10, severity=Severity.high)])
    assert [f.source for f in merged] == ["safeguard-timeout"]
    assert "evidence of go-http-client-no-timeout" in merged[0].evidence


def test_different_lines_or_categories_stay_two_findings() -> None:
    apart = merge_same_problem([_finding("go-http-client-no-timeout", 9, 11), _finding("safeguard-timeout", 20, 20)])
    other_kind = merge_same_problem([_finding("go-http-client-no-timeout", 9, 11),
                                     _finding("safeguard-limit", 10, 10, category=Category.missing_limits)])
    assert len(apart) == 2 and len(other_kind) == 2


def test_a_query_site_finding_gives_way_to_the_call_site_finding_of_its_file() -> None:
    from bot.analyzers.same_problem import drop_other_ends

    query_site = _finding("js-helper-io-per-item", 4, 4, category=Category.n_plus_one)
    call_site = _finding("js-helper-query-in-loop", 11, 11, category=Category.n_plus_one)
    assert drop_other_ends([query_site, call_site]) == [call_site]
    assert drop_other_ends([query_site]) == [query_site]  # the loop is unchanged: the query is where to ask
