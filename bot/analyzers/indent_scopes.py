"""The lines that enclose a line of indented source (Python and the like): its block headers, innermost first.

Pure and bounded: walks up from the line, keeping each non-blank line indented less than everything seen
so far (the line itself included), at most `lookback` lines.
"""

from __future__ import annotations

from collections.abc import Iterator


def enclosing_lines(lines: list[str], line: int, lookback: int | None = None) -> Iterator[tuple[int, str, int]]:
    """(index, text, indent) of `line` (1-based) itself and of each enclosing header above it, innermost first."""
    if not 1 <= line <= len(lines):
        return
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
    stop = -1 if lookback is None else max(-1, line - 1 - lookback)
    for i in range(line - 1, stop, -1):
        text = lines[i]
        if not text.strip():
            continue
        here = len(text) - len(text.lstrip())
        if i != line - 1 and here >= indent:
            continue
        indent = here
        yield i, text, here
