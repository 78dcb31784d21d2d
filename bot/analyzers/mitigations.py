"""Mitigations already in place around a finding, read from the file's text (pure, bounded).

- a migration that sets `lock_timeout` or `statement_timeout` fails fast instead of queueing traffic
  behind its lock: a locking finding there is lowered; with both set, a finding about how long a statement
  holds its lock is silenced (it can neither queue traffic nor hold the lock long), a drop is not;
- strong_migrations' `safety_assured` around a column removal says the author checked it: lowered,
  and silenced when the column is also in the model's `ignored_columns` (`ignored_columns_of`);
- a Go `http.Client` whose Transport dials with a timeout or bounds the response headers has
  deadlines: a missing-timeout finding on it is lowered;
- a per-item finding inside loops bounded by small literals (`range(5)`, `items[:10]`, a literal list,
  a name bound to one, a local list appended to only inside such loops: bot.analyzers.literal_bounds;
  `5.times`, `i < MAX_ATTEMPTS`, `PROVIDERS.each` over a literal, a retry loop that stops on success:
  bot.analyzers.other_loop_bounds) cannot grow with data: silenced;
- a query per pass of a condition loop (`for {`, `while`) whose SQL has a LIMIT runs once per batch (a paginated
  backfill): silenced;
- a Python save of the same object on every pass (`work.save()` in a loop over its children, the receiver
  neither the loop's target nor bound in its body: bot.analyzers.same_object_writes) is one row written again,
  nothing to batch: silenced;
- Ruby relations built per item and folded with `.reduce(:or)` run as one query: silenced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.analyzers.literal_bounds import loops_bound
from bot.analyzers.other_loop_bounds import batched_statement, ddl_statement, other_loops_bound
from bot.analyzers.same_object_writes import same_object_saved
from bot.core.model import Category, Finding

MAX_LINE_CHARS = 400
MAX_LOOKBACK = 200  # lines scanned up from a finding to its enclosing loop

PER_ITEM = frozenset(
    {Category.n_plus_one, Category.per_item_writes, Category.quadratic_loop, Category.connection_per_request}
)


class Effect(StrEnum):
    weaken = "weaken"  # shown with lower severity and confidence, never blocks
    silence = "silence"  # not reported


@dataclass(frozen=True)
class Mitigation:
    effect: Effect
    why: str


_LOCK_TIMEOUT = re.compile(r"\b(?:lock_timeout|statement_timeout)\b", re.IGNORECASE)
_LOCK_WAIT = re.compile(r"\block_timeout\b", re.IGNORECASE)
_STATEMENT_CAP = re.compile(r"\bstatement_timeout\b", re.IGNORECASE)
# findings about how long a statement holds its lock (not about data loss, which no timeout prevents)
LOCK_HOLD_RULES = frozenset({
    "sql-create-index-not-concurrently", "sql-add-column-rewrites-table", "sql-alter-column-type",
    "sql-set-not-null", "sql-constraint-without-not-valid", "sql-constraint-builds-index",
})
_SAFETY_ASSURED = re.compile(r"\bsafety_assured\b")
_DROP_COLUMN = re.compile(r"\bremove_column\s*\(?\s*:?[\"']?(\w+)[\"']?\s*,\s*:?[\"']?(\w+)")
_GO_DEADLINES = re.compile(
    r"\b(?:ResponseHeaderTimeout|TLSHandshakeTimeout|IdleConnTimeout)\s*:|\bnet\.Dialer\s*\{[^}]{0,400}\bTimeout\s*:"
)
_OR_FOLD = re.compile(r"^\s*(?:end|\})\s*\.(?:reduce|inject)\(\s*(?:&?:or|:or)\s*\)")


def _lines(text: str) -> list[str]:
    return [line[:MAX_LINE_CHARS] for line in text.splitlines()]


def loop_bound(path: str, text: str, line: int) -> str | None:
    """Why the loop around `line` cannot grow with data, or None."""
    lines = _lines(text)
    if path.endswith(".py"):
        return loops_bound(lines, line, MAX_LOOKBACK)
    return other_loops_bound(lines, line, MAX_LOOKBACK)


def folded_into_one_query(path: str, text: str, end_line: int) -> bool:
    """A Ruby block that builds one relation per item whose results are OR-ed into a single query
    (`items.map { |i| Model.where(...) }.reduce(:or)`): nothing is loaded per item."""
    if not path.endswith(".rb"):
        return False
    lines = _lines(text)
    return any(_OR_FOLD.match(line) for line in lines[end_line : end_line + 3])


_RB_ASSOC_LOOP = re.compile(
    r"\b[a-z_]\w*\.([a-z_]\w*)\.(?:each|map|flat_map|collect|each_with_index|sum|select|reject|find)\b"
)
_RB_EAGER = re.compile(r"\.(?:includes|preload|eager_load)\(([^)\n]{0,300})\)")


def eager_loaded_by_outer_loop(path: str, text: str, line: int) -> str | None:
    """A Ruby association iterated per item (`category.tabs.map`) that the enclosing loop's relation loads
    (`...includes(:tabs).flat_map do |category|`, a few lines up and less indented)."""
    if not path.endswith((".rb", ".erb")):
        return None
    lines = _lines(text)
    if not 0 < line <= len(lines):
        return None
    m = _RB_ASSOC_LOOP.search(lines[line - 1])
    if m is None:
        return None
    assoc, indent = m.group(1), len(lines[line - 1]) - len(lines[line - 1].lstrip())
    for above in range(line - 2, max(line - 2 - MAX_LOOKBACK, -1), -1):
        text_above = lines[above]
        if not text_above.strip() or len(text_above) - len(text_above.lstrip()) >= indent:
            continue
        for eager in _RB_EAGER.finditer(text_above):
            if re.search(rf"(?<![\w]):?{re.escape(assoc)}\b", eager.group(1)):
                return f"the enclosing loop's relation loads `{assoc}` ({eager.group(0)[:80]})"
        indent = len(text_above) - len(text_above.lstrip())
    return None


def dropped_column(statement: str) -> tuple[str, str] | None:
    """(table, column) of a Rails `remove_column` statement."""
    match = _DROP_COLUMN.search(statement)
    return (match.group(1), match.group(2)) if match else None


def find_mitigation(
    finding: Finding,
    text: str,
    ignored_columns_of: Callable[[str], frozenset[str]] | None = None,
) -> Mitigation | None:
    """The mitigation in `text` (the file at head) that applies to `finding`, if any."""
    lines = _lines(text)
    statement = "\n".join(lines[finding.start_line - 1 : finding.end_line])
    if finding.category in PER_ITEM:
        bound = loop_bound(finding.path, text, finding.start_line)
        if bound:
            return Mitigation(Effect.silence, bound)
        if finding.category == Category.per_item_writes and finding.path.endswith(".py"):
            same = same_object_saved(lines, finding.start_line, MAX_LOOKBACK)
            if same:
                return Mitigation(Effect.silence, same)
        ddl = ddl_statement(lines, finding.start_line, finding.end_line) if not finding.path.endswith(".py") else None
        if ddl and finding.category in (Category.per_item_writes, Category.n_plus_one):
            return Mitigation(Effect.silence, ddl)
        batched = batched_statement(lines, finding.start_line, finding.end_line, MAX_LOOKBACK)
        if batched and finding.category == Category.n_plus_one:
            return Mitigation(Effect.silence, batched)
        if folded_into_one_query(finding.path, text, finding.end_line):
            return Mitigation(Effect.silence, "the per-item relations are OR-ed into one query")
        if finding.category == Category.n_plus_one and (eager := eager_loaded_by_outer_loop(
                finding.path, text, finding.start_line)):
            return Mitigation(Effect.silence, eager)
    if finding.category == Category.locking_migration or finding.source.startswith("sql-"):
        if finding.path.endswith(".rb") and _SAFETY_ASSURED.search(text):
            dropped = dropped_column(statement)
            if dropped and ignored_columns_of is not None and dropped[1] in ignored_columns_of(dropped[0]):
                return Mitigation(Effect.silence, f"safety_assured, and {dropped[1]} is in ignored_columns")
            return Mitigation(Effect.weaken, "wrapped in strong_migrations' safety_assured")
        if finding.source in LOCK_HOLD_RULES and _LOCK_WAIT.search(text) and _STATEMENT_CAP.search(text):
            return Mitigation(Effect.silence, "the migration sets both lock_timeout and statement_timeout: it can "
                                              "neither queue traffic behind its lock nor hold the lock for long")
        if _LOCK_TIMEOUT.search(text):
            return Mitigation(Effect.weaken, "the migration sets lock_timeout/statement_timeout")
    if finding.category == Category.missing_timeout and finding.path.endswith(".go") and _GO_DEADLINES.search(text):
        return Mitigation(Effect.weaken, "the client's Transport/Dialer sets deadlines")
    return None


_IGNORED = re.compile(r"\bignored_columns\s*(?:\+?=|\+=)\s*(?:%[wi]\[([^\]]{0,500})\]|\[([^\]]{0,500})\])")


def ignored_columns(model_text: str) -> frozenset[str]:
    """Columns a Rails model lists in `self.ignored_columns = [...]` (or `+= %w[...]`)."""
    out: set[str] = set()
    for match in _IGNORED.finditer(model_text[:200_000]):
        body = match.group(1) or match.group(2) or ""
        out.update(w.strip(" :\"'") for w in re.split(r"[,\s]+", body) if w.strip(" :\"'"))
    return frozenset(out)


def model_path_for_table(table: str) -> str:
    """Where Rails keeps the model of `table` by convention (`line_items` -> app/models/line_item.rb)."""
    if table.endswith("ies"):
        singular = table[:-3] + "y"
    elif table.endswith(("ses", "xes", "ches", "shes")):
        singular = table[:-2]
    elif table.endswith("s"):
        singular = table[:-1]
    else:
        singular = table
    return f"app/models/{singular}.rb"
