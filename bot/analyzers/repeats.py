"""One comment for a pattern: the same rule firing on several statements of one file is reported once.

A migration that creates fourteen indexes without CONCURRENTLY, or a provider module whose six `fetch`
calls all lack a timeout, holds one problem written six times; a reviewer writes one comment and names the
other lines. So when a rule fires `REPEAT_MIN` times or more in one file, the most severe (then most
confident, then first) finding stays, its evidence lists the other lines, and the others are folded in.
Pairs stay apart, and so do the kinds where every occurrence is its own problem with its own fix (each
N+1 is a different loop, each per-item write a different loop body): only kinds whose statements all take
the same fix are folded.
"""

from __future__ import annotations

from collections import defaultdict

from bot.core.model import Category, Finding

REPEAT_MIN = 3
MAX_LINES_NAMED = 12
NOT_GROUPED = frozenset({"specialist"})  # the model's own comments are written one by one
# the same fix on every statement: CONCURRENTLY on each index, a timeout on each call, backoff on each retry
SAME_FIX = frozenset({
    Category.locking_migration, Category.missing_timeout, Category.retry_without_backoff,
    Category.connection_per_request, Category.blocking_io_in_async,
})


def _rank(f: Finding) -> tuple[int, float, int]:
    return f.severity.rank, f.confidence, -f.start_line


def _lines(folded: list[Finding]) -> str:
    lines = sorted({f.start_line for f in folded})
    named = ", ".join(str(n) for n in lines[:MAX_LINES_NAMED])
    more = len(lines) - MAX_LINES_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _grouped(findings: list[Finding]) -> Finding:
    head = max(findings, key=_rank)
    folded = [f for f in findings if f is not head]
    note = (
        f" The same at line{'s' if len(folded) > 1 else ''} {_lines(folded)} of this file "
        f"({len(findings)} statements in all): one comment for all of them."
    )
    also = tuple(sorted({f.start_line for f in folded} - {head.start_line}))
    return head.model_copy(update={"evidence": head.evidence + note, "also_at": also})


def group_repeats(findings: list[Finding]) -> list[Finding]:
    """`findings` with each rule's repeats in one file folded into one finding (order kept)."""
    by_rule: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.category in SAME_FIX and f.source not in NOT_GROUPED:
            by_rule[(f.path, f.source)].append(f)
    folded: dict[int, Finding | None] = {}  # id(finding) -> what replaces it (None: folded into another)
    for group in by_rule.values():
        if len(group) >= REPEAT_MIN:
            head = max(group, key=_rank)
            folded.update((id(f), None) for f in group)
            folded[id(head)] = _grouped(group)
    out = [folded.get(id(f), f) for f in findings]
    return [f for f in out if f is not None]
