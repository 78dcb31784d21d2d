"""Rails (ActiveRecord) migrations: schema operations that lock, rewrite or drop, found with ast-grep.

`def change` and `def up` count, `def down` does not. Tables created in the same file are new.
SQL passed to `execute` (a string or a heredoc) goes through the SQL checks.
"""

from __future__ import annotations

import re

from ast_grep_py import SgNode, SgRoot

from bot.analyzers import sql_script as sc
from bot.analyzers.migration_nodes import MAX_CALLS, embedded_sql_hits, node_hit, snippet
from bot.analyzers.migration_ruby_keys import unindexed_key_hits
from bot.analyzers.rule_info import Hit
from bot.analyzers.sql_checks import embedded_sql_issues
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Severity

_RAILS = re.compile(r"ActiveRecord::Migration")
_NOT_NULL_CHECK = re.compile(r"is\s+not\s+null", re.IGNORECASE)
DROP_COLUMN_METHODS = frozenset(
    {"remove_column", "remove_columns", "remove_reference", "remove_belongs_to", "remove_timestamps"}
)
TEXT_TYPES = frozenset({"text", "string", "citext"})


def _method(call: SgNode) -> str:
    name = call.field("method")
    return name.text() if name is not None else ""


def _args(call: SgNode) -> tuple[list[SgNode], dict[str, str]]:
    """Positional arguments and `key: value` options (value text) of a call."""
    args = call.field("arguments")
    positional: list[SgNode] = []
    options: dict[str, str] = {}
    for child in args.children() if args is not None else []:
        if child.kind() == "pair":
            key, value = child.field("key"), child.field("value")
            if key is not None and value is not None:
                options[key.text().strip(":").rstrip(":").strip("'\"")] = value.text()
        elif child.is_named() and child.kind() not in ("comment", "heredoc_beginning"):
            positional.append(child)
    return positional, options


def _name(node: SgNode | None) -> str:
    if node is None or node.kind() not in ("simple_symbol", "string"):
        return ""
    return node.text().lstrip(":").strip("'\"").lower()


def _in_down(node: SgNode) -> bool:
    """Inside `def down` or a `dir.down do ... end` block of `reversible`."""
    for anc in node.ancestors():
        if anc.kind() == "call" and _method(anc) == "down":
            return True
        if anc.kind() == "method":
            name = anc.field("name")
            return name is not None and name.text() == "down"
    return False


def _heredoc_sql(call: SgNode, heredocs: list[SgNode], new: frozenset[str]) -> list[Hit]:
    line = call.range().start.line
    for body in heredocs:
        if body.range().start.line == line:
            text = body.text()
            content = text[: text.rfind("\n")] if "\n" in text else ""  # drop the closing marker line
            return _sql_hits(content, body.range().start.line + 1, new)
    return []


def _sql_hits(sql: str, first_line: int, new: frozenset[str] = frozenset()) -> list[Hit]:
    return [
        Hit(issue.rule_id, first_line + a - 1, first_line + b - 1, issue.code, issue.values, severity=issue.severity)
        for issue, a, b in embedded_sql_issues(sql, new)
    ]


def rails_migration_hits(text: str, deadline: Deadline = NEVER) -> list[Hit]:
    """Hits in one Rails migration file; [] when it is not one."""
    if not _RAILS.search(text):
        return []
    root = SgRoot(text, "ruby").root()
    calls = [c for c in root.find_all(kind="call")[:MAX_CALLS] if not _in_down(c)]
    new = frozenset(_name(_args(c)[0][0]) for c in calls if _method(c) == "create_table" and _args(c)[0]) - {""}
    heredocs = root.find_all(kind="heredoc_body")
    has_check = bool(_NOT_NULL_CHECK.search(text))
    hits: list[Hit] = []
    for call in calls:
        deadline.check()
        method = _method(call)
        args, options = _args(call)
        if method == "execute":
            hits.extend(embedded_sql_hits(args[0], new) if args else _heredoc_sql(call, heredocs, new))
            continue
        table = _name(args[0]) if args else ""
        change_table = _enclosing_change_table(call)
        if change_table is not None:
            table = _name(_args(change_table)[0][0]) if _args(change_table)[0] else ""
            args = [change_table, *args]  # the block's calls omit the table
            method = {"index": "add_index", "remove": "remove_column", "change": "change_column"}.get(method, "")
        if table and table not in new:
            hits.extend(_rails_call(call, method, table, args, options, has_check))
    return hits + unindexed_key_hits(calls, _method, _args, _name)


def _enclosing_change_table(call: SgNode) -> SgNode | None:
    if call.field("receiver") is None:
        return None
    for anc in call.ancestors():
        if anc.kind() == "call" and _method(anc) == "change_table":
            return anc
    return None


def _rails_call(
    call: SgNode, method: str, table: str, args: list[SgNode], options: dict[str, str], has_check: bool
) -> list[Hit]:
    column = (_name(args[1]) or snippet(args[1])) if len(args) > 1 else "?"
    if method == "add_index" and "concurrently" not in options.get("algorithm", ""):
        return [node_hit(sc.CREATE_INDEX, call, table=table, index=options.get("name", column).strip("'\""))]
    if method in ("add_reference", "add_belongs_to"):
        index = options.get("index", "true")
        if index != "false" and "concurrently" not in index:
            return [node_hit(sc.CREATE_INDEX, call, table=table, index=f"on {column}_id")]
    if method == "add_column":
        return _add_column(call, table, column, options)
    if method == "change_column":
        new_type = _name(args[2]) if len(args) > 2 else "?"
        severity = Severity.medium if new_type in TEXT_TYPES else None
        return [node_hit(sc.ALTER_TYPE, call, severity=severity, table=table, column=column, type=new_type)]
    if method == "change_column_null" and len(args) > 2 and args[2].text() == "false" and not has_check:
        return [node_hit(sc.SET_NOT_NULL, call, table=table, column=column)]
    if method in DROP_COLUMN_METHODS:
        return [node_hit(sc.DROP_COLUMN, call, table=table, column=column)]
    if method == "drop_table":
        return [node_hit(sc.DROP_TABLE, call, table=table)]
    if method in ("add_foreign_key", "add_check_constraint") and options.get("validate") != "false":
        kind = "FOREIGN KEY" if method == "add_foreign_key" else "CHECK"
        return [
            node_hit(sc.CONSTRAINT_VALIDATES, call, table=table, constraint=options.get("name", "(unnamed)"), kind=kind)
        ]
    return []


def _add_column(call: SgNode, table: str, column: str, options: dict[str, str]) -> list[Hit]:
    default = options.get("default")
    values = {"table": table, "column": column, "default": default or "none"}
    if default is not None and any(f in default.lower() for f in sc.VOLATILE_FUNCTIONS):
        return [node_hit(sc.ADD_COLUMN_REWRITE, call, values=values)]
    if options.get("null") == "false" and default is None:  # a constant default is metadata-only (PG 11+)
        return [node_hit(sc.ADD_COLUMN_NOT_NULL_NO_DEFAULT, call, values=values)]
    return []
