"""Where a removed safeguard is reported on the head side, and the one-click suggestion that puts it back.

The anchor is the surviving statement around the removal (context lines next to a deletion are
fine), clamped to one hunk so GitHub accepts it; the suggestion is that range with the removed
lines re-inserted (a pure deletion), or the base line back in place of its edited twin.
"""

from __future__ import annotations

import difflib
import re

from bot.analyzers.safeguards.compare import first_removed
from bot.analyzers.safeguards.lines import LineMap
from bot.analyzers.safeguards.model import Kind, Loss, Safeguard
from bot.core.diff import FileChange

MAX_BLOCK = 6  # removed lines re-inserted by one suggestion
MAX_CANDIDATES = 30
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    flat = _SPACE.sub("", text)
    for before, after in ((",)", ")"), (",}", "}"), (",]", "]"), ("(,", "("), ("{,", "{"), (",,", ",")):
        flat = flat.replace(before, after)
    return flat


def _statement(statements: list[tuple[int, int]], line: int) -> tuple[int, int] | None:
    inside = [s for s in statements if s[0] <= line <= s[1]]
    return min(inside, key=lambda s: s[1] - s[0]) if inside else None


def _clamp(change: FileChange, start: int, end: int, around: int) -> tuple[int, int] | None:
    hunk = change.hunk_of(around)
    if hunk is None:
        return None
    inside = [n for n in hunk.visible if start <= n <= end]
    return (inside[0], inside[-1]) if inside else None


def _edited_twin(base_line: int, lines: LineMap, base_lines: list[str], head_lines: list[str]) -> int | None:
    """The added head line that replaced an (edited) base line."""
    candidates = lines.replacement(base_line)[:MAX_CANDIDATES]
    if not candidates or base_line > len(base_lines):
        return None
    original = base_lines[base_line - 1]
    best = max(candidates, key=lambda n: difflib.SequenceMatcher(None, original, head_lines[n - 1]).ratio())
    ratio = difflib.SequenceMatcher(None, original, head_lines[best - 1]).ratio()
    return best if ratio >= 0.5 else None


def place(
    loss: Loss,
    change: FileChange,
    lines: LineMap,
    statements: list[tuple[int, int]],
    base_lines: list[str],
    head_lines: list[str],
) -> Loss | None:
    """The loss anchored on commentable head lines, with a restoring suggestion when one is safe."""
    s = loss.safeguard
    moved_in = s.kind is Kind.hoisting  # anchored on the call now inside the loop, not on the removal
    if moved_in or loss.start_line != loss.end_line or first_removed(s, lines) not in lines.removed:
        span = _clamp(change, loss.start_line, loss.end_line, loss.start_line)
        return None if span is None else _with(loss, span, None)
    twin = _edited_twin(first_removed(s, lines), lines, base_lines, head_lines)
    if twin is not None:
        span = _statement(statements, twin) or (twin, twin)
        clamped = _clamp(change, span[0], span[1], twin)
        if clamped is None:
            return None
        return _with(loss, clamped, _restore_edit(s, twin, clamped, base_lines, head_lines))
    point = loss.start_line
    span = _statement(statements, point - 1) or (point - 1, point - 1)
    span = (span[0], max(span[1], point))
    clamped = _clamp(change, span[0], span[1], point) or _clamp(change, point - 1, point - 1, point - 1)
    if clamped is None:
        return None
    return _with(loss, clamped, _restore_deletion(s, point, clamped, lines, base_lines, head_lines))


def _with(loss: Loss, span: tuple[int, int], suggestion: str | None) -> Loss:
    return Loss(
        loss.safeguard, loss.verdict, span[0], span[1], loss.detail, loss.head_value, loss.still_used, suggestion
    )


def _restore_edit(
    s: Safeguard, twin: int, span: tuple[int, int], base_lines: list[str], head_lines: list[str]
) -> str | None:
    original = base_lines[s.line - 1]
    if s.line != s.end_line or not s.text or s.text not in original:
        return None
    needle = s.key.split(":", 1)[-1] if s.kind is Kind.eager_loading and s.key.count(":") == 1 else s.text
    if not _only_cut(original, head_lines[twin - 1], needle):
        return None  # the line changed in more ways than losing the safeguard
    out = [original if n == twin else head_lines[n - 1] for n in range(span[0], span[1] + 1)]
    return "\n".join(out) + "\n"


def _only_cut(original: str, edited: str, text: str) -> bool:
    """`edited` is `original` with one span cut out, and that span carried `text`."""
    if _norm(original.replace(text, "", 1)) == _norm(edited):
        return True
    prefix = 0
    while prefix < min(len(original), len(edited)) and original[prefix] == edited[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(original), len(edited)) - prefix and original[-1 - suffix] == edited[-1 - suffix]:
        suffix += 1
    if prefix + suffix != len(edited):
        return False
    return text.lower() in original[max(0, prefix - len(text)) : len(original) - suffix + len(text)].lower()


def _restore_deletion(
    s: Safeguard, point: int, span: tuple[int, int], lines: LineMap, base_lines: list[str], head_lines: list[str]
) -> str | None:
    if lines.replacement(first_removed(s, lines)):
        return None  # the removal replaced lines: re-inserting is not mechanical
    first, last = s.line, s.end_line
    while first - 1 in lines.removed and last - first < MAX_BLOCK and base_lines[first - 2].strip():
        if not _part_of(s, base_lines[first - 2]):
            break
        first -= 1
    block = base_lines[first - 1 : last]
    if not block or len(block) > MAX_BLOCK or not (span[0] <= point <= span[1] + 1) or point - 1 < span[0] - 1:
        return None
    joined = _norm("".join(block))
    if _norm(s.text) not in joined or len(joined) > 3 * len(_norm(s.text)) + 40:
        return None  # the removed lines carried more than the safeguard
    before = head_lines[span[0] - 1 : point - 1]
    after = head_lines[point - 1 : span[1]]
    return "\n".join([*before, *block, *after]) + "\n"


def _part_of(s: Safeguard, line: str) -> bool:
    return bool(line.strip()) and line.strip() in s.text
