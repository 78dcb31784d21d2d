"""One problem, one comment: a removed safeguard and another rule's finding on the same statement merge.

A change that drops `timeout=` from a call spanning five lines is seen twice: the removed-safeguard rule
reports the surviving line, and the local rule reports the whole call as a call without a timeout. Both
name the same problem (same file, same category, overlapping lines), so only one is posted: the more
severe (then the more confident); on a tie the local rule's, which usually carries the one-click
suggestion. The one kept quotes the other's evidence, so the reviewer still reads what was removed.
"""

from __future__ import annotations

from bot.analyzers.safeguards.report import RULE_PREFIX as SAFEGUARD_PREFIX
from bot.core.model import Finding

NOTE_CHARS = 400


def _rank(f: Finding) -> tuple[int, float]:
    return f.severity.rank, f.confidence


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.path == b.path and a.category == b.category and a.start_line <= b.end_line and b.start_line <= a.end_line


def _with_note(kept: Finding, dropped: Finding) -> Finding:
    note = dropped.evidence if len(dropped.evidence) <= NOTE_CHARS else dropped.evidence[: NOTE_CHARS - 1] + "…"
    if note in kept.evidence:
        return kept
    return kept.model_copy(update={"evidence": f"{kept.evidence} Also seen by `{dropped.source}`: {note}"})


# a rule that reports an N+1 at the query inside a helper, and the rule that reports it at the loop's call:
# when the same file has the call-site finding, the query-site one is the same problem seen from the other end
QUERY_SITE_OF = {"js-helper-io-per-item": "js-helper-query-in-loop"}


def drop_other_ends(findings: list[Finding]) -> list[Finding]:
    """`findings` without query-site findings of files that have the matching call-site finding."""
    sites = {(f.path, f.source) for f in findings}
    return [f for f in findings if (f.path, QUERY_SITE_OF.get(f.source, "")) not in sites]


def merge_same_problem(findings: list[Finding]) -> list[Finding]:
    """`findings` with each removed-safeguard finding merged into an overlapping finding of another rule."""
    others = [f for f in findings if not f.source.startswith(SAFEGUARD_PREFIX)]
    safeguards = [f for f in findings if f.source.startswith(SAFEGUARD_PREFIX)]
    if not safeguards or not others:
        return findings
    gone: set[int] = set()
    kept: list[Finding] = []
    for s in safeguards:
        match = next((i for i, o in enumerate(others) if i not in gone and _overlaps(s, o)), None)
        if match is None:
            kept.append(s)
        elif _rank(s) > _rank(others[match]):
            kept.append(_with_note(s, others[match]))
            gone.add(match)
        else:
            others[match] = _with_note(others[match], s)
    return [o for i, o in enumerate(others) if i not in gone] + kept
