"""The GitHub Action's job summary (`GITHUB_STEP_SUMMARY`): a short Markdown page per run.

Concise on purpose: the verdict, where the review was published (or why it could not be), the most
severe findings in one table, and the notes. The check run keeps the full report. Everything from the
pull request (titles, paths, notes) goes through the same neutralising helpers as the check run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.code_span import code_span
from bot.core.model import Conclusion, Review
from bot.render.comment import SEVERITY_BADGE
from bot.render.markdown import CONCLUSION_WORDS
from bot.render.sanitize import one_line

MAX_ROWS = 15
MAX_NOTES = 6
HEADING = "## {icon} Scalability review: {word}"
HEADING_NONE = "## Scalability review: nothing reviewed"
POSTED = ("Published on the pull request: the **Scalability review** check run{link} and inline comments "
          "on new findings.")
NOT_POSTED = "**Not posted to the pull request:** {why}"
TABLE_HEADER = "| Severity | Finding | Location | ID |\n|---|---|---|---|"
MORE = "_… {n} more finding(s): see the check run, or the SARIF file when one was written._"
NO_FINDINGS = "No scalability findings in the reviewed files."
FOOTER = "<sub>scale-review {version} · {mode} · {calls} GitHub call(s){gate}</sub>"
GATE_LINE = " · job gate: fail-on {level} → {result}"


@dataclass(frozen=True)
class JobReport:
    """What one `scale-review action` run did, for the summary."""

    mode: str  # "published" | "summary only"
    version: str
    calls: int = 0
    review: Review | None = None
    outcome: str = ""  # the App flow's outcome (skipped, superseded, unauthorised, ...) or ""
    detail: str = ""  # why nothing was reviewed, or the outcome's detail
    not_posted: str = ""  # why nothing could be published (fork, summary mode)
    check_run_url: str = ""
    fail_on: str = ""  # the job gate's level when `fail-on` asked for one
    gate_failed: bool = False
    notes: list[str] = field(default_factory=list)


def render_job_summary(report: JobReport) -> str:
    parts = [_heading(report)]
    if report.review is not None and report.review.verdict:
        parts.append(f"**{one_line(report.review.verdict, 400)}**")
    if report.detail and report.review is None:
        parts.append(one_line(report.detail, 400))
    if report.not_posted:
        parts.append(NOT_POSTED.format(why=one_line(report.not_posted, 600)))
    elif report.review is not None:
        link = f" ([open]({report.check_run_url}))" if report.check_run_url else ""
        parts.append(POSTED.format(link=link))
    if report.review is not None:
        parts.append(_table(report.review))
    notes = [*report.notes, *(report.review.notes if report.review is not None else [])]
    if notes:
        parts.append("\n".join(f"- {one_line(n, 400)}" for n in notes[:MAX_NOTES]))
    gate = ""
    if report.fail_on:
        gate = GATE_LINE.format(level=report.fail_on, result="failed" if report.gate_failed else "passed")
    parts.append(FOOTER.format(version=report.version, mode=report.mode, calls=report.calls, gate=gate))
    return "\n\n".join(parts) + "\n"


def _heading(report: JobReport) -> str:
    if report.review is None:
        return HEADING_NONE
    icon, word = CONCLUSION_WORDS[Conclusion(report.review.conclusion)]
    return HEADING.format(icon=icon, word=word)


def _table(review: Review) -> str:
    if not review.findings:
        return NO_FINDINGS
    rows = []
    ordered = sorted(review.findings, key=lambda f: (-f.severity.rank, f.path, f.start_line, f.id))
    for f in ordered[:MAX_ROWS]:
        lines = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
        where = code_span(f"{f.path}:{lines}", 160).replace("|", "\\|")
        rows.append(f"| {SEVERITY_BADGE[f.severity]} | {one_line(f.title, 140)} | {where} | `{f.id}` |")
    more = len(review.findings) - MAX_ROWS
    return TABLE_HEADER + "\n" + "\n".join(rows) + ("\n\n" + MORE.format(n=more) if more > 0 else "")
