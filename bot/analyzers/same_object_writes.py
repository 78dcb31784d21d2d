"""Whether a Python write in a loop saves the same object on every pass (pure, bounded).

`for sb in work.series_books.all(): ...; work.save()` writes one row again and again, not one row per item:
there is nothing to batch (at most, the save can move after the loop). The receiver is the same object when its
root name (`work` in `work.save()`, `self` in `self.parent.save()`) is neither a target of a loop around the write
(up to its function) nor bound anywhere in such a loop's body (`obj = Model(...)`, `for obj in ...`,
`with ... as obj`, `obj := ...`). A receiver reached through a subscript or a call (`by_id[x.id].save()`) is
not followed: it reads as per item.

Read by indentation (bot.analyzers.indent_scopes); each regex sees one line, a loop body at most MAX_BODY_LINES.
"""

from __future__ import annotations

import re

from bot.analyzers.indent_scopes import enclosing_lines

MAX_BODY_LINES = 400

_SAVE = re.compile(r"^\s*(?:await\s+)?([A-Za-z_]\w*)(?:\.[A-Za-z_]\w*)*\.(?:save|asave)\(")
_FOR = re.compile(r"^(\s*)(?:async\s+)?for\s+(.{1,200}?)\s+in\s")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s|^\s*class\s")


def same_object_saved(lines: list[str], line: int, lookback: int) -> str | None:
    """Why the save on `line` (1-based) writes the same object on every pass of the loops around it; None when
    the object can change with the items, or there is no loop."""
    if not 0 < line <= len(lines):
        return None
    save = _SAVE.match(lines[line - 1])
    if save is None:
        return None
    name = save.group(1)
    assign = re.compile(
        rf"^\s*(?:[\w.]+\s*=\s*)*{name}\s*(?::[^=\n]{{0,100}})?[-+*/|&]?=(?!=)"
        rf"|^\s*\(?{name}\s*,[^=\n]{{0,100}}=(?!=)|^\s*\(?[\w\s,.*\[\]]{{0,100}},\s*{name}\s*\)?\s*=(?!=)"
    )
    anywhere = re.compile(rf"(?<![\w.]){name}\s*:=|\bas\s+\(?{name}\b")
    loops = 0
    for i, text, indent in enclosing_lines(lines, line, lookback):
        if i == line - 1:
            continue
        if _DEF.match(text):
            break
        loop = _FOR.match(text)
        if loop is None:
            continue
        loops += 1
        if re.search(rf"(?<![\w.]){name}\b", loop.group(2)):
            return None  # the loop's own target
        previous = text
        for body in lines[i + 1 : i + 1 + MAX_BODY_LINES]:
            if not body.strip():
                continue
            if len(body) - len(body.lstrip()) <= indent:
                break
            if name in body and (_binds(body, previous, assign, anywhere)
                                 or (_FOR.match(body) and re.search(rf"\b{name}\b", body))):
                return None  # bound afresh inside the loop: may be a new object each pass
            previous = body
    if not loops:
        return None
    return f"the same object ({name}) is saved on every pass: one row written again, not one row per item"


def _binds(text: str, previous: str, assign: re.Pattern[str], anywhere: re.Pattern[str]) -> bool:
    """The line binds the name: an assignment statement (not a keyword argument on a line of its own inside a
    call: `work=work,`), a walrus, or an `as` target."""
    if anywhere.search(text):
        return True
    if not assign.match(text):
        return False
    in_call = previous.rstrip().endswith(("(", ",")) or text.rstrip().endswith(",")
    return not in_call
