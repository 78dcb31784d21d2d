"""Checks on SQL migration text: statements that lock or rewrite big tables, or lose data.

Pure: SQL text + context in, issues (rule id, offsets in that text, evidence values, an optional
mechanical insertion) out. Used on `.sql` files and on SQL strings inside framework migrations.
A table created in the same migration is new and empty, so statements on it stay quiet.
"""

from __future__ import annotations

import bisect

from bot.analyzers.sql_alter_table import check_alter_table
from bot.analyzers.sql_foreign_keys import foreign_key_issues
from bot.analyzers.sql_lexer import Statement, split_statements
from bot.analyzers.sql_script import (
    CREATE_INDEX,
    DROP_TABLE,
    NOTE_IN_TRANSACTION,
    NOTE_OWN_FILE,
    POSTGRESQL,
    UNBATCHED_BACKFILL,
    SqlContext,
    SqlIssue,
    SqlScript,
    has_seq,
    qualified_name,
    short,
    skip,
    words,
)
from bot.core.deadline import NEVER, Deadline


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
    i = skip(ws, i + 1, "IF", "NOT", "EXISTS")
    name, _ = qualified_name(st.tokens, i)
    return name or None


def _is_begin(st: Statement) -> bool:
    ws = words(st.tokens)
    begin = ws[:1] == ["BEGIN"] and (len(ws) == 1 or ws[1] in ("TRANSACTION", "WORK"))
    return begin or ws[:2] == ["START", "TRANSACTION"]


def check_sql(text: str, context: SqlContext | None = None, deadline: Deadline = NEVER) -> list[SqlIssue]:
    """Every issue in one SQL script (a migration file or an embedded SQL string)."""
    context = context or SqlContext()
    if context.down:
        return []  # a rollback script runs only to revert; like `def down` and `downgrade()`, it is not reviewed
    statements = split_statements(text, deadline)
    script = SqlScript(
        text=text,
        context=context,
        new_tables=set(context.new_tables) | {n for st in statements if (n := _created_table(st))},
        has_not_null_check=any(
            "CHECK" in (ws := words(st.tokens)) and has_seq(ws, "IS", "NOT", "NULL") for st in statements
        ),
        in_transaction=any(_is_begin(st) for st in statements),
        statement_count=len(statements),
    )
    for st in statements:
        deadline.check()
        ws = words(st.tokens)
        if ws[:1] == ["CREATE"] and "INDEX" in ws[1:3]:
            _check_create_index(script, st, ws)
        elif ws[:2] == ["ALTER", "TABLE"]:
            check_alter_table(script, st, ws)
        elif ws[:2] == ["DROP", "TABLE"] and not context.down:
            _check_drop_table(script, st, ws)
        elif ws[:1] in (["UPDATE"], ["DELETE"]) and "WHERE" not in ws:
            _check_whole_table_write(script, st, ws)
    foreign_key_issues(script, statements)
    return script.issues


def _index_note(script: SqlScript) -> str | None:
    if script.in_transaction:
        return NOTE_IN_TRANSACTION
    return NOTE_OWN_FILE if script.statement_count > 1 else None


def _check_create_index(script: SqlScript, st: Statement, ws: list[str]) -> None:
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
    index, _ = qualified_name(st.tokens, skip(ws, i + 1, "IF", "NOT", "EXISTS"))
    code = script.text[st.start : st.end]
    script.issues.append(
        SqlIssue(
            CREATE_INDEX,
            st.start,
            st.end,
            code,
            {"table": table, "index": index if index != table else "(unnamed)", "statement": short(code)},
            insert=None if script.in_transaction else (index_token.end, " CONCURRENTLY"),
            note=_index_note(script),
        )
    )


def _check_drop_table(script: SqlScript, st: Statement, ws: list[str]) -> None:
    i = skip(ws, 2, "IF", "EXISTS")
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


def _check_whole_table_write(script: SqlScript, st: Statement, ws: list[str]) -> None:
    """UPDATE/DELETE without WHERE on an existing table: one transaction over every row."""
    i = skip(ws, 1, "FROM") if ws[0] == "DELETE" else 1
    i = skip(ws, i, "ONLY")
    table, _ = qualified_name(st.tokens, i)
    if table and table not in script.new_tables:
        script.add(UNBATCHED_BACKFILL, list(st.tokens), table=table, verb=ws[0])
