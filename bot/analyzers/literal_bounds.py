"""Whether the Python loops around a line are bounded by literals written in the file (pure, bounded).

A loop is bounded when its iterable is `range(5)`, a slice `[:10]`, a list/tuple/set/dict display written
in the `for` (of any values: dicts, tuples, calls), or a name bound only to such displays (at module scope,
in the class body for `self.NAME`/`cls.NAME`, or in the enclosing function), or `enumerate`/`zip`/`sorted`/
`reversed`/`list`/`.items()`/`.keys()`/`.values()` of a bounded iterable. A local list also counts when its
only writes add one item at a time (`.append`, `.add`, `.insert`, `[k] = v`, `+= [x]`) inside loops that are
themselves bounded: a small data-flow step, followed at most `MAX_DEPTH` names deep, each a scan of one
function (memoised, at most MAX_SCANS scans per question, so a file built to branch costs linear time). Every
loop around the line, up to its function, must be bounded (`while` never is).

Limits, on purpose: a name passed to another function that fills it, a closure variable, and a loop in a
comprehension are not followed (they read as unbounded). Every scan is linear in the lines it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.analyzers.indent_scopes import enclosing_lines

SMALL_BOUND = 100  # a loop over at most this many items does not grow with data
MAX_DEPTH = 3  # names followed through appends inside loops over other names
MAX_LITERAL_LINES = 2000  # lines read for one literal display
MAX_HEADER_LINES = 12  # lines joined for a `for` header split over several lines
MAX_SCANS = 64  # scans of a function or of the file for one question (then: unbounded)
MAX_ITEM_WRITES = 50  # one-item writes to one name that are followed

_FOR = re.compile(r"^(\s*)(?:async\s+)?for\s+(.{1,200}?)\s+in\s+(.{1,300}?):\s*(?:#.*)?$")
_WHILE = re.compile(r"^\s*while\b")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+\w+\s*\(")
_CLASS = re.compile(r"^(\s*)class\s+(\w+)")
_SMALL_RANGE = re.compile(r"^range\(\s*(?:\d+\s*,\s*)?(\d+)\s*\)$")
_SLICE = re.compile(r"\[\s*(?:0\s*)?:\s*(\d+)\s*\]$")
_WRAPPER = re.compile(r"^(?:builtins\.)?(enumerate|sorted|reversed|list|tuple|set|frozenset|iter|zip)\((.*)\)$")
_VIEW = re.compile(r"^(.+?)\.(?:items|keys|values)\(\)$")
_NAME = re.compile(r"^\w+$")
_ATTR = re.compile(r"^(?:self|cls|(\w+))\.(\w+)$")
_OPEN = {"[": "]", "(": ")", "{": "}"}


@dataclass
class _Reader:
    """The file, with what one question has already worked out and the scans it has left."""

    lines: list[str]
    scans_left: int = MAX_SCANS
    known: dict[tuple[str, int, int], str | None] = field(default_factory=dict)  # (name, scope, depth) -> why


def loops_bound(lines: list[str], line: int, lookback: int) -> str | None:
    """Why every loop around `line` (1-based, up to its function) cannot grow with data; None when one can,
    or when there is no loop."""
    loops = list(enclosing_loops(lines, line, lookback))
    if not loops:
        return None
    reader = _Reader(lines)
    reasons = [_iterable_bound(reader, index, iterable, MAX_DEPTH) if iterable is not None else None
               for index, iterable in loops]
    return reasons[0] if all(reasons) else None


def enclosing_loops(lines: list[str], line: int, lookback: int | None) -> Iterator[tuple[int, str | None]]:
    """(index, iterable) of each loop around `line`, innermost first, up to its function; a `while` has None."""
    for i, text, here in enclosing_lines(lines, line, lookback):
        header = _joined_header(lines, i) if text.lstrip()[:1] in (")", "]") else text
        match = _FOR.match(header)
        if match:
            yield i, match.group(3).strip()
        elif _WHILE.match(text):
            yield i, None
        elif _DEF.match(text) or _CLASS.match(text) or here == 0:
            return


def _joined_header(lines: list[str], end: int) -> str:
    """A header whose closing bracket sits on its own line: joined from the line that opens it (same indent)."""
    indent = len(lines[end]) - len(lines[end].lstrip())
    for j in range(end - 1, max(-1, end - MAX_HEADER_LINES), -1):
        text = lines[j]
        if text.strip() and len(text) - len(text.lstrip()) == indent:
            return " ".join(part.strip() for part in lines[j : end + 1])
    return lines[end]


def _iterable_bound(reader: _Reader, at: int, iterable: str, depth: int) -> str | None:
    """Why the iterable of the loop at index `at` is bounded, or None."""
    lines = reader.lines
    text = iterable.strip()
    wrapped = _WRAPPER.match(text)
    if wrapped and closing_bracket(text, len(wrapped.group(1)) + text.index(wrapped.group(1))) == len(text) - 1:
        args = split_top(wrapped.group(2))
        if wrapped.group(1) == "zip":  # stops at its shortest argument
            return next((why for a in args if "=" not in a and (why := _iterable_bound(reader, at, a, depth))), None)
        return _iterable_bound(reader, at, args[0], depth) if args else None
    view = _VIEW.match(text)
    if view:
        return _iterable_bound(reader, at, view.group(1), depth)
    small = _SMALL_RANGE.match(text)
    if small:
        return f"the loop runs over {text}" if int(small.group(1)) <= SMALL_BOUND else None
    sliced = _SLICE.search(text)
    if sliced:
        return f"the loop is bounded by the slice {sliced.group(0)}" if int(sliced.group(1)) <= SMALL_BOUND else None
    if text[:1] in _OPEN:
        size = display_size([text], 0, 0)
        return "the loop runs over a literal sequence" if size is not None and size <= SMALL_BOUND else None
    if depth <= 0:
        return None
    if _NAME.match(text):
        return _name_bound(reader, at, text, depth)
    attr = _ATTR.match(text)
    if attr:
        return _class_attribute_bound(lines, attr.group(2))
    return None


def closing_bracket(text: str, opening: int) -> int:
    """Index of the bracket closing the one at `opening` (-1 when it does not close)."""
    depth = 0
    for i in range(opening, len(text)):
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_top(args: str) -> list[str]:
    """Top-level comma-separated parts of a call's arguments."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(args):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
    parts.append(args[start:].strip())
    return [p for p in parts if p]


def display_size(lines: list[str], row: int, col: int, tails: tuple[str, ...] = ()) -> int | None:
    """Top-level elements of the list/tuple/set/dict display starting at lines[row][col], when it is one
    (no comprehension, no `*`/`**` unpacking; a parenthesis needs a comma to be a tuple); else None.
    `tails`: what may follow the closing bracket besides `)`, `,` and `:` (Ruby's `.freeze`, TS's `as const`)."""
    opener = lines[row][col : col + 1]
    if opener not in _OPEN:
        return None
    stack: list[str] = []
    commas, elements_seen, quote = 0, False, ""
    tail, last = "", ""  # last: the last character that is neither blank nor in a string or comment
    for r in range(row, min(len(lines), row + MAX_LITERAL_LINES)):
        text = lines[r]
        i = col if r == row else 0
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if text.startswith(quote, i):
                    i += len(quote)
                    quote, last = "", quote[0]
                    continue
                i += 1
                continue
            if ch in "'\"":
                quote = ch * 3 if text.startswith(ch * 3, i) else ch
                i += len(quote)
                elements_seen = True
                continue
            if ch == "#":
                break
            if ch in _OPEN:
                stack.append(_OPEN[ch])
                if len(stack) > 1:
                    elements_seen = True
            elif ch in ")]}":
                if not stack or stack.pop() != ch:
                    return None
                if not stack:
                    tail = text[i + 1 :].split("#", 1)[0].strip()
                    return _size(opener, commas, elements_seen, tail, last, tails)
            elif len(stack) == 1:
                if ch == ",":
                    commas += 1
                elif ch == "*" and _starts_element(text, i):
                    return None
                elif text.startswith("for", i) and _is_word(text, i, 3) and elements_seen:
                    return None
                elif not ch.isspace():
                    elements_seen = True
            if not ch.isspace():
                last = ch
            i += 1
        if quote and len(quote) == 1:
            quote = ""  # an unterminated one-line string: stop treating the rest as text
    return None


def _size(opener: str, commas: int, seen: bool, tail: str, last: str, tails: tuple[str, ...] = ()) -> int | None:
    if tail and not tail.startswith((")", ",", ":", *tails)):
        return None  # `[...] + rest`, `(...)[0]`, `{...}.get(...)`: not a plain display
    trailing = last == ","
    size = 0 if not seen else commas + (0 if trailing else 1)
    if opener == "(" and seen and commas == 0:
        return None  # a parenthesised expression, not a tuple
    return size


def _starts_element(text: str, i: int) -> bool:
    before = text[:i].rstrip()
    return not before or before[-1] in "[({,"


def _is_word(text: str, i: int, n: int) -> bool:
    return (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) and (
        i + n >= len(text) or not (text[i + n].isalnum() or text[i + n] == "_")
    )


def function_range(lines: list[str], at: int) -> tuple[int, int, str] | None:
    """(def index, end index exclusive, parameters text) of the function around index `at`."""
    for i, text, here in enclosing_lines(lines, at + 1):
        if i != at and _DEF.match(text):
            header = " ".join(lines[i : min(len(lines), i + MAX_HEADER_LINES)])
            opening = header.index("(")
            return i, _block_end(lines, i, here), header[opening + 1 : max(opening, closing_bracket(header, opening))]
        if i != at and (_CLASS.match(text) or here == 0):
            return None
    return None


def _block_end(lines: list[str], start: int, indent: int) -> int:
    for j in range(start + 1, len(lines)):
        text = lines[j]
        if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip()) <= indent:
            if text.lstrip()[:1] not in (")", "]", "}"):
                return j
    return len(lines)


def _name_bound(reader: _Reader, at: int, name: str, depth: int) -> str | None:
    """A plain name: a local of the loop's function, or a module-level constant (memoised per scope)."""
    function = function_range(reader.lines, at)
    key = (name, function[0] if function else -1, depth)
    if key not in reader.known:
        reader.known[key] = None  # a name that feeds itself is not bounded
        reader.known[key] = _scoped_name_bound(reader, function, name, depth)
    return reader.known[key]


def _scoped_name_bound(reader: _Reader, function: tuple[int, int, str] | None, name: str, depth: int) -> str | None:
    lines = reader.lines
    if reader.scans_left <= 0:
        return None
    reader.scans_left -= 1
    if function is not None:
        start, end, parameters = function
        if re.search(rf"\b{re.escape(name)}\b", parameters):
            return None  # a parameter: whatever the caller passes
        local = _writes(lines, name, start + 1, end, prefix=r"(?<![\w.])")
        if local.assigned:
            return _local_bound(reader, name, local, depth)
    module = _writes(lines, name, 0, len(lines), prefix=r"(?<![\w.])")
    top = [(r, c) for r, c in module.literals if not lines[r][:1].isspace()]
    if not top or module.other or module.items or len(top) != len(module.literals):
        return None
    return f"the loop runs over {name}, a literal defined in this module"


def _class_attribute_bound(lines: list[str], name: str) -> str | None:
    """`self.NAME`/`cls.NAME`: a class-body literal never rebound or filled anywhere in the file."""
    body = [(r, c) for r, c in _writes(lines, name, 0, len(lines), prefix=r"(?<![\w.])").literals
            if lines[r][:1].isspace() and _in_class_body(lines, r)]
    n = re.escape(name)
    changed = re.compile(
        rf"\.{n}\s*(?:[-+|*/&^]?=(?!=)|\[[^\]]{{0,200}}\]\s*=(?!=)|\.(?:append|add|insert|extend|update)\()"
    )
    if len(body) != 1 or any(name in text and changed.search(text) for text in lines):
        return None
    return f"the loop runs over {name}, a literal defined in the class body"


def _in_class_body(lines: list[str], row: int) -> bool:
    for i, text, _ in enclosing_lines(lines, row + 1):
        if i == row:
            continue
        return bool(_CLASS.match(text))
    return False


class _Writes:
    def __init__(self) -> None:
        self.literals: list[tuple[int, int]] = []  # (row, col) of each `NAME = <display>`
        self.items: list[int] = []  # rows adding one item (or a literal's few)
        self.other = False  # rebound to anything else, extended by something unknown
        self.assigned = False


def _writes(lines: list[str], name: str, start: int, end: int, prefix: str) -> _Writes:
    n = re.escape(name)
    assign = re.compile(rf"^\s*{prefix}{n}\s*(?::[^=]{{0,100}})?=(?!=)\s*")
    item = re.compile(rf"{prefix}{n}\s*(?:\.(?:append|add|insert|appendleft)\(|\[[^\]]{{0,200}}\]\s*=(?!=))")
    bulk = re.compile(rf"{prefix}{n}\s*(?:\.(?:extend|update)\(\s*|[+|]=\s*)")
    rebind = re.compile(
        rf"^\s*(?:async\s+)?for\s+[^=]*?{prefix}{n}\b[^=]*?\s+in\s|\bas\s+{n}\b|{prefix}{n}\s*(?::=|[-*/&^]=)"
        rf"|^\s*[\w\s,.*\[\]()]*,\s*{prefix}{n}\s*[,)]?\s*=(?!=)|^\s*\(?{prefix}{n}\s*,[^=]*=(?!=)|\bglobal\s+.*\b{n}\b"
    )
    out = _Writes()
    for r in range(start, min(end, len(lines))):
        text = lines[r]
        if name not in text:
            continue
        match = assign.match(text)
        if match:
            out.assigned = True
            if len(out.literals) >= MAX_ITEM_WRITES:
                out.other = True
                break
            size = display_size(lines, r, match.end())
            if size is not None and size <= SMALL_BOUND:
                out.literals.append((r, match.end()))
            elif text[match.end() :].strip() in ("list()", "set()", "dict()", "tuple()"):
                out.literals.append((r, match.end()))
            else:
                out.other = True
            continue
        if rebind.search(text):
            out.assigned = out.other = True
            continue
        if item.search(text):
            out.items.append(r)
            continue
        grown = bulk.search(text)
        if grown:
            if display_size(lines, r, grown.end()) is not None:
                out.items.append(r)
            else:
                out.other = True
    return out


def _local_bound(reader: _Reader, name: str, local: _Writes, depth: int) -> str | None:
    if local.other or len(local.items) > MAX_ITEM_WRITES:
        return None
    for row in local.items:
        loops = list(enclosing_loops(reader.lines, row + 1, None))
        if any(iterable is None or not _iterable_bound(reader, i, iterable, depth - 1) for i, iterable in loops):
            return None
    if local.items:
        return f"the loop runs over {name}, filled one item at a time inside loops over literals"
    return f"the loop runs over {name}, a literal defined in this function"
