"""The text a rule needs: a necessary condition on a file's text, derived from the rule's `regex:` leaves (speed only).

ast-grep compiles a rule's regexes on every `find_all` (1-5 ms a rule and file), so a rule that cannot match a
file is best skipped before that. A rule matches a node only if each regex it requires matches the text of some
node of the same file: a regex of the node itself, or of a node that `has`, `inside`, `follows` or `precedes`
relates it to, through `all`, `matches` (the rule's utils) and every branch of an `any`, and the constraint of a
metavariable the rule's own pattern always binds. A node's text is a piece
of the file's text, so the file must contain a match of each of them once anchors and word boundaries are
dropped. `not`, `pattern`, `kind`, `nthChild`, constraints and `stopBy` require nothing.

The regexes are Rust's; they are read by Python's `re` with `re.ASCII`, on ASCII text only, where both engines
agree on `\\w \\d \\s`, `.` and case folding. A regex that Python reads differently or not at all (POSIX classes,
class set operations, flags in mid-pattern, `\\x{..}`, a negated class holding a class escape) requires nothing:
the condition can be weaker than the rule, never stronger, so a rule it skips would have found nothing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

RELATIONS = ("has", "inside", "follows", "precedes")
_DROPPED_ESCAPES = frozenset("bBAz")  # assertions: a piece of the file need not start, end or break where a node does
_CLASS_ESCAPES = frozenset("wWsSdD")
_SINGLE_METAVAR = re.compile(r"(?<![$\w])\$([A-Z_][A-Z0-9_]*)")  # not `$$$ARGS` nor `$$OP`


@dataclass(frozen=True)
class Requirement:
    """Every part holds (`all`) or one of them does (`any`); a part is a regex to find (its Python source, compiled
    on first use: most of the pack's languages are absent from a given change) or a nested requirement."""

    mode: str  # "all" | "any"
    parts: tuple[str | Requirement, ...]

    def holds(self, text: str, memo: dict[str, bool] | None = None) -> bool:
        """False only when no node of a file with this text can match the rule. Non-ASCII text always holds."""
        if not text.isascii():
            return True
        return self._holds(text, {} if memo is None else memo)

    def _holds(self, text: str, memo: dict[str, bool]) -> bool:
        test = any if self.mode == "any" else all
        return test(_found(part, text, memo) for part in self.parts)


def _found(part: str | Requirement, text: str, memo: dict[str, bool]) -> bool:
    if isinstance(part, Requirement):
        return part._holds(text, memo)
    if part not in memo:
        pattern = _compiled(part)
        memo[part] = pattern is None or pattern.search(text) is not None  # unreadable by Python: requires nothing
    return memo[part]


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> re.Pattern[str] | None:
    try:
        return re.compile(source, re.ASCII)
    except (re.error, ValueError, OverflowError):
        return None


def requirement(config: dict[str, Any]) -> Requirement | None:
    """What the text of a file must contain for the ast-grep rule `config` to match in it (None: nothing known)."""
    utils = config.get("utils")
    utils = utils if isinstance(utils, dict) else {}
    rule = config.get("rule")
    parts = [_of_rule(rule, utils, frozenset())]
    constraints = config.get("constraints")
    if isinstance(constraints, dict):
        bound = _always_bound(rule)
        parts += [_of_rule(c, utils, frozenset()) for name, c in constraints.items() if name in bound]
    kept = tuple(p for p in parts if p is not None)
    return Requirement("all", kept) if kept else None


def rule_requirement(node: Any, utils: dict[str, Any]) -> str | Requirement | None:
    """What the text of a file must contain for the sub-rule `node` to match a node of it (None: nothing known)."""
    return _of_rule(node, utils, frozenset())


def as_requirement(found: str | Requirement | None) -> Requirement | None:
    return Requirement("all", (found,)) if isinstance(found, str) else found


def _always_bound(rule: Any) -> set[str]:
    """Single metavariables (`$NAME`) of the rule's own `pattern` (or of its top-level `all`): bound on every match,
    so their constraints hold on every match (ast-grep skips the constraint of an unbound one)."""
    if not isinstance(rule, dict):
        return set()
    patterns = [rule.get("pattern")]
    if isinstance(rule.get("all"), list):
        patterns += [item.get("pattern") for item in rule["all"] if isinstance(item, dict)]
    return {name for p in patterns if isinstance(p, str) for name in _SINGLE_METAVAR.findall(p)}


def _of_rule(node: Any, utils: dict[str, Any], seen: frozenset[str]) -> str | Requirement | None:
    if not isinstance(node, dict):
        return None
    parts: list[str | Requirement | None] = []
    for key, value in node.items():
        if key == "regex" and isinstance(value, str):
            parts.append(loosened_source(value))
        elif key in RELATIONS:
            parts.append(_of_rule(value, utils, seen))
        elif key == "all" and isinstance(value, list):
            parts.extend(_of_rule(v, utils, seen) for v in value)
        elif key == "any" and isinstance(value, list):
            branches = [_of_rule(v, utils, seen) for v in value]
            if branches and all(b is not None for b in branches):
                parts.append(Requirement("any", tuple(b for b in branches if b is not None)))
        elif key == "matches" and isinstance(value, str) and value in utils and value not in seen:
            parts.append(_of_rule(utils[value], utils, seen | {value}))
    kept = tuple(p for p in parts if p is not None)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else Requirement("all", kept)


def loosened(regex: str) -> re.Pattern[str] | None:
    """A Python regex that finds, in a text, at least every piece of it the Rust `regex` matches; None when that
    cannot be had safely."""
    source = loosened_source(regex)
    return None if source is None else _compiled(source)


def loosened_source(regex: str) -> str | None:
    """The source of `loosened(regex)`, not compiled (None: Rust-only syntax seen; it may still fail to compile)."""
    if not regex.isascii() or "(?x" in regex:
        return None  # case folding reaches ASCII from other letters; Rust's verbose mode also drops class spaces
    out: list[str] = []
    i, in_class, class_start, negated = 0, False, 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            if i + 1 >= len(regex):
                return None
            n = regex[i + 1]
            if n in "xuUpP" and regex.startswith("{", i + 2) or n in "pP" or n == "b" and regex.startswith("{", i + 2):
                return None  # \x{..}, \p{..}, \b{start}: Rust only
            if in_class and negated and n in _CLASS_ESCAPES:
                return None  # a negated class is a superset only if its members are exact
            if not in_class and n in _DROPPED_ESCAPES:
                i += 2
                continue
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            if c == "[" or regex.startswith(("&&", "--", "~~"), i):
                return None  # nested classes, POSIX classes, set operations: Rust only
            if c == "]" and i > class_start:
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class, negated = True, regex.startswith("^", i + 1)
            class_start = i + 1 + negated  # a `]` right after `[` or `[^` is a member
            out.append(regex[i : class_start])
            i = class_start
            continue
        if c in "^$":
            i += 1
            continue
        out.append(c)
        i += 1
    return None if in_class else "".join(out)
