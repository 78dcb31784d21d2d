"""The check run's Markdown: `render_summary` is exactly what `output.summary` carries.

Order: verdict, notes, findings table (most severe first), each finding in full, accepted risks, findings
that were there at base already (collapsed), low-confidence findings the specialist dismissed (collapsed,
with its reason), the specialist's assumptions and plans, coverage, stats.
GitHub refuses a summary over 65,535 characters, so each section gets a budget and says how much it left
out; the verdict always fits.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.model import Conclusion, CoverageStatus, Finding, Review
from bot.render.comment import SEVERITY_BADGE, suggestion_fence
from bot.render.sanitize import clip, neutralize_clipped, neutralize_code, one_line
from bot.render.stats import stats_rows

MAX_SUMMARY_CHARS = 65_535
TARGET_CHARS = 64_000  # margin for the joins between sections

HEADING = "## {icon} Scalability review: {word}"
CONCLUSION_WORDS = {
    Conclusion.success: ("✅", "passed"),
    Conclusion.failure: ("❌", "merge blocked"),
    Conclusion.neutral: ("⚪", "incomplete"),
}
TITLE_INCOMPLETE = "{title} (review incomplete)"
NOTES_HEADING = "### Notes"
TABLE_HEADING = "### Findings"
TABLE_HEADER = "| # | Severity | Finding | Location | ID |\n|---|---|---|---|---|"
NO_FINDINGS = "No scalability findings in the reviewed files."
DETAILS_HEADING = "### Details"
ACCEPTED_HEADING = "### Accepted risks"
ACCEPTED_HEADER = "| ID | Finding | Accepted by | Why |\n|---|---|---|---|"
ACCEPTED_MARK = " (accepted)"
LOW_CONFIDENCE_MARK = " (low confidence: never blocks)"
PRE_EXISTING_OPEN = (
    "<details><summary>{n} already at the base, in code this change touches "
    "(not posted inline, never blocks the merge)</summary>"
)
PRE_EXISTING_HEADER = "| Severity | Finding | Location | Rule | ID |\n|---|---|---|---|---|"
BUDGET_PRE_EXISTING = 6_000
CONFIRMED_MARK = " (low confidence, confirmed by the specialist)"
DISMISSED_OPEN = (
    "<details><summary>{n} of low confidence dismissed by the specialist "
    "(not posted inline, never blocks the merge)</summary>"
)
DISMISSED_HEADER = "| Severity | Finding | Location | Rule | ID | Why dismissed |\n|---|---|---|---|---|---|"
BUDGET_DISMISSED = 6_000
GONE = "(no longer found)"
COVERAGE_HEADING = "### Coverage"
COVERAGE_LINE = "{reviewed} reviewed, {skipped} skipped."
COVERAGE_HEADER = "| File | Status | Analyzers | Why skipped |\n|---|---|---|---|"
STATS_HEADING = "### Stats"
STATS_HEADER = "| | |\n|---|---|"
MORE_ROWS = "| … | {n} more not shown | | |"
MORE_FINDINGS = "_… {n} more findings not shown here: see the annotations or `scale-review review --format json`._"
MORE_NOTES = "- … {n} more notes not shown"
TRUNCATED = "\n\n_… summary cut at GitHub's 65,535-character limit._"
EXTRAS = (
    ("assumptions", "### Assumptions"),
    ("questions", "### Open questions"),
    ("handoffs", "### Hand-offs"),
)
PLANS = (("rollback_plan", "### Rollback plan"), ("monitoring_plan", "### Monitoring plan"))
BUDGET_NOTES, BUDGET_ACCEPTED, BUDGET_EXTRAS, BUDGET_COVERAGE, BUDGET_STATS = 8_000, 6_000, 6_000, 10_000, 4_000
TABLE_SHARE = 0.35  # of what is left after the fixed sections; details get the rest
MAX_FIELD = 3_000
LANGUAGES = {
    ".py": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".tsx": "tsx",
    ".jsx": "jsx", ".go": "go", ".sql": "sql", ".yml": "yaml", ".yaml": "yaml", ".rb": "ruby",
    ".java": "java", ".rs": "rust", ".tf": "hcl", ".json": "json",
}


def render_title(review: Review) -> str:
    """The check run's title, e.g. '2 high, 1 medium'."""
    title = review.title()
    return TITLE_INCOMPLETE.format(title=title) if review.conclusion == Conclusion.neutral else title


def _severity_order(f: Finding) -> tuple[int, str, int, str]:
    return (-f.severity.rank, f.path, f.start_line, f.id)


def _fit(blocks: list[str], budget: int, more: Callable[[int], str]) -> list[str]:
    """As many blocks as fit in `budget` characters, then a line saying how many were left out."""
    out: list[str] = []
    used = 0
    for i, block in enumerate(blocks):
        reserve = len(more(len(blocks) - i)) + 2 if i < len(blocks) - 1 else 0
        if used + len(block) + 1 + reserve > budget:
            out.append(more(len(blocks) - i))
            return out
        out.append(block)
        used += len(block) + 1
    return out


def _location(f: Finding) -> str:
    lines = f"{f.start_line}" if f.start_line == f.end_line else f"{f.start_line}-{f.end_line}"
    return "`" + one_line(f.path, 200).replace("`", "'") + f":{lines}`"


def _header(review: Review) -> str:
    icon, word = CONCLUSION_WORDS[review.conclusion]
    verdict = one_line(review.verdict or render_title(review), 1_000)
    return f"{HEADING.format(icon=icon, word=word)}\n\n**{verdict}**"


def _notes(review: Review) -> str:
    if not review.notes:
        return ""
    bullets = [f"- {one_line(n, 600)}" for n in review.notes]
    return NOTES_HEADING + "\n\n" + "\n".join(_fit(bullets, BUDGET_NOTES, lambda n: MORE_NOTES.format(n=n)))


def _mark(review: Review, f: Finding, accepted_ids: set[str]) -> str:
    if f.id in accepted_ids:
        return ACCEPTED_MARK
    if f.verdict == "confirmed":
        return CONFIRMED_MARK
    return LOW_CONFIDENCE_MARK if f.confidence < review.min_confidence else ""


def _table(review: Review, accepted_ids: set[str], budget: int) -> str:
    if not review.findings:
        return f"{TABLE_HEADING}\n\n{NO_FINDINGS}"
    rows = []
    for i, f in enumerate(review.findings, 1):
        mark = _mark(review, f, accepted_ids)
        title = one_line(f.title, 160)
        rows.append(f"| {i} | {SEVERITY_BADGE[f.severity]}{mark} | {title} | {_location(f)} | `{f.id}` |")
    fitted = _fit(rows, budget - len(TABLE_HEADER) - 30, lambda n: MORE_ROWS.format(n=n))
    return f"{TABLE_HEADING}\n\n{TABLE_HEADER}\n" + "\n".join(fitted)


def _field(label: str, text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return f"**{label}.** {neutralize_clipped(text.strip(), MAX_FIELD)}"


def _suggestion(f: Finding) -> str | None:
    if f.suggestion is None:
        return None
    code = neutralize_code(clip(f.suggestion, MAX_FIELD)).removesuffix("\n")
    fence = suggestion_fence(code)
    lang = next((v for k, v in LANGUAGES.items() if f.path.endswith(k)), "")
    inner = f"{code}\n" if code else ""
    return f"**Suggested change** (replaces lines {f.start_line}–{f.end_line}):\n\n{fence}{lang}\n{inner}{fence}"


def _detail(review: Review, i: int, f: Finding, accepted_ids: set[str]) -> str:
    mark = _mark(review, f, accepted_ids)
    path_kind = f" · {one_line(f.path_kind, 40)}" if f.path_kind else ""
    meta = (
        f"{_location(f)} · {f.category.value} · `{one_line(f.source, 80).replace('`', '')}` · "
        f"confidence {f.confidence:.0%}{path_kind} · `{f.id}`"
    )
    parts = [
        f"#### {i}. {SEVERITY_BADGE[f.severity]}{mark} · {one_line(f.title, 200)}",
        meta,
        _field("Evidence", f.evidence),
        _field("Risk at scale", f.risk),
        _suggestion(f),
        _field("What to do", f.advice),
        _field("Rollback", f.rollback),
        _field("Monitor", f.monitoring),
        _field("Hand-off", f.handoff),
        _field("Confirmed by the specialist", f.verdict_reason if f.verdict == "confirmed" else None),
    ]
    return "\n\n".join(p for p in parts if p)


def _details(review: Review, accepted_ids: set[str], budget: int) -> str:
    if not review.findings:
        return ""
    blocks = [_detail(review, i, f, accepted_ids) for i, f in enumerate(review.findings, 1)]
    fitted = _fit(blocks, budget - len(DETAILS_HEADING) - 4, lambda n: MORE_FINDINGS.format(n=n))
    return DETAILS_HEADING + "\n\n" + "\n\n".join(fitted)


def _accepted(review: Review) -> str:
    if not review.accepted:
        return ""
    titles = {f.id: f.title for f in review.findings}
    rows = [
        f"| `{one_line(a.finding_id, 130).replace('`', '')}` | {one_line(titles.get(a.finding_id, GONE), 120)}"
        f" | {one_line('@' + a.by.lstrip('@'), 60)} | {one_line(a.reason, 400)} |"
        for a in review.accepted
    ]
    fitted = _fit(rows, BUDGET_ACCEPTED - len(ACCEPTED_HEADER) - 30, lambda n: MORE_ROWS.format(n=n))
    return f"{ACCEPTED_HEADING}\n\n{ACCEPTED_HEADER}\n" + "\n".join(fitted)


def _extras(review: Review) -> str:
    parts: list[str] = []
    for attr, heading in EXTRAS:
        items: list[str] = getattr(review, attr)
        if items:
            parts.append(heading + "\n\n" + "\n".join(f"- {one_line(x, 500)}" for x in items[:20]))
    for attr, heading in PLANS:
        text: str = getattr(review, attr)
        if text.strip():
            parts.append(f"{heading}\n\n{neutralize_clipped(text.strip(), 1_500)}")
    joined = "\n\n".join(parts)
    return joined if len(joined) <= BUDGET_EXTRAS else neutralize_clipped(joined, BUDGET_EXTRAS)


def _pre_existing(review: Review) -> str:
    """Problems the base had already in statements the change touches: collapsed, informational."""
    return _collapsed(review.pre_existing, PRE_EXISTING_OPEN, PRE_EXISTING_HEADER, BUDGET_PRE_EXISTING,
                      lambda f: "")


def _dismissed(review: Review) -> str:
    """Low-confidence findings the specialist dismissed, with its reason: collapsed, informational."""
    return _collapsed(review.dismissed, DISMISSED_OPEN, DISMISSED_HEADER, BUDGET_DISMISSED,
                      lambda f: f" {one_line(f.verdict_reason or '', 400)} |")


def _collapsed(findings: list[Finding], opening: str, header: str, budget: int,
               extra: Callable[[Finding], str]) -> str:
    """A collapsed table of findings that never gate, most severe first, within `budget` characters;
    `extra` adds the last cells of a row."""
    if not findings:
        return ""
    rows = [
        f"| {SEVERITY_BADGE[f.severity]} | {one_line(f.title, 160)} | {_location(f)} | "
        f"`{one_line(f.source, 80).replace('`', '')}` | `{f.id}` |{extra(f)}"
        for f in sorted(findings, key=_severity_order)
    ]
    fitted = _fit(rows, budget - len(header) - 200, lambda n: MORE_ROWS.format(n=n))
    return f"{opening.format(n=_count(len(findings)))}\n\n{header}\n" + "\n".join(fitted) + "\n\n</details>"


def _count(n: int) -> str:
    return f"{n} finding" if n == 1 else f"{n} findings"


def _coverage(review: Review) -> str:
    if not review.coverage:
        return ""
    skipped = [c for c in review.coverage if c.status == CoverageStatus.skipped]
    reviewed = [c for c in review.coverage if c.status == CoverageStatus.reviewed]
    rows = [
        f"| `{one_line(c.path, 200).replace('`', '')}` | {c.status.value} | "
        f"{one_line(', '.join(c.analyzers), 120) or '—'} | {one_line(c.reason, 200) or '—'} |"
        for c in skipped + reviewed
    ]
    line = COVERAGE_LINE.format(reviewed=len(reviewed), skipped=len(skipped))
    fitted = _fit(rows, BUDGET_COVERAGE - len(COVERAGE_HEADER) - len(line) - 40, lambda n: MORE_ROWS.format(n=n))
    return f"{COVERAGE_HEADING}\n\n{line}\n\n{COVERAGE_HEADER}\n" + "\n".join(fitted)


def _stats(review: Review) -> str:
    rows = [f"| {one_line(k, 80)} | {one_line(v, 300)} |" for k, v in stats_rows(review.stats)]
    if not rows:
        return ""
    fitted = _fit(rows, BUDGET_STATS - len(STATS_HEADER) - 30, lambda n: f"| … | {n} more |")
    return f"{STATS_HEADING}\n\n{STATS_HEADER}\n" + "\n".join(fitted)


def render_summary(review: Review) -> str:
    """The check run's `output.summary`: always under GitHub's 65,535-character limit."""
    accepted_ids = {a.finding_id for a in review.accepted}
    # most severe first, so a cut drops the least severe
    review = review.model_copy(update={"findings": sorted(review.findings, key=_severity_order)})
    head = [_header(review), _notes(review)]
    tail = [_accepted(review), _pre_existing(review), _dismissed(review), _extras(review), _coverage(review),
            _stats(review)]
    left = TARGET_CHARS - sum(len(s) + 2 for s in head + tail)
    table = _table(review, accepted_ids, max(2_000, int(left * TABLE_SHARE)))
    details = _details(review, accepted_ids, left - len(table) - 2)
    text = "\n\n".join(s for s in [*head, table, details, *tail] if s) + "\n"
    if len(text) > MAX_SUMMARY_CHARS:  # a last guard; the budgets above keep us well below
        text = text[: MAX_SUMMARY_CHARS - len(TRUNCATED)] + TRUNCATED
    return text
