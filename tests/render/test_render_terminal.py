"""The terminal view of `scale-review review`: grouped by file, coloured only on a TTY, verdict last."""

from __future__ import annotations

from bot.core.model import Category, CoverageStatus, FileCoverage, Finding, Review, Severity
from bot.core.policy import finalize
from bot.core.repo_config import RepoConfig
from bot.render.terminal import NO_FINDINGS, render_terminal


def finding(path: str, line: int, severity: Severity, title: str = "Query inside a loop", **over: object) -> Finding:
    base: dict[str, object] = {
        "id": f"SR-{path.replace('/', '')[:6]}{line:04d}",
        "category": Category.n_plus_one,
        "severity": severity,
        "path": path,
        "start_line": line,
        "end_line": line,
        "title": title,
        "evidence": "seen here",
        "risk": "10x rows, 10x queries",
        "suggestion": "rows = fetch_all(ids)",
        "rollback": "revert",
        "monitoring": "queries per request",
        "source": "py-orm-in-loop",
    }
    base.update(over)
    return Finding.model_validate(base)


def sample() -> Review:
    r = Review(
        findings=[
            finding("b.py", 5, Severity.medium),
            finding("a.py", 30, Severity.high),
            finding("a.py", 10, Severity.low),
        ],
        coverage=[
            FileCoverage(path="a.py", status=CoverageStatus.reviewed, analyzers=("ast-grep",)),
            FileCoverage(path="logo.png", status=CoverageStatus.skipped, reason="binary file"),
        ],
        notes=["config: key 'fail_on' is wrong"],
        stats={"seconds": 1.5},
    )
    return finalize(r, RepoConfig())


def test_plain_output_has_no_escape_codes() -> None:
    assert "\x1b" not in render_terminal(sample(), color=False)


def test_colour_output_has_escape_codes() -> None:
    out = render_terminal(sample(), color=True)
    assert "\x1b[1;31m" in out  # high in red
    assert "\x1b[0m" in out


def test_grouped_by_file_in_line_order() -> None:
    out = render_terminal(sample(), color=False)
    lines = out.splitlines()
    assert lines[0] == "a.py"
    a10, a30, b = out.index("   10  LOW"), out.index("   30  HIGH"), out.index("\nb.py\n")
    assert a10 < a30 < b
    assert "Suggested change (lines 10-10):" in out
    assert "| rows = fetch_all(ids)" in out


def test_summary_table_and_verdict_last() -> None:
    out = render_terminal(sample(), color=False)
    assert "Severity   Count" in out
    assert "high           1" in out and "medium         1" in out and "total          3" in out
    assert out.rstrip().splitlines()[-1] == "Scalability review FAILED: 1 finding at or above high: merge blocked"


def test_coverage_notes_and_stats() -> None:
    out = render_terminal(sample(), color=False)
    assert "Coverage: 1 file(s) reviewed, 1 skipped" in out
    assert "skipped logo.png: binary file" in out
    assert "Note: config: key 'fail_on' is wrong" in out
    assert "Review time (s) 1.500" in out


def test_no_findings() -> None:
    out = render_terminal(finalize(Review(), RepoConfig()), color=False)
    assert out.startswith(NO_FINDINGS)
    assert out.rstrip().endswith("Scalability review PASSED: no findings at or above high")


def test_hostile_text_cannot_drive_the_terminal() -> None:
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u202e"
    r = finalize(Review(findings=[finding("x.py", 1, Severity.high, title=evil, evidence=evil)]), RepoConfig())
    assert "\x1b" not in render_terminal(r, color=False)
    assert "\x07" not in render_terminal(r, color=True) and "\u202e" not in render_terminal(r, color=True)
