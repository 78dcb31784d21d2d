"""Checks on SQL migration text: statements that lock or rewrite big tables, or lose data.

Pure: SQL text + context in, issues (rule id, offsets in that text, evidence values, an optional
mechanical insertion) out. Used on `.sql` files and on SQL strings inside framework migrations.
A table created in the same migration is new and empty, so statements on it stay quiet.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace

from bot.analyzers.sql_lexer import Statement, Token, split_statements
from bot.model import Severity

CREATE_INDEX = "sql-create-index-not-concurrently"
ADD_COLUMN_REWRITE = "sql-add-column-rewrites-table"
ADD_COLUMN_NOT_NULL_DEFAULT = "sql-add-column-not-null-default"
ADD_COLUMN_NOT_NULL_NO_DEFAULT = "sql-add-column-not-null-without-default"
ALTER_TYPE = "sql-alter-column-type"
SET_NOT_NULL = "sql-set-not-null"
DROP_COLUMN = "sql-drop-column"
DROP_TABLE = "sql-drop-table"
CONSTRAINT_VALIDATES = "sql-constraint-without-not-valid"
CONSTRAINT_BUILDS_INDEX = "sql-constraint-builds-index"

POSTGRESQL = "postgresql"
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "uuidv7",
        "uuidv4",
        "gen_random_bytes",
    }
)
SERIAL_TYPES = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"})
COLUMN_CONSTRAINT_WORDS = frozenset(
    {"NOT", "NULL", "CONSTRAINT", "CHECK", "REFERENCES", "UNIQUE", "PRIMARY", "GENERATED", "COLLATE", "DEFAULT"}
)
TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE"})
NOT_A_COLUMN = frozenset(
    {
        "CONSTRAINT",
        "DEFAULT",
        "NOT",
        "IDENTITY",
        "EXPRESSION",
        "PROJECTION",
        "INDEX",
        "KEY",
        "PRIMARY",
        "FOREIGN",
        "CHECK",
        "PARTITION",
        "STATISTICS",
    }
)
TEXT_TYPES = frozenset({"VARCHAR", "TEXT", "CHARACTER", "CITEXT"})
MAX_EVIDENCE_CHARS = 100
NOTE_TEXT_TYPE = (
    "Widening varchar(n) to a longer varchar or to text is binary-compatible and does not rewrite; "
    "shortening it, or converting from another type, does."
)
NOTE_IN_TRANSACTION = (
    "This file wraps its statements in an explicit transaction; CREATE INDEX CONCURRENTLY must run outside it."
)


@dataclass(frozen=True)
class SqlContext:
    """What the caller knows: tables new in this migration, whether it is a rollback script, the dialect."""

    new_tables: frozenset[str] = frozenset()
    down: bool = False
    dialect: str = POSTGRESQL


@dataclass(frozen=True)
class SqlIssue:
    rule_id: str
    start: int  # offsets in the SQL text
    end: int
    code: str
    values: dict[str, str] = field(default_factory=dict)
    insert: tuple[int, str] | None = None  # mechanical fix: insert this text at this offset
    severity: Severity | None = None
    note: str | None = None


@dataclass
class _Script:
    text: str
    context: SqlContext
    new_tables: set[str]
    has_not_null_check: bool
    in_transaction: bool
    issues: list[SqlIssue] = field(default_factory=list)

    def add(self, rule_id: str, tokens: tuple[Token, ...] | list[Token], **values: str) -> None:
        code = self.text[tokens[0].start : tokens[-1].end]
        self.issues.append(SqlIssue(rule_id, tokens[0].start, tokens[-1].end, code, values))


def words(tokens: tuple[Token, ...] | list[Token]) -> list[str]:
    return [t.upper for t in tokens]


def _short(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= MAX_EVIDENCE_CHARS else one[: MAX_EVIDENCE_CHARS - 1] + "…"


def qualified_name(tokens: tuple[Token, ...] | list[Token], i: int) -> tuple[str, int]:
    """The last part of a dotted name starting at i (case-folded unless quoted), and the index after it."""
    name = ""
    while i < len(tokens) and tokens[i].kind in ("word", "ident"):
        name = tokens[i].name
        if i + 2 < len(tokens) and tokens[i + 1].text == ".":
            i += 2
            continue
        return name, i + 1
    return name, i


def _skip(ws: list[str], i: int, *seq: str) -> int:
    """i advanced past the keyword sequence when it is there."""
    if ws[i : i + len(seq)] == list(seq):
        return i + len(seq)
    return i


def _has_seq(ws: list[str], *seq: str) -> bool:
    n = len(seq)
    return any(ws[i : i + n] == list(seq) for i in range(len(ws) - n + 1))


def _created_table(st: Statement) -> str | None:
    ws = words(st.tokens)
    if ws[:1] != ["CREATE"]:
        return None
    i = 1
    while i < len(ws) and ws[i] in ("OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL"):
        i += 1
    if i < len(ws) and ws[i] == "MATERIALIZED":
        i += 1
    if i >= len(ws) or ws[i] not in ("TABLE", "VIEW"):
        return None
    i = _skip(ws, i + 1, "IF", "NOT", "EXISTS")
    name, _ = qualified_name(st.tokens, i)
    return name or None


def _is_begin(st: Statement) -> bool:
    ws = words(st.tokens)
    begin = ws[:1] == ["BEGIN"] and (len(ws) == 1 or ws[1] in ("TRANSACTION", "WORK"))
    return begin or ws[:2] == ["START", "TRANSACTION"]


def check_sql(text: str, context: SqlContext | None = None) -> list[SqlIssue]:
    """Every issue in one SQL script (a migration file or an embedded SQL string)."""
    context = context or SqlContext()
    statements = split_statements(text)
    script = _Script(
        text=text,
        context=context,
        new_tables=set(context.new_tables) | {n for st in statements if (n := _created_table(st))},
        has_not_null_check=any(
            "CHECK" in (ws := words(st.tokens)) and _has_seq(ws, "IS", "NOT", "NULL") for st in statements
        ),
        in_transaction=any(_is_begin(st) for st in statements),
    )
    for st in statements:
        ws = words(st.tokens)
        if ws[:1] == ["CREATE"] and "INDEX" in ws[1:3]:
            _check_create_index(script, st, ws)
        elif ws[:2] == ["ALTER", "TABLE"]:
            _check_alter_table(script, st, ws)
        elif ws[:2] == ["DROP", "TABLE"] and not context.down:
            _check_drop_table(script, st, ws)
    return script.issues


def _check_create_index(script: _Script, st: Statement, ws: list[str]) -> None:
    if script.context.dialect != POSTGRESQL:
        return
    i = ws.index("INDEX", 1)
    index_token = st.tokens[i]
    if "CONCURRENTLY" in ws[i : i + 2]:
        return
    on = ws.index("ON", i) if "ON" in ws[i:] else -1
    if on < 0 or ws[on + 1 : on + 2] == ["ONLY"]:  # ON ONLY: a partitioned parent, cannot be concurrent
        return
    table, _ = qualified_name(st.tokens, on + 1)
    if table in script.new_tables:
        return
    index, _ = qualified_name(st.tokens, _skip(ws, i + 1, "IF", "NOT", "EXISTS"))
    code = script.text[st.start : st.end]
    script.issues.append(
        SqlIssue(
            CREATE_INDEX,
            st.start,
            st.end,
            code,
            {"table": table, "index": index if index != table else "(unnamed)", "statement": _short(code)},
            insert=(index_token.end, " CONCURRENTLY"),
            note=NOTE_IN_TRANSACTION if script.in_transaction else None,
        )
    )


def _actions(tokens: tuple[Token, ...], start: int) -> list[list[Token]]:
    """ALTER TABLE actions: the tokens from `start`, split at top-level commas."""
    out: list[list[Token]] = [[]]
    depth = 0
    for t in tokens[start:]:
        if t.kind == "punct" and t.text in "([":
            depth += 1
        elif t.kind == "punct" and t.text in ")]":
            depth = max(depth - 1, 0)
        elif t.kind == "punct" and t.text == "," and depth == 0:
            out.append([])
            continue
        out[-1].append(t)
    return [a for a in out if a]


def _check_alter_table(script: _Script, st: Statement, ws: list[str]) -> None:
    i = _skip(ws, 2, "IF", "EXISTS")
    i = _skip(ws, i, "ONLY")
    table, i = qualified_name(st.tokens, i)
    if i < len(st.tokens) and st.tokens[i].text == "*":
        i += 1
    if not table or table in script.new_tables:
        return
    for action in _actions(st.tokens, i):
        aw = words(action)
        if aw[:1] == ["DROP"] and not script.context.down:
            _check_drop_column(script, table, action, aw)
        if script.context.dialect != POSTGRESQL:
            continue
        if aw[:1] == ["ADD"]:
            _check_add(script, table, action, aw)
        elif aw[:1] == ["ALTER"]:
            _check_alter_column(script, table, action, aw)


def _check_drop_column(script: _Script, table: str, action: list[Token], aw: list[str]) -> None:
    i = _skip(aw, 1, "COLUMN")
    if i == 1 and len(aw) > 1 and aw[1] in NOT_A_COLUMN:
        return
    i = _skip(aw, i, "IF", "EXISTS")
    column, _ = qualified_name(action, i)
    if column:
        script.add(DROP_COLUMN, action, table=table, column=column)


def _check_add(script: _Script, table: str, action: list[Token], aw: list[str]) -> None:
    i = 1
    if len(aw) > 1 and aw[1] in TABLE_CONSTRAINT_WORDS:
        _check_add_constraint(script, table, action, aw)
        return
    i = _skip(aw, i, "COLUMN")
    i = _skip(aw, i, "IF", "NOT", "EXISTS")
    column, i = qualified_name(action, i)
    if not column:
        return
    rest = aw[i:]
    default_at = rest.index("DEFAULT") if "DEFAULT" in rest else -1
    default_words = _default_expression(action[i + default_at + 1 :]) if default_at >= 0 else []
    volatile = any(w in VOLATILE_FUNCTIONS for w in default_words)
    rewrites = (
        volatile
        or bool(rest[:1] and rest[0] in SERIAL_TYPES)
        or ("GENERATED" in rest and ("STORED" in rest or "IDENTITY" in rest))
    )
    not_null = _has_seq(rest, "NOT", "NULL") or "PRIMARY" in rest
    values = {"table": table, "column": column, "default": " ".join(default_words) or "none"}
    if rest[:1] and rest[0] in SERIAL_TYPES:
        values["default"] = f"{rest[0].lower()} sequence"
    elif "GENERATED" in rest:
        values["default"] = "generated column"
    if rewrites:
        script.add(ADD_COLUMN_REWRITE, action, **values)
    elif not_null and default_at >= 0:
        script.add(ADD_COLUMN_NOT_NULL_DEFAULT, action, **values)
    elif not_null and "GENERATED" not in rest:
        script.add(ADD_COLUMN_NOT_NULL_NO_DEFAULT, action, **values)
    if "UNIQUE" in rest or "PRIMARY" in rest:
        script.add(CONSTRAINT_BUILDS_INDEX, action, table=table, constraint=f"column {column}")


def _default_expression(tokens: list[Token]) -> list[str]:
    """The words of a DEFAULT expression, up to the next column constraint keyword."""
    out: list[str] = []
    depth = 0
    for t in tokens:
        if t.kind == "punct":
            depth += 1 if t.text == "(" else -1 if t.text == ")" else 0
            continue
        if depth <= 0 and t.upper in COLUMN_CONSTRAINT_WORDS:
            break
        out.append(t.text.lower() if t.kind == "word" else t.text)
    return out


def _check_add_constraint(script: _Script, table: str, action: list[Token], aw: list[str]) -> None:
    name = ""
    if aw[1] == "CONSTRAINT":
        name, _ = qualified_name(action, 2)
    label = name or "(unnamed)"
    if ("FOREIGN" in aw or "CHECK" in aw) and not _has_seq(aw, "NOT", "VALID"):
        kind = "FOREIGN KEY" if "FOREIGN" in aw else "CHECK"
        script.add(CONSTRAINT_VALIDATES, action, table=table, constraint=label, kind=kind)
    elif ("UNIQUE" in aw or "PRIMARY" in aw or "EXCLUDE" in aw) and not _has_seq(aw, "USING", "INDEX"):
        script.add(CONSTRAINT_BUILDS_INDEX, action, table=table, constraint=label)


def _check_alter_column(script: _Script, table: str, action: list[Token], aw: list[str]) -> None:
    i = _skip(aw, 1, "COLUMN")
    if i == 1 and len(aw) > 1 and aw[1] == "CONSTRAINT":
        return
    column, i = qualified_name(action, i)
    rest = aw[i:]
    if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        start = i + (1 if rest[0] == "TYPE" else 3)
        new_type = " ".join(t.text for t in action[start:] if t.upper not in ("USING", "COLLATE"))[:60]
        script.add(ALTER_TYPE, action, table=table, column=column, type=new_type)
        if start < len(action) and action[start].upper in TEXT_TYPES:
            script.issues[-1] = replace(script.issues[-1], severity=Severity.medium, note=NOTE_TEXT_TYPE)
    elif rest[:3] == ["SET", "NOT", "NULL"] and not script.has_not_null_check:
        script.add(SET_NOT_NULL, action, table=table, column=column)


def _check_drop_table(script: _Script, st: Statement, ws: list[str]) -> None:
    i = _skip(ws, 2, "IF", "EXISTS")
    names: list[str] = []
    while i < len(st.tokens):
        name, i = qualified_name(st.tokens, i)
        if name:
            names.append(name)
        if i < len(st.tokens) and st.tokens[i].text == ",":
            i += 1
            continue
        break
    dropped = [n for n in names if n not in script.new_tables]
    if dropped:
        script.add(DROP_TABLE, list(st.tokens), table=", ".join(dropped))


def embedded_sql_issues(sql: str, new_tables: frozenset[str]) -> list[tuple[SqlIssue, int, int]]:
    """Issues of a SQL string embedded in code, with their 1-based line span inside the string."""
    if not sql.strip():
        return []
    starts = [0] + [i + 1 for i, c in enumerate(sql) if c == "\n"]
    out = []
    for issue in check_sql(sql, SqlContext(new_tables=new_tables)):
        first = bisect.bisect_right(starts, issue.start)
        last = bisect.bisect_right(starts, max(issue.end - 1, issue.start))
        out.append((issue, first, last))
    return out
