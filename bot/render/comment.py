"""The inline review comment for one finding, and the hidden marker that makes it findable again.

Contract (design.md Interfaces): every comment ENDS with `<!-- scale-review:finding=<id> -->`.
The publisher reads markers back with `find_markers` to never post the same finding twice.
"""

from __future__ import annotations

import re

from bot.core.model import Finding, Severity
from bot.render.sanitize import MARKER_PREFIX, neutralize_clipped, one_line

MAX_COMMENT_CHARS = 65_536  # GitHub refuses longer bodies with 422 "Body is too long"
MARKER_TEMPLATE = MARKER_PREFIX + "finding={id} -->"
FINDING_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
_MARKER_RE = re.compile(re.escape(MARKER_PREFIX) + r"finding=(" + FINDING_ID_PATTERN + r") -->")
_ID_RE = re.compile(FINDING_ID_PATTERN)
_LINE_START_BACKTICKS = re.compile(r"^[ \t]*(`{3,})", re.MULTILINE)

SEVERITY_BADGE = {
    Severity.critical: "🛑 Critical",
    Severity.high: "🔴 High",
    Severity.medium: "🟠 Medium",
    Severity.low: "🟡 Low",
    Severity.info: "🔵 Info",
}
LABEL_EVIDENCE = "**Evidence.**"
LABEL_RISK = "**Risk at scale.**"
LABEL_SUGGESTION = "**Suggested change** (replaces lines {start}–{end}):"
LABEL_ADVICE = "**What to do.**"
LABEL_ROLLBACK = "**Rollback.**"
LABEL_MONITOR = "**Monitor.**"
LABEL_HANDOFF = "**Hand-off.**"
LABEL_CONFIRMED = "**Confirmed by the specialist** (the analyzer was less sure):"
FOOTER = "<sub>scale-review · `{source}` · {category} · confidence {confidence:.0%} · `{id}`</sub>"
SUGGESTION_OMITTED = "_A suggested change exists but is too long to show here; see the check run._"
SUGGESTION_UNSAFE = "_A suggested change exists but cannot be offered as a one-click suggestion; see the check run._"
COMMENT_TOO_LONG = "_This finding's details are too long for a comment; see the check run._"
MAX_TEXT_FIELD = 4_000
MAX_SUGGESTION_CHARS = 30_000


def marker(finding_id: str) -> str:
    """The hidden marker that closes every inline comment for this finding."""
    if not _ID_RE.fullmatch(finding_id):
        raise ValueError(f"finding id {finding_id!r} cannot be put in a marker")
    return MARKER_TEMPLATE.format(id=finding_id)


def find_markers(body: str) -> set[str]:
    """The finding ids whose markers a comment body carries."""
    return set(_MARKER_RE.findall(body or ""))


def suggestion_fence(text: str) -> str:
    """A backtick fence longer than any backtick fence inside the suggestion (four if it holds ```)."""
    longest = max((len(m) for m in _LINE_START_BACKTICKS.findall(text)), default=0)
    return "`" * max(3, longest + 1)


def suggestion_block(suggestion: str) -> str | None:
    """The ```suggestion block, or None when it cannot be offered safely."""
    if len(suggestion) > MAX_SUGGESTION_CHARS or MARKER_PREFIX in suggestion:
        return None
    body = suggestion[:-1] if suggestion.endswith("\n") else suggestion
    fence = suggestion_fence(body)
    inner = f"{body}\n" if body else ""
    return f"{fence}suggestion\n{inner}{fence}"


def _section(label: str, text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return f"{label} {neutralize_clipped(text.strip(), MAX_TEXT_FIELD)}"


def render_inline_comment(finding: Finding) -> str:
    """The body of the inline review comment for one finding, ending with its marker."""
    parts: list[str | None] = [
        f"**{SEVERITY_BADGE[finding.severity]} · {one_line(finding.title, 200)}**",
        _section(LABEL_EVIDENCE, finding.evidence),
        _section(LABEL_RISK, finding.risk),
    ]
    if finding.suggestion is not None:
        block = suggestion_block(finding.suggestion)
        label = LABEL_SUGGESTION.format(start=finding.start_line, end=finding.end_line)
        if block is not None:
            parts.append(f"{label}\n\n{block}")
        else:
            too_long = len(finding.suggestion) > MAX_SUGGESTION_CHARS
            parts.append(SUGGESTION_OMITTED if too_long else SUGGESTION_UNSAFE)
    parts += [
        _section(LABEL_ADVICE, finding.advice),
        _section(LABEL_ROLLBACK, finding.rollback),
        _section(LABEL_MONITOR, finding.monitoring),
        _section(LABEL_HANDOFF, finding.handoff),
        _section(LABEL_CONFIRMED, finding.verdict_reason if finding.verdict == "confirmed" else None),
        FOOTER.format(
            source=one_line(finding.source, 80).replace("`", "'"),
            category=finding.category.value,
            confidence=finding.confidence,
            id=finding.id,
        ),
    ]
    body = "\n\n".join(p for p in parts if p)
    tail = "\n\n" + marker(finding.id)
    if len(body) + len(tail) > MAX_COMMENT_CHARS:  # the field caps make this unreachable; a last guard
        body = "\n\n".join(p for p in (parts[0], COMMENT_TOO_LONG) if p)
    return body + tail
