"""Base against head: which safeguards the change took away or weakened, and where to say so.

A base safeguard counts only when the diff removed one of its lines. It stays quiet when the head
still has as many of the same (kind, key) in the same function (an edit or a rename), or in the file
(a move into a manager, scope or default), or, for timeouts, limits, batching and concurrency caps,
as many of the same kind in the function (an equivalent replacement). A literal raised tenfold or
more is weakened; fewer occurrences in the function than before is weakened (kept on fewer paths).
"""

from __future__ import annotations

import re
from collections import Counter

from bot.analyzers.safeguards.context import (
    MIN_REWRITTEN_BLOCK,
    protected_gone,
    removed_block,
    rewritten,
    usage_dropped,
)
from bot.analyzers.safeguards.lines import LineMap
from bot.analyzers.safeguards.model import Kind, Loss, Safeguard, Side, Verdict
from bot.analyzers.safeguards.python_side import trivial
from bot.core.diff import FileChange
from bot.facts.other_orms import singular

WEAKENED_RATIO = 10.0
MAX_LOSSES = 20  # per file: past this the change is a rewrite, not a removed protection
_KIND_EQUIVALENT = frozenset({Kind.timeout, Kind.limit, Kind.batching, Kind.concurrency})


_WRITES = ("bulk", "insert", "upsert", "update_all", "delete_all", "import", "executemany", "createmany", "write")


_NEUTRAL = ("chunk", "slice", "batches", "batch_size", "batchsize", "chunksize", "chunk_size")


def _families(s: Safeguard) -> tuple[str, ...]:
    """Which safeguards can stand in for each other: a batched write is no equivalent of a batched read;
    plain chunking serves either."""
    if s.kind is not Kind.batching:
        return ("",)
    key = s.key.lower()
    if any(w in key for w in _WRITES):
        return ("write",)
    return ("read", "write") if any(n in key for n in _NEUTRAL) else ("read",)


class _Counts:
    """One side's safeguards counted once, so each comparison is a lookup (a budget on large files)."""

    def __init__(self, side: Side) -> None:
        self.scoped: Counter[tuple[str, Kind, str]] = Counter()
        self.filewide: Counter[tuple[Kind, str]] = Counter()
        self.kinds: Counter[tuple[str, Kind, str]] = Counter()
        self.by_key: dict[tuple[str, Kind, str], list[Safeguard]] = {}
        self.eager_targets: dict[str, set[str]] = {}
        self.roots: Counter[tuple[str, str]] = Counter()  # eager-loading paths per (scope, first relation)
        self.eager_keys: dict[str, set[str]] = {}  # eager-loading keys per scope
        for s in side.safeguards:
            self.scoped[(s.scope, s.kind, s.key)] += 1
            self.filewide[(s.kind, s.key)] += 1
            for family in _families(s):
                self.kinds[(s.scope, s.kind, family)] += 1
            self.by_key.setdefault((s.scope, s.kind, s.key), []).append(s)
            if s.kind is Kind.eager_loading:
                self.eager_targets.setdefault(s.scope, set()).add(s.target)
                self.eager_keys.setdefault(s.scope, set()).add(s.key)
                if root := _eager_root(s):
                    self.roots[(s.scope, root)] += 1


def _eager_root(s: Safeguard) -> str:
    """The first relation of a Django lookup path (`book__work__editions` -> `book`), '' for other keys."""
    rel = s.key.removeprefix("eager:")
    return rel.split("__", 1)[0] if "__" in rel or rel.isidentifier() else ""


_COLUMN = re.compile(r"\w+")
_INDEX_PREFIX = "index:"
_FIELD_LIST = re.compile(r"^-?\w+(?:,-?\w+){0,15}$")


def _index_columns(key: str) -> tuple[str, tuple[str, ...]] | None:
    """(table, columns) of a column-keyed index declaration (`add_index :t, [:a, :b]`, `t.index ["a"]`), or
    None when the key is not a column list (a SQL index is keyed by its name, a flag by its field)."""
    if not key.startswith(_INDEX_PREFIX):
        return None
    rest = key[len(_INDEX_PREFIX) :]
    table = ""
    if _FIELD_LIST.match(rest) and "," in rest:  # Django `Index(fields=[...])` in a model's Meta: "a,b,c"
        return table, tuple(rest.split(","))
    if rest[:1] not in ("[", ":", '"', "'"):
        table, sep, rest = rest.partition(":")
        if not sep:
            return None
    if rest[:1] not in ("[", ":", '"', "'"):
        return None
    columns = tuple(_COLUMN.findall(rest[:200]))
    return (table, columns) if columns else None


def _covered_index(s: Safeguard, head: Side) -> bool:
    """A removed index whose columns lead another index the head still declares on the same table (and in the
    same table block): lookups on those columns use the wider one, so the narrow one was redundant. Or the
    same columns in another order: the index was reworked, not taken away (equality lookups on all of them
    use either order)."""
    if s.kind is not Kind.db_index or (mine := _index_columns(s.key)) is None:
        return False
    table, columns = mine
    for h in head.safeguards:
        if h.kind is not Kind.db_index or h.scope != s.scope or (theirs := _index_columns(h.key)) is None:
            continue
        if theirs[0] == table and len(theirs[1]) > len(columns) and theirs[1][: len(columns)] == columns:
            return True
        if theirs[0] == table and theirs[1] != columns and sorted(theirs[1]) == sorted(columns):
            return True
    return False


def _last_relation(key: str) -> str:
    rel = key.removeprefix("eager:").strip("\"' ")
    return rel.replace(".", "__").rsplit("__", 1)[-1].lower()


def _loaded_through(key: str, head_keys: set[str]) -> bool:
    """A head eager load of a longer path whose last relation is the removed one (singular or plural): the
    rows are now reached through an intermediate model (a through table)."""
    last = _last_relation(key)
    if not last.isidentifier():
        return False
    for other in head_keys:
        rel = other.removeprefix("eager:")
        if ("__" in rel or "." in rel) and singular(_last_relation(other)) == singular(last):
            return True
    return False


def _touched(s: Safeguard, lines: LineMap) -> bool:
    return any(n in lines.removed for n in range(s.line, s.end_line + 1))


def first_removed(s: Safeguard, lines: LineMap) -> int:
    """The first of the safeguard's lines that the diff removed (its own line when none was)."""
    return next((n for n in range(s.line, s.end_line + 1) if n in lines.removed), s.line)


def _flat_scopes(side: Side, lines: list[str]) -> dict[str, str]:
    """Each scope's head text with whitespace removed ("" is the whole file), for "is this query still made"."""
    out = {"": "".join("".join(line.split()) for line in lines)}
    for scope, (first, last) in side.spans.items():
        out[scope] = "".join("".join(line.split()) for line in lines[first - 1 : last])
    return out


def _eager_lines(side: Side) -> set[int]:
    return {n for h in side.safeguards if h.kind is Kind.eager_loading for n in range(h.line, h.end_line + 1)}


def _nearest(candidates: list[Safeguard], line: int) -> Safeguard | None:
    return min(candidates, key=lambda c: abs(c.line - line)) if candidates else None


def _weakened(s: Safeguard, head: _Counts, point: int) -> Safeguard | None:
    """The head counterpart whose literal is at least ten times the base one, if that is what happened."""
    twin = _nearest(head.by_key.get((s.scope, s.kind, s.key), []), point)
    if twin is None or s.value is None or twin.value is None or s.value <= 0:
        return None
    return twin if twin.value >= WEAKENED_RATIO * s.value else None


_ARGS = re.compile(r"\([^()]{0,200}\)")
_IDENT = re.compile(r"[@$]?[A-Za-z_][\w$]*")
_GENERIC = frozenset({
    "all", "order", "order_by", "limit", "offset", "where", "filter", "exclude", "includes", "preload", "eager_load",
    "joins", "select", "distinct", "page", "per", "first", "last", "find", "find_by", "objects", "reorder",
    "findmany", "findfirst", "findunique", "findall", "findone", "query", "take", "skip", "prisma", "db", "self",
})


# Rails' generated eager-loading scopes (Active Storage `with_attached_<name>`, Action Text `with_rich_text_<name>`,
# `with_all_rich_text`): loading options like `includes`, not what the query reads
_LOADING_SCOPE = re.compile(r"^with_(attached|rich_text|all_rich_text)")


def _same_query(query: str, scope_text: str) -> bool:
    """The head still makes the query, written differently (`.order(created_at: :desc)` for `.order('created_at
    DESC')`): the last name of its chain that says what it reads (a scope, a relation, a model) is still there."""
    bare = query
    for _ in range(4):
        bare = _ARGS.sub("", bare)
    names = [w for w in _IDENT.findall(bare)
             if w.lstrip("@$").lower() not in _GENERIC and len(w.lstrip("@$")) >= 3 and not _LOADING_SCOPE.match(w)]
    if not names:
        return False
    word = re.compile(rf"(?<![\w$@]){re.escape(names[-1])}(?![\w$])")
    return word.search(scope_text) is not None


def _query_replaced(s: Safeguard, head: _Counts, head_flat: dict[str, str]) -> bool:
    """The base relation was loaded for a query (`org.kits.includes(...)`) that the head no longer makes
    at all, or that no eager load of the head's function is attached to while another query's is."""
    if s.kind is not Kind.eager_loading or not s.target.startswith("eager:"):
        return False
    query = s.target.removeprefix("eager:")
    scope_text = head_flat.get(s.scope, head_flat[""])
    if len(query) >= 3 and query not in scope_text and not _same_query(query, scope_text):
        return True
    targets = head.eager_targets.get(s.scope, set())
    return s.target not in targets and any(t.startswith("eager:") for t in targets)


def _verdict(s: Safeguard, base: _Counts, head: _Counts, head_flat: dict[str, str]) -> tuple[Verdict, str] | None:
    scoped = (s.scope, s.kind, s.key)
    if head.scoped[scoped] >= base.scoped[scoped]:
        return None
    if head.filewide[(s.kind, s.key)] >= base.filewide[(s.kind, s.key)]:
        return None  # moved elsewhere in the file
    if _query_replaced(s, head, head_flat):
        return None  # the eager load belonged to a query the head no longer makes (another root)
    root = _eager_root(s) if s.kind is Kind.eager_loading else ""
    if root and head.roots[(s.scope, root)] >= base.roots[(s.scope, root)]:
        return None  # re-routed through the same relation (`book__x` -> `book__work__x`); Django loads every level
    for mark in ("?", "*"):  # line patterns write an unseen loader as `?`, the Python reader as `*`
        opaque = (s.scope, s.kind, s.key.split(":", 1)[0] + ":" + mark)
        if opaque != scoped and head.scoped[opaque] > base.scoped[opaque]:
            return None  # handed to a loader built elsewhere (`options(*Schema.loader_options())`)
    if s.kind is Kind.eager_loading and s.key.split(":", 1)[-1] in ("?", "*") and head.eager_keys.get(s.scope):
        return None  # a list built elsewhere (`*prefetch_list`) became loads the head names; what it held is unknown
    if s.kind is Kind.eager_loading and _loaded_through(s.key, head.eager_keys.get(s.scope, set())):
        return None  # the relation is now loaded through another path (`questions` -> `question_assignments__question`)
    families = [(s.scope, s.kind, f) for f in _families(s)]
    if s.kind in _KIND_EQUIVALENT and any(head.kinds[f] >= base.kinds[f] for f in families):
        return None  # replaced by an equivalent of the same kind
    if head.scoped[scoped] > 0:
        return Verdict.weakened, "kept on fewer paths than before"
    return Verdict.removed, ""


def safeguard_losses(
    base: Side, head: Side, lines: LineMap, base_lines: list[str], head_lines: list[str]
) -> list[Loss]:
    """Every base safeguard the diff took away or weakened, anchored on a head line (not yet clamped)."""
    head_scopes = head.scopes | {""}
    base_counts, head_counts = _Counts(base), _Counts(head)
    head_flat = _flat_scopes(head, head_lines)
    head_eager_lines = _eager_lines(head)
    base_eager_lines = _eager_lines(base)
    out: list[Loss] = []
    seen: set[tuple[Kind, str, int]] = set()
    for s in base.safeguards:
        if not _touched(s, lines) or (s.scope and s.scope not in head_scopes):
            continue
        point = lines.head_point(first_removed(s, lines))
        twin = _weakened(s, head_counts, point)
        if twin is not None:
            if (s.kind, s.key, twin.line) in seen:
                continue
            seen.add((s.kind, s.key, twin.line))
            detail = f"{_fmt(s.value)} → {_fmt(twin.value)}"
            out.append(Loss(s, Verdict.weakened, twin.line, twin.end_line, detail, twin.value))
            continue
        verdict = _verdict(s, base_counts, head_counts, head_flat)
        if verdict is None or (s.kind, s.key, point) in seen:
            continue
        if verdict[0] is Verdict.removed and _covered_index(s, head):
            continue  # a redundant index: another the head keeps leads with the same columns
        if rewritten(s, first_removed(s, lines), lines, base_lines, head_lines):
            continue  # the statement was replaced wholesale: a refactor, not a dropped protection
        if usage_dropped(s, base_lines, head_lines, base_eager_lines, head_eager_lines):
            continue  # the relation is no longer read here: the eager load went with its last use
        if protected_gone(s, first_removed(s, lines), lines, base_lines, head_flat.get(s.scope, head_flat[""])):
            continue  # the query or call it guarded is gone from the function: deleted or moved away
        if verdict[0] is Verdict.weakened and len(removed_block(first_removed(s, lines), lines)) >= MIN_REWRITTEN_BLOCK:
            continue  # branches merged or rewritten around it: "fewer paths" is only read from a local removal
        seen.add((s.kind, s.key, point))
        out.append(Loss(s, verdict[0], point, point, verdict[1]))
        if len(out) >= MAX_LOSSES:
            break
    return out


def _fmt(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if value == int(value) else f"{value:g}"


def hoisting_losses(base: Side, head: Side, change: FileChange, lines: LineMap, base_lines: list[str]) -> list[Loss]:
    """Calls made once before (or outside) a loop at base and once per item inside it at head."""
    out: list[Loss] = []
    done: set[str] = set()
    for call in head.calls:
        if not call.loop_line or call.line not in change.added_lines or call.target in done or trivial(call.target):
            continue
        base_loop = lines.base_of(call.loop_line)
        if base_loop is None or base_loop not in base.loops:
            continue
        first, last = base.loops[base_loop]
        same = [c for c in base.calls if c.target == call.target and c.scope == call.scope]
        if not same or any(first <= c.line <= last for c in same):
            continue
        gone = [c for c in same if c.line in lines.removed and not (first <= c.line <= last)]
        if not gone:
            continue
        done.add(call.target)
        origin = gone[0]
        text = base_lines[origin.line - 1].strip() if origin.line <= len(base_lines) else call.target
        s = Safeguard(
            Kind.hoisting, f"hoist:{call.target}", origin.line, origin.line, call.scope, text, None, call.target
        )
        out.append(Loss(s, Verdict.removed, call.line, call.line, f"loop at line {call.loop_line}"))
    return out
