"""Line arithmetic across the two sides of one file's diff: which base lines went, where a base
line lands on the head side, and which head lines replaced it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.diff import FileChange, Hunk


@dataclass
class LineMap:
    """Base <-> head line correspondence built from the hunks (context lines pair up in order)."""

    removed: frozenset[int]
    head_of_context: dict[int, int] = field(default_factory=dict)
    base_of_context: dict[int, int] = field(default_factory=dict)
    hunks: tuple[Hunk, ...] = ()

    def hunk_of_base(self, line: int) -> Hunk | None:
        for hunk in self.hunks:
            if hunk.base_start <= line < hunk.base_start + max(hunk.base_length, 1):
                return hunk
        return None

    def head_point(self, base_line: int) -> int:
        """The head line a base line became, or for a removed line the head line right after the removal."""
        if base_line in self.head_of_context:
            return self.head_of_context[base_line]
        hunk = self.hunk_of_base(base_line)
        if hunk is None:
            return base_line + self._offset_before(base_line)
        for b in range(base_line + 1, hunk.base_start + hunk.base_length):
            if b in self.head_of_context:
                return self.head_of_context[b]
        return hunk.head_start + hunk.head_length

    def replacement(self, base_line: int) -> list[int]:
        """Head lines added where a removed base line was (between the surrounding context lines)."""
        hunk = self.hunk_of_base(base_line)
        if hunk is None or base_line not in self.removed:
            return []
        after = self.head_point(base_line)
        before = 0
        for b in range(base_line - 1, hunk.base_start - 1, -1):
            if b in self.head_of_context:
                before = self.head_of_context[b]
                break
        return [n for n in hunk.added if before < n < after]

    def base_of(self, head_line: int) -> int | None:
        """The base line an unchanged head line was, None for an added line."""
        if head_line in self.base_of_context:
            return self.base_of_context[head_line]
        for hunk in self.hunks:
            if hunk.head_start <= head_line < hunk.head_start + max(hunk.head_length, 1):
                return None
        shift = 0
        for hunk in self.hunks:
            if hunk.head_start + hunk.head_length <= head_line:
                shift = (hunk.base_start + hunk.base_length) - (hunk.head_start + hunk.head_length)
        return head_line + shift

    def _offset_before(self, base_line: int) -> int:
        shift = 0
        for hunk in self.hunks:
            if hunk.base_start + hunk.base_length <= base_line:
                shift = (hunk.head_start + hunk.head_length) - (hunk.base_start + hunk.base_length)
        return shift


def line_map(change: FileChange) -> LineMap:
    removed = frozenset(n for h in change.hunks for n in h.removed)
    out = LineMap(removed=removed, hunks=change.hunks)
    for hunk in change.hunks:
        gone = set(hunk.removed)
        base_context = [b for b in range(hunk.base_start, hunk.base_start + hunk.base_length) if b not in gone]
        added = set(hunk.added)
        head_context = [n for n in hunk.visible if n not in added]
        for b, n in zip(base_context, head_context, strict=False):
            out.head_of_context[b] = n
            out.base_of_context[n] = b
    return out
