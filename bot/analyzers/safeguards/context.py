"""What the code around a lost safeguard says about its loss: whether the statement that carried it
was rewritten wholesale (a refactor that moved the work elsewhere), and whether what it protected was
dropped together with it (an eager load removed along with the last read of the relation)."""

from __future__ import annotations

import difflib
import re

from bot.analyzers.safeguards.lines import LineMap
from bot.analyzers.safeguards.model import Kind, Safeguard

MIN_REWRITTEN_BLOCK = 4
NEAR = 8
MOVED_BLOCK = 60
SIMILAR = 0.7
MAX_COMPARED = 120  # lines of each side compared, a bound on the quadratic similarity check
_LOOP = re.compile(r"^(for|while)\b|\.(each|each_with_index|map|forEach|find_each)\b|\bfor\s*\(|\brange\b")
_COMMENT = ("#", "//", "--", "/*", "*")
_WORD = re.compile(r"[a-z_][a-z0-9_]*$", re.IGNORECASE)


def removed_block(line: int, lines: LineMap) -> list[int]:
    first = last = line
    while first - 1 in lines.removed:
        first -= 1
    while last + 1 in lines.removed:
        last += 1
    return list(range(first, last + 1))


def rewritten(s: Safeguard, line: int, lines: LineMap, base_lines: list[str], head_lines: list[str]) -> bool:
    """The removed block around the safeguard was replaced by code that resembles none of it."""
    block = removed_block(line, lines)
    if len(block) >= MOVED_BLOCK:
        return True  # a whole region cut out: code moved to another file or a feature removed
    added = lines.replacement(block[0])
    near = [n for n in block if abs(n - line) <= NEAR]  # the safeguard's own statement, not the whole block
    old = [base_lines[n - 1].strip() for n in near if n <= len(base_lines)]
    old = [a for a in old if a and not a.startswith(_COMMENT)]
    if len(old) < MIN_REWRITTEN_BLOCK or not added:
        return False
    new = [head_lines[n - 1].strip() for n in added[:MAX_COMPARED] if n <= len(head_lines)]
    if any(_LOOP.search(b) for b in new):
        return False  # the replacement loops: the work may have come back once per item
    if any(_similar(a, b) for a in old for b in new if b):
        return False
    if _same_query_head(old, new):
        return False  # the same variable still gets a query on the same receiver: only its options went
    return not _similar(_flat(old), _flat(new))  # a chain over several lines cut to one, or joined


_QUERY_HEAD = re.compile(
    r"^(?:const |let |var )?([@$]?[A-Za-z_][\w.]{0,80})\s*:?=\s*([@$]?[A-Za-z_][\w:]{0,80}\.\w{1,80})"
)


def _same_query_head(old: list[str], new: list[str]) -> bool:
    """`messages = @room.messages.includes(...)...` (over lines) became `messages = @room.messages.with_creator`:
    the same assignment of a query built on the same receiver, with its loading options cut (not a rewrite)."""
    before = next((m for line in old if (m := _QUERY_HEAD.match(line))), None)
    after = next((m for line in new if (m := _QUERY_HEAD.match(line))), None)
    return before is not None and after is not None and before.groups() == after.groups()


def _flat(lines: list[str]) -> str:
    return "".join("".join(line.split()) for line in lines)[:1000]


def _similar(old: str, new: str) -> bool:
    """The new line is the old one edited (or cut short), not a different statement."""
    if len(new) >= 3 and old.startswith(new):
        return True
    matcher = difflib.SequenceMatcher(None, old, new)
    return matcher.real_quick_ratio() >= SIMILAR and matcher.quick_ratio() >= SIMILAR and matcher.ratio() >= SIMILAR


def _relation(s: Safeguard) -> str | None:
    name = s.key.split(":", 1)[-1].replace("__", ".").rsplit(".", 1)[-1].strip("\"' ")
    return name if _WORD.match(name) else None


def _mentions(name: str, text_lines: list[str], skip: set[int]) -> int:
    """Lines that read the relation: `x.name` or a destructuring `{ name } =`."""
    word = re.escape(name)
    attribute = rf"\.{word}(?![\w])"
    destructuring = rf"\{{[^}}\n]{{0,200}}(?<![\w]){word}(?![\w])[^}}\n]{{0,200}}\}}\s*="
    pattern = re.compile(f"{attribute}|{destructuring}", re.IGNORECASE)
    return sum(1 for n, line in enumerate(text_lines, start=1) if n not in skip and pattern.search(line[:400]))


def usage_dropped(
    s: Safeguard, base_lines: list[str], head_lines: list[str], base_eager_lines: set[int], head_eager_lines: set[int]
) -> bool:
    """An eager-loaded relation the base read in the file (outside eager-loading declarations) and the
    head no longer reads at all."""
    if s.kind is not Kind.eager_loading:
        return False
    name = _relation(s)
    if name is None:
        return False
    base_reads = _mentions(name, base_lines, base_eager_lines)
    return base_reads > 0 and _mentions(name, head_lines, head_eager_lines) == 0


_STATEMENT_LEAD = re.compile(
    r"^(?:(?:for|with|if|elif|while|unless|return|await|yield|var|const|let)\b\s*|[\w.\[\], ]{1,60}?\s*:?=(?!=)\s*|&)+"
)
_FOR_IN = re.compile(r"^for\s+[\w, ()]{1,60}?\s+in\s+")
MIN_RECEIVER = 6
MOVED_OUT_BLOCK = 20  # removed lines; replaced by at most a quarter as many: the work went elsewhere
GUARDED_KINDS = frozenset({Kind.limit, Kind.batching, Kind.timeout, Kind.concurrency})


def _receiver(before: str, chained: bool) -> str:
    """What a safeguard was attached to, from the text before it on its line, flattened: the chain before
    `.limit(…)` / `.find_each`, or the callee of the call a `timeout=` keyword or option sits in; '' when
    the line does not show it (a keyword on a continuation line)."""
    opened: list[int] = []
    for i, ch in enumerate(before):
        if ch in "([{":
            opened.append(i)
        elif ch in ")]}" and opened:
            opened.pop()
    if opened:
        text = before[: opened[0]]
    elif chained:
        text = before
    else:
        return ""
    text = _FOR_IN.sub("", text.strip(), count=1)
    text = _STATEMENT_LEAD.sub("", text, count=1)
    return "".join(text.split()).rstrip(".")


def protected_gone(s: Safeguard, line: int, lines: LineMap, base_lines: list[str], head_flat: str) -> bool:
    """The statement the safeguard guarded left with it: its block was deleted (or cut to a fraction,
    the work moved to another file) and the query or call it was attached to is made nowhere in the
    head's function, so nothing is left unprotected here."""
    if s.kind not in GUARDED_KINDS or s.col < 0 or s.line > len(base_lines):
        return False
    block = removed_block(line, lines)
    added = lines.replacement(block[0])
    if added and not (len(block) >= MOVED_OUT_BLOCK and 4 * len(added) <= len(block)):
        return False  # replaced in place: the replacement may be the unprotected version
    own = base_lines[s.line - 1][:400]
    receiver = _receiver(own[: min(s.col, 400)], own[s.col : s.col + 1] == ".")
    attached = "." in receiver or "(" in receiver  # a chain or a call, not a statement keyword (`SET LOCAL`)
    return attached and len(receiver) >= MIN_RECEIVER and receiver not in head_flat
