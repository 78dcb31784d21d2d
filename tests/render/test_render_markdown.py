"""The check run's summary: what a maintainer reads on the Checks tab, always under GitHub's limit."""

from __future__ import annotations

import re
import time

from bot.core.model import (
    Acceptance,
    Category,
    Conclusion,
    CoverageStatus,
    FileCoverage,
    Finding,
    Review,
    Severity,
    fingerprint,
)
from bot.core.policy import finalize
from bot.core.repo_config import RepoConfig
from bot.render.markdown import (
    MAX_SUMMARY_CHARS,
    NO_FINDINGS,
    render_summary,
    render_title,
)
from bot.render.sanitize import ZWSP


def finding(n: int = 0, severity: Severity = Severity.high, **over: object) -> Finding:
    base: dict[str, object] = {
        "id": fingerprint("py-orm-in-loop", f"app/views_{n}.py", f"Order.objects.get(id={n})"),
        "category": Category.n_plus_one,
        "severity": severity,
        "path": f"app/views_{n}.py",
        "start_line": 40,
        "end_line": 42,
        "title": "ORM query inside a loop (N+1)",
        "evidence": "`Order.objects.get()` runs once per item of `ids` (line 40).",
        "risk": "At 100x items the page issues 100x queries; p99 grows linearly with the list.",
        "suggestion": "orders = Order.objects.in_bulk(ids)\n",
        "advice": "Fetch all orders in one query before the loop.",
        "rollback": "Revert the commit; no schema change.",
        "monitoring": "Queries per request and p99 of GET /orders.",
        "source": "py-orm-in-loop",
    }
    base.update(over)
    return Finding.model_validate(base)


def review(findings: list[Finding], **over: object) -> Review:
    r = Review(
        findings=findings,
        coverage=[
            FileCoverage(path="app/views_0.py", status=CoverageStatus.reviewed, analyzers=("ast-grep", "specialist")),
            FileCoverage(path="static/logo.png", status=CoverageStatus.skipped, reason="binary file"),
        ],
        stats={
            "seconds": 2.5,
            "github_calls": 7,
            "model": {
                "model": "claude-sonnet",
                "input_tokens": 12000,
                "cost_usd": 0.0421,
                "prompt_version": "review/3",
            },
        },
        **over,  # type: ignore[arg-type]
    )
    return finalize(r, RepoConfig())


def test_verdict_comes_first() -> None:
    text = render_summary(review([finding()]))
    assert text.startswith("## ❌ Scalability review: merge blocked\n\n**1 finding at or above high: merge blocked**")


def test_passed_and_incomplete_headings() -> None:
    assert render_summary(review([])).startswith("## ✅ Scalability review: passed")
    degraded = finalize(Review(), RepoConfig(), degraded="model budget spent")
    text = render_summary(degraded)
    assert text.startswith("## ⚪ Scalability review: incomplete")
    assert "- Review incomplete: model budget spent" in text
    assert NO_FINDINGS in text


def test_findings_table_row() -> None:
    f = finding()
    text = render_summary(review([f]))
    assert "| # | Severity | Finding | Location | ID |" in text
    assert f"| 1 | 🔴 High | ORM query inside a loop (N+1) | `app/views_0.py:40-42` | `{f.id}` |" in text


def test_each_finding_in_full() -> None:
    f = finding()
    text = render_summary(review([f]))
    for piece in (
        "**Evidence.** `Order.objects.get()` runs once per item",
        "**Risk at scale.** At 100x items",
        "```python\norders = Order.objects.in_bulk(ids)\n```",
        "**What to do.** Fetch all orders",
        "**Rollback.** Revert the commit",
        "**Monitor.** Queries per request",
    ):
        assert piece in text, piece


def test_accepted_risks_with_who_and_why() -> None:
    f = finding()
    r = review([f], accepted=[Acceptance(finding_id=f.id, by="alice", reason="nightly batch, 10 rows")])
    text = render_summary(r)
    assert r.conclusion == Conclusion.success
    assert "### Accepted risks" in text
    assert f"| `{f.id}` | ORM query inside a loop (N+1) | @{ZWSP}alice | nightly batch, 10 rows |" in text
    assert "🔴 High (accepted)" in text


def test_notes_show_config_errors() -> None:
    msg = ".github/scale-review.yml: key 'fail_on': Input should be 'info', 'low', 'medium', 'high' or 'critical'"
    text = render_summary(review([], notes=[msg]))
    assert "### Notes" in text
    assert "- .github/scale-review.yml: key 'fail_on': Input should be" in text


def test_coverage_table_lists_skipped_with_reason() -> None:
    text = render_summary(review([]))
    assert "1 reviewed, 1 skipped." in text
    assert "| `static/logo.png` | skipped | — | binary file |" in text
    assert "| `app/views_0.py` | reviewed | ast-grep, specialist | — |" in text
    assert text.index("static/logo.png") < text.index("| `app/views_0.py` |")


def test_stats_include_model_usage_cost_and_prompt_version() -> None:
    text = render_summary(review([]))
    assert "| Review time (s) | 2.500 |" in text
    assert "| GitHub API calls | 7 |" in text
    assert "| Model | claude-sonnet |" in text
    assert "| Input tokens | 12,000 |" in text
    assert "| Model cost (USD) | $0.0421 |" in text
    assert "| Prompt version | review/3 |" in text


def test_specialist_extras_render() -> None:
    text = render_summary(
        review([], assumptions=["traffic is read-heavy"], questions=["how many tenants?"], rollback_plan="flag off")
    )
    assert "### Assumptions\n\n- traffic is read-heavy" in text
    assert "### Open questions\n\n- how many tenants?" in text
    assert "### Rollback plan\n\nflag off" in text


def test_hostile_text_is_neutralised_everywhere() -> None:
    evil = "@octocat <script>x</script> <!-- scale-review:finding=SR-evil --> | #12"
    f = finding(title=evil, evidence=evil, risk=evil)
    r = review(
        [f],
        notes=[evil],
        accepted=[Acceptance(finding_id=f.id, by="mallory", reason=evil)],
        assumptions=[evil],
    )
    text = render_summary(r)
    assert not re.search(r"(?<!\w)@[A-Za-z]", text)
    assert "<script>" not in text
    assert "<!-- scale-review:" not in text
    assert "#12" not in text


def test_title() -> None:
    assert render_title(review([finding(0), finding(1), finding(2, Severity.medium)])) == "2 high, 1 medium"
    assert render_title(review([])) == "No scalability findings"
    assert render_title(finalize(Review(), RepoConfig(), degraded="x")) == "No scalability findings (review incomplete)"


def test_two_thousand_findings_stay_under_the_limit_and_say_what_was_left_out() -> None:
    cycle = [Severity.critical, Severity.high, Severity.medium, Severity.low]
    findings = [finding(n, cycle[n % 4]) for n in range(2000)]
    coverage = [FileCoverage(path=f"app/views_{n}.py", status=CoverageStatus.reviewed, analyzers=("ast-grep",))
                for n in range(2000)]
    r = review(findings, notes=[f"note {i} " + "x" * 300 for i in range(100)])
    r = r.model_copy(update={"coverage": coverage})
    started = time.perf_counter()
    text = render_summary(r)
    elapsed = time.perf_counter() - started
    assert len(text) <= MAX_SUMMARY_CHARS
    assert len(text) > 50_000  # the budget is used, not wasted
    assert text.startswith("## ❌ Scalability review: merge blocked\n\n**1000 findings at or above high")
    assert re.search(r"\| … \| \d+ more not shown \| \| \|", text)
    assert re.search(r"_… \d+ more findings not shown here", text)
    assert "more notes not shown" in text
    assert "### Coverage" in text and "### Stats" in text  # the tail sections survive
    assert elapsed < 5.0


def test_huge_single_fields_are_clipped() -> None:
    big = "word " * 100_000
    f = finding(evidence=big, risk=big, suggestion=big, advice=big, rollback=big, monitoring=big, title=big)
    text = render_summary(review([f]))
    assert len(text) <= MAX_SUMMARY_CHARS
    assert "more characters cut" in text


def test_fences_in_suggestion_do_not_break_the_summary() -> None:
    f = finding(suggestion='x = """\n```\n"""\n')
    text = render_summary(review([f]))
    assert '````python\nx = """\n```\n"""\n````' in text


def test_most_severe_first_even_when_the_review_was_not_sorted() -> None:
    low, crit = finding(1, Severity.low), finding(2, Severity.critical)
    text = render_summary(Review(findings=[low, crit], verdict="v"))
    assert text.index(f"`{crit.id}`") < text.index(f"`{low.id}`")
    assert "| 1 | 🛑 Critical |" in text


def test_pipeline_stats_keys_get_labels() -> None:
    stats = {"files_changed": 3, "lines_changed": 45, "analysis_seconds": 0.04, "base": "abc", "mode": "static"}
    r = Review(stats=stats)
    text = render_summary(r)
    for row in ("| Files changed | 3 |", "| Changed lines | 45 |", "| Analyzer time (s) | 0.040 |",
                "| Base commit | abc |", "| Mode | static |"):
        assert row in text


def test_pre_existing_findings_are_collapsed_and_low_confidence_ones_marked() -> None:
    from bot.core.model import Category, Finding, Review, Severity
    from bot.render.markdown import render_summary

    def make(n: int, confidence: float) -> Finding:
        return Finding(id=f"SR-{n:010d}", category=Category.n_plus_one, severity=Severity.high, path="a.py",
                       start_line=n, end_line=n, title=f"problem {n}", evidence="e", risk="r", rollback="",
                       monitoring="", source="rule-x", confidence=confidence)

    text = render_summary(Review(findings=[make(1, 0.5)], pre_existing=[make(2, 0.9), make(3, 0.9)]))
    assert "<details><summary>2 findings already at the base" in text and "</details>" in text
    assert "problem 2" in text.split("<details>")[1]
    assert "(low confidence: never blocks)" in text.split("<details>")[0]
    assert "<details>" not in render_summary(Review(findings=[make(1, 0.9)]))
