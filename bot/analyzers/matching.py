"""Introduced or pre-existing: a head finding with an equivalent at base was not brought by the change.

Pure. The engine runs an analyzer on both sides of a changed file; `split_introduced` pairs each head
finding with at most one base finding of the same rule that is

1. the same statement at the same place: equal normalised text and the base lines, mapped through the
   diff, overlap the head lines;
2. the same statement edited in place: the mapped base lines overlap the head lines (an old multi-line
   call that gains one keyword keeps its old problem; the problem is not new), unless the edit made the
   rule surer of it: a base finding below the gate (`GATE`) whose head partner is at or above it was a
   weaker problem (a read of a prefetched relation became a query of its own), and the change brought
   the strong one;
3. the same statement moved: equal normalised text anywhere in the file;
4. the same problem told at another of its lines: equal evidence that quotes code. An analyzer may place a
   finding on whichever of its lines the change touches (an N+1's query, loop or per-item read) and so on
   different lines at base and head; the quoted chain and reads name the problem wherever it is placed.

A head finding with no partner is introduced. Each base finding answers for one head finding only, so
a pasted second copy of an old problem is introduced.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.diff import FileChange, FileStatus, Hunk
from bot.core.model import Finding, normalize_code

MAX_FINDINGS = 400  # per side and file: the pairing is quadratic; beyond this, findings count as introduced
GATE = 0.8  # the default gate.min_confidence: an edit that lifts a finding over it is not "the same problem"


def whole_file_change(path: str, text: str) -> FileChange:
    """A FileChange that shows every line of `text` as added: an analyzer run on it reports everything."""
    count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    lines = tuple(range(1, count + 1))
    hunk = Hunk(base_start=0, base_length=0, head_start=1, head_length=count, added=lines, removed=(), visible=lines)
    return FileChange(
        path=path,
        old_path=None,
        status=FileStatus.added,
        hunks=(hunk,) if lines else (),
        added_lines=frozenset(lines),
        visible_lines=frozenset(lines),
        additions=count,
    )


def _starts(h: Hunk) -> tuple[int, int]:
    """First base and head line a hunk covers (a zero-length side starts after the line it names)."""
    return (h.base_start if h.base_length else h.base_start + 1, h.head_start if h.head_length else h.head_start + 1)


def map_base_line(change: FileChange, line: int) -> tuple[int, int]:
    """The head lines a base line became: one line when it survived, the span it was cut from when removed."""
    delta = 0
    for h in change.hunks:
        bs, hs = _starts(h)
        if line < bs:
            break
        if line < bs + h.base_length:
            return _inside(h, bs, hs, line)
        delta = (hs + h.head_length) - (bs + h.base_length)
    mapped = max(1, line + delta)
    return mapped, mapped


def _inside(h: Hunk, bs: int, hs: int, line: int) -> tuple[int, int]:
    removed = set(h.removed)
    added = set(h.added)
    kept_base = [n for n in range(bs, bs + h.base_length) if n not in removed]
    kept_head = [n for n in range(hs, hs + h.head_length) if n not in added]
    pairs = list(zip(kept_base, kept_head, strict=False))
    for b, hd in pairs:
        if b == line:
            return hd, hd
    before = [hd for b, hd in pairs if b < line]
    after = [hd for b, hd in pairs if b > line]
    lo = before[-1] if before else hs
    hi = after[0] if after else max(hs, hs + h.head_length - 1)
    return lo, max(lo, hi)


def _text(lines: list[str], start: int, end: int) -> str:
    return normalize_code("\n".join(lines[max(0, start - 1) : max(0, end)]))


def _key(f: Finding) -> tuple[str, str]:
    return f.source, f.category.value


def split_introduced(
    head: Sequence[Finding],
    base: Sequence[Finding],
    change: FileChange,
    head_text: str,
    base_text: str,
) -> tuple[list[Finding], list[Finding]]:
    """(introduced, pre-existing) among the head findings of one file that touch the change.

    `head` is everything the analyzer reported at head, touched or not: an untouched old problem
    claims its base twin first, so a pasted copy of it cannot hide behind that twin. Pairs are made
    best kind first (same place and text, then same place, then same text), each side used once.
    """
    head_lines = head_text.splitlines()
    base_lines = base_text.splitlines()
    spots = []
    for b in base[:MAX_FINDINGS]:
        lo, _ = map_base_line(change, b.start_line)
        _, hi = map_base_line(change, b.end_line)
        spots.append((b, lo, hi, _text(base_lines, b.start_line, b.end_line)))
    ordered = sorted(head[:MAX_FINDINGS], key=lambda x: (x.start_line, x.end_line, x.id))
    texts = [_text(head_lines, f.start_line, f.end_line) for f in ordered]
    used_base: set[int] = set()
    paired: set[int] = set()
    for rank in range(4):
        for h, f in enumerate(ordered):
            if h in paired:
                continue
            for i, (b, lo, hi, btext) in enumerate(spots):
                if i in used_base or _key(b) != _key(f):
                    continue
                if _rank(f, texts[h], lo, hi, btext, b) == rank and (rank != 1 or not _surer(f, b)):
                    used_base.add(i)
                    paired.add(h)
                    break
    touched = [(h, f) for h, f in enumerate(ordered) if change.touches(f.start_line, f.end_line)]
    return [f for h, f in touched if h not in paired], [f for h, f in touched if h in paired]


def untouched_matches(
    whole: Sequence[Finding], found: Sequence[Finding], change: FileChange, head_text: str
) -> list[Finding]:
    """The findings of a whole-file head run that the change does not touch, less those that are a touched
    finding told at another of its lines (rule 4): the whole-file run placed it on another statement (a copy of
    the same statement elsewhere is a second problem and stays)."""
    lines = head_text.splitlines()
    placed_elsewhere = [
        y for y in found
        if not any(_key(w) == _key(y) and w.start_line <= y.end_line and y.start_line <= w.end_line for w in whole)
    ]
    return [
        x for x in whole
        if not change.touches(x.start_line, x.end_line)
        and not told_again(x, [y for y in placed_elsewhere if _text(lines, y.start_line, y.end_line)
                               != _text(lines, x.start_line, x.end_line)])
    ]


def told_again(finding: Finding, others: Sequence[Finding]) -> bool:
    """`finding` is one of `others` placed on another line: same rule, equal evidence that quotes code."""
    return "`" in finding.evidence and any(_key(o) == _key(finding) and o.evidence == finding.evidence for o in others)


def _surer(head: Finding, base: Finding) -> bool:
    """The head finding crosses the gate its base partner stayed under, or is of a higher severity."""
    return (base.confidence < GATE <= head.confidence) or head.severity.rank > base.severity.rank


def _rank(f: Finding, text: str, lo: int, hi: int, btext: str, b: Finding) -> int | None:
    overlaps = lo <= f.end_line and f.start_line <= hi
    same = btext == text
    if overlaps or same:
        return 0 if overlaps and same else 1 if overlaps else 2
    return 3 if told_again(f, [b]) else None
