"""The review for a terminal: findings grouped by file, a table by severity, the verdict last.

ANSI colours only when `color` is true (the CLI passes `sys.stdout.isatty()`); every piece of
finding text has control characters stripped, so a hostile file cannot drive the terminal.
"""

from __future__ import annotations

import textwrap
from itertools import groupby

from bot.core.model import Conclusion, CoverageStatus, Finding, Review, Severity
from bot.render.sanitize import clip, strip_control
from bot.render.stats import stats_rows

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
DIM = "\x1b[2m"
SEVERITY_COLOR = {
    Severity.critical: "\x1b[1;35m",
    Severity.high: "\x1b[1;31m",
    Severity.medium: "\x1b[33m",
    Severity.low: "\x1b[36m",
    Severity.info: "\x1b[34m",
}
CONCLUSION_COLOR = {
    Conclusion.success: "\x1b[1;32m",
    Conclusion.failure: "\x1b[1;31m",
    Conclusion.neutral: "\x1b[1;33m",
}
CONCLUSION_WORD = {Conclusion.success: "PASSED", Conclusion.failure: "FAILED", Conclusion.neutral: "INCOMPLETE"}
NO_FINDINGS = "No scalability findings in the reviewed files."
CONFIRMED_TAG = " (low confidence, confirmed by the specialist)"
ACCEPTED_TAG = " [accepted]"
WIDTH = 100
INDENT = "      "
MAX_FIELD = 2_000
FIELDS = (
    ("evidence", "Evidence"),
    ("risk", "Risk"),
    ("advice", "Do"),
    ("rollback", "Rollback"),
    ("monitoring", "Monitor"),
    ("handoff", "Hand-off"),
)


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color else text


def _clean(text: str, limit: int = MAX_FIELD) -> str:
    return clip(strip_control(text), limit)


def _wrap(label: str, text: str) -> list[str]:
    lines: list[str] = []
    for i, para in enumerate(_clean(text).split("\n")):
        first = f"{INDENT}{label}: " if i == 0 else INDENT + " " * (len(label) + 2)
        lines.extend(textwrap.wrap(para, WIDTH, initial_indent=first, subsequent_indent=INDENT + "  ") or [first])
    return lines


def _finding(f: Finding, accepted: set[str], color: bool) -> list[str]:
    lines_ref = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
    sev = _paint(f"{f.severity.value.upper():<8}", SEVERITY_COLOR[f.severity], color)
    tag = ACCEPTED_TAG if f.id in accepted else CONFIRMED_TAG if f.verdict == "confirmed" else ""
    out = [f"  {lines_ref:>9}  {sev} {_paint(_clean(f.title, 200), BOLD, color)}{tag}  {_paint(f.id, DIM, color)}"]
    for attr, label in FIELDS[:2]:
        out += _wrap(label, getattr(f, attr))
    if f.suggestion is not None:
        out.append(f"{INDENT}Suggested change (lines {f.start_line}-{f.end_line}):")
        body = _clean(f.suggestion).removesuffix("\n").split("\n")
        out += [_paint(f"{INDENT}  | {line}", "\x1b[32m", color) for line in body]
    for attr, label in FIELDS[2:]:
        value = getattr(f, attr)
        if value:
            out += _wrap(label, value)
    return out


def _findings(review: Review, color: bool) -> list[str]:
    if not review.findings:
        return [NO_FINDINGS]
    accepted = {a.finding_id for a in review.accepted}
    out: list[str] = []
    ordered = sorted(review.findings, key=lambda f: (f.path, f.start_line, -f.severity.rank))
    for path, group in groupby(ordered, key=lambda f: f.path):
        out.append(_paint(_clean(path, 300), BOLD, color))
        for f in group:
            out += _finding(f, accepted, color)
            out.append("")
    return out


def _severity_table(review: Review, color: bool) -> list[str]:
    counts = review.counts()
    out = ["Severity   Count", "---------  -----"]
    for sev in sorted(Severity, key=lambda s: -s.rank):
        out.append(f"{_paint(f'{sev.value:<9}', SEVERITY_COLOR[sev], color)}  {counts[sev]:>5}")
    out.append(f"{'total':<9}  {len(review.findings):>5}")
    return out


def _coverage_and_notes(review: Review) -> list[str]:
    out: list[str] = []
    skipped = [c for c in review.coverage if c.status == CoverageStatus.skipped]
    reviewed = len(review.coverage) - len(skipped)
    if review.coverage:
        out.append(f"Coverage: {reviewed} file(s) reviewed, {len(skipped)} skipped")
        out += [f"  skipped {_clean(c.path, 300)}: {_clean(c.reason, 300)}" for c in skipped[:50]]
        if len(skipped) > 50:
            out.append(f"  ... and {len(skipped) - 50} more skipped")
    for f in sorted(review.pre_existing, key=lambda x: (x.path, x.start_line))[:50]:
        where = f"{_clean(f.path, 300)}:{f.start_line}"
        out.append(f"Already at base (not gating): {where} {f.severity.value} {_clean(f.title, 160)} [{f.source}]")
    for f in sorted(review.dismissed, key=lambda x: (x.path, x.start_line))[:50]:
        where = f"{_clean(f.path, 300)}:{f.start_line}"
        out.append(f"Dismissed by the specialist (not gating): {where} {f.severity.value} {_clean(f.title, 160)} "
                   f"[{f.source}]: {_clean(f.verdict_reason or '', 400)}")
    for a in review.accepted:
        out.append(f"Accepted: {_clean(a.finding_id, 130)} by @{_clean(a.by, 60).lstrip('@')}: {_clean(a.reason, 400)}")
    out += [f"Note: {_clean(n, 600)}" for n in review.notes]
    stats = stats_rows(review.stats)
    if stats:
        out.append("Stats: " + "; ".join(f"{k} {_clean(v, 200)}" for k, v in stats))
    return out


def render_terminal(review: Review, *, color: bool) -> str:
    """The whole review as terminal text; plain (no escape codes at all) when `color` is false."""
    verdict = _clean(review.verdict or review.title(), 1_000)
    word = _paint(CONCLUSION_WORD[review.conclusion], CONCLUSION_COLOR[review.conclusion], color)
    parts = [
        "\n".join(_findings(review, color)).rstrip(),
        "\n".join(_severity_table(review, color)),
        "\n".join(_coverage_and_notes(review)),
        f"Scalability review {word}: {verdict}",
    ]
    return "\n\n".join(p for p in parts if p) + "\n"
