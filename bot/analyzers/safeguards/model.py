"""The safeguard vocabulary: one protection found on one side of a change, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    eager_loading = "eager_loading"
    db_index = "index"
    timeout = "timeout"
    batching = "batching"
    limit = "limit"
    hoisting = "hoisting"
    concurrency = "concurrency"


@dataclass(frozen=True)
class Safeguard:
    """One protection at one place of one side: `key` names what it protects (a relation, a keyword,
    a column set), so an equivalent on the other side has the same (kind, key)."""

    kind: Kind
    key: str
    line: int  # 1-based, first line of the safeguard's own text
    end_line: int
    scope: str  # enclosing function or class path, "" at module level
    text: str  # the safeguard's own source text (a keyword, a chained call, a line)
    value: float | None = None  # a literal size, count or duration, when there is one
    target: str = ""  # the call or statement it sits in, e.g. "requests.post"
    col: int = -1  # 0-based column of `text` on `line` (-1: the whole line)
    end_col: int = -1


@dataclass(frozen=True)
class LoopCall:
    """A call that sits in a loop body (hoisting evidence): which call, in which loop of which scope."""

    target: str
    line: int
    scope: str
    loop_line: int  # the loop header's line, 0 when the call is not in a loop


@dataclass
class Side:
    """Everything one side of a file offers the comparison."""

    safeguards: list[Safeguard] = field(default_factory=list)
    calls: list[LoopCall] = field(default_factory=list)
    statements: list[tuple[int, int]] = field(default_factory=list)  # (first, last) line of simple statements
    loops: dict[int, tuple[int, int]] = field(default_factory=dict)  # header line -> (first, last) line
    scopes: set[str] = field(default_factory=set)  # every function/class path the side defines
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # scope -> (first, last) line
    parsed: bool = True


class Verdict(StrEnum):
    removed = "removed"
    weakened = "weakened"


@dataclass(frozen=True)
class Loss:
    """A base safeguard that the head lost or weakened, and where the head should hear about it."""

    safeguard: Safeguard
    verdict: Verdict
    start_line: int  # head-side anchor
    end_line: int
    detail: str = ""  # e.g. "10 -> 300" or "kept in one branch only"
    head_value: float | None = None
    still_used: bool = False
    suggestion: str | None = None
