"""The Action's job summary: short, most severe first, and inert whatever the pull request put in it."""

from __future__ import annotations

from bot.core.model import Conclusion, Finding, Review, Severity
from bot.render.job_summary import MAX_ROWS, JobReport, render_job_summary


def _finding(i: int, severity: str = "low", title: str = "Query in a loop", path: str = "app.py") -> Finding:
    return Finding(id=f"SR-{i:010d}", category="n_plus_one", severity=Severity(severity), path=path, start_line=i,
                   end_line=i, title=title, evidence="e", risk="r", rollback="b", monitoring="m", source="x")


def test_most_severe_first_and_bounded() -> None:
    findings = [_finding(i) for i in range(1, 30)] + [_finding(99, "critical", "Table lock")]
    text = render_job_summary(JobReport(mode="published", version="1", calls=13, check_run_url="https://g/r/runs/5",
                                        review=Review(findings=findings, conclusion=Conclusion.failure,
                                                      verdict="1 at or above high: merge blocked")))
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert "Table lock" in table[1] and len(table) == MAX_ROWS + 1
    assert "15 more finding(s)" in text and "[open](https://g/r/runs/5)" in text
    assert text.startswith("## ❌ Scalability review: merge blocked") and "13 GitHub call(s)" in text


def test_hostile_titles_and_paths_stay_inert() -> None:
    evil = _finding(1, "high", title="@org/team see [x](https://evil.example) <!-- | break", path="a`|b.py")
    text = render_job_summary(JobReport(mode="summary only", version="1", not_posted="a fork",
                                        review=Review(findings=[evil])))
    row = next(line for line in text.splitlines() if "SR-0000000001" in line)
    assert "@org" not in row and "](https://" not in row and "<!--" not in row
    assert row.count(" | ") == 3  # no cell was split


def test_nothing_reviewed_says_why() -> None:
    text = render_job_summary(JobReport(mode="published", version="1", detail="skipped: draft pull request",
                                        fail_on="high"))
    assert "nothing reviewed" in text and "draft pull request" in text and "fail-on high → passed" in text
