"""JavaScript/TypeScript migrations (Sequelize, knex, TypeORM, node-pg-migrate), found with ast-grep.

Only the `up` side counts (a `down` undoes on purpose). Calls are recognised by method name:
addIndex/createIndex without `concurrently: true`, addColumn NOT NULL, changeColumn/alterColumn,
removeColumn/dropColumn, dropTable, raw SQL through query/raw/sql, and knex's alterTable callbacks.
"""

from __future__ import annotations

from ast_grep_py import SgNode, SgRoot

from bot.analyzers import sql_script as sc
from bot.analyzers.migration_js_keys import js_unindexed_key_hits
from bot.analyzers.migration_nodes import MAX_CALLS, embedded_sql_hits, name_of, node_hit, snippet
from bot.analyzers.rule_info import Hit
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Severity

SQL_METHODS = frozenset({"query", "raw", "sql", "runSql"})
INDEX_METHODS = frozenset({"addIndex", "createIndex"})
DROP_COLUMN_METHODS = frozenset({"removeColumn", "dropColumn", "dropColumns"})
DROP_TABLE_METHODS = frozenset({"dropTable", "dropTableIfExists"})
KNEX_ALTER = frozenset({"alterTable", "table"})
CREATE_TABLE = frozenset({"createTable", "createTableIfNotExists"})
NOT_NULL_PAIRS = (("allowNull", "false"), ("notNull", "true"), ("isNullable", "false"), ("nullable", "false"))
DEFAULT_KEYS = frozenset({"defaultValue", "default"})
NOTE_CHANGE_COLUMN = "changeColumn emits ALTER COLUMN ... TYPE even when only nullability changes; same type is cheap."


def _method(call: SgNode) -> str:
    func = call.field("function")
    if func is None:
        return ""
    if func.kind() == "member_expression":
        prop = func.field("property")
        return prop.text() if prop is not None else ""
    return func.text()


def _args(call: SgNode) -> list[SgNode]:
    args = call.field("arguments")
    return [c for c in args.children() if c.is_named() and c.kind() != "comment"] if args is not None else []


def _pairs(nodes: list[SgNode]) -> dict[str, str]:
    """key -> value text of every object property inside the nodes (nested objects included)."""
    out: dict[str, str] = {}
    for node in nodes:
        for pair in node.find_all(kind="pair"):
            key, value = pair.field("key"), pair.field("value")
            if key is not None and value is not None:
                out.setdefault(key.text().strip("'\""), value.text())
    return out


def _side(node: SgNode) -> str:
    """'up', 'down' or '' — which migration function the node sits in."""
    for anc in node.ancestors():
        kind = anc.kind()
        name: SgNode | None = None
        if kind == "pair":
            name = anc.field("key")
        elif kind in ("method_definition", "function_declaration", "variable_declarator", "function_expression"):
            name = anc.field("name")
        elif kind == "assignment_expression":
            name = anc.field("left")
        text = name.text().rsplit(".", 1)[-1].strip("'\"") if name is not None else ""
        if text in ("up", "down"):
            return text
    return ""


def _enclosing_call(node: SgNode, methods: frozenset[str]) -> SgNode | None:
    for anc in node.ancestors():
        if anc.kind() == "call_expression" and _method(anc) in methods:
            return anc
    return None


def js_migration_hits(text: str, language: str, deadline: Deadline = NEVER) -> list[Hit]:
    """Hits in one JS/TS migration file; [] when it has no migration calls."""
    root = SgRoot(text, language).root()
    calls = [c for c in root.find_all(kind="call_expression")[:MAX_CALLS] if _side(c) != "down"]
    new = frozenset(_created(c) for c in calls if _method(c) in CREATE_TABLE) - {""}
    hits: list[Hit] = []
    for call in calls:
        deadline.check()
        method = _method(call)
        if _enclosing_call(call, CREATE_TABLE) is not None:
            continue
        knex = _enclosing_call(call, KNEX_ALTER)
        if knex is not None:
            table = name_of(_args(knex)[0]) if _args(knex) else ""
            if table not in new:
                hits.extend(_knex_builder(call, method, table or "?"))
            continue
        args = _args(call)
        if method in SQL_METHODS:
            hits.extend(embedded_sql_hits(args[0] if args else None, new))
            continue
        table = name_of(args[0]) if args else ""
        if table and table not in new:
            hits.extend(_table_call(call, method, table, args))
    return hits + js_unindexed_key_hits(calls, _method, _args)


def _created(call: SgNode) -> str:
    args = _args(call)
    if not args:
        return ""
    return name_of(args[0]) or name_of_pair(args[0], "name")


def name_of_pair(node: SgNode, key: str) -> str:
    for pair in node.find_all(kind="pair"):
        k, v = pair.field("key"), pair.field("value")
        if k is not None and k.text().strip("'\"") == key:
            return name_of(v)
    return ""


def _table_call(call: SgNode, method: str, table: str, args: list[SgNode]) -> list[Hit]:
    pairs = _pairs(args[1:])
    if method in INDEX_METHODS and pairs.get("concurrently") != "true":
        return [node_hit(sc.CREATE_INDEX, call, table=table, index=snippet(args[1]) if len(args) > 1 else "?")]
    if method in ("addColumn", "addColumns"):
        return _add_column(call, table, args, pairs)
    if method == "changeColumn":
        column = name_of(args[1]) if len(args) > 1 else "?"
        return [
            node_hit(
                sc.ALTER_TYPE,
                call,
                severity=Severity.info,
                note=NOTE_CHANGE_COLUMN,
                table=table,
                column=column,
                type=pairs.get("type", "?"),
            )
        ]
    if method == "alterColumn":
        column = name_of(args[1]) if len(args) > 1 else "?"
        if "type" in pairs:
            return [node_hit(sc.ALTER_TYPE, call, table=table, column=column, type=pairs["type"])]
        if pairs.get("notNull") == "true":
            return [node_hit(sc.SET_NOT_NULL, call, table=table, column=column)]
    if method in DROP_COLUMN_METHODS:
        column = (name_of(args[1]) or snippet(args[1])) if len(args) > 1 else "?"
        return [node_hit(sc.DROP_COLUMN, call, table=table, column=column)]
    if method in DROP_TABLE_METHODS:
        return [node_hit(sc.DROP_TABLE, call, table=table)]
    return []


def _add_column(call: SgNode, table: str, args: list[SgNode], pairs: dict[str, str]) -> list[Hit]:
    not_null = any(pairs.get(k) == v for k, v in NOT_NULL_PAIRS)
    default = next((pairs[k] for k in DEFAULT_KEYS if k in pairs), None)
    column = (name_of(args[1]) or snippet(args[1])) if len(args) > 1 else "?"
    values = {"table": table, "column": column, "default": default or "none"}
    if default is not None and any(f in default.lower() for f in sc.VOLATILE_FUNCTIONS):
        return [node_hit(sc.ADD_COLUMN_REWRITE, call, values=values)]
    if not_null and default is None:  # a constant default is metadata-only (PostgreSQL 11+, MySQL 8)
        return [node_hit(sc.ADD_COLUMN_NOT_NULL_NO_DEFAULT, call, values=values)]
    return []


def _knex_builder(call: SgNode, method: str, table: str) -> list[Hit]:
    """One call inside a knex alterTable callback: table.index(), .dropColumn(), .notNullable(), .alter()."""
    args = _args(call)
    first = (name_of(args[0]) or snippet(args[0])) if args else "?"
    if method == "index":
        return [node_hit(sc.CREATE_INDEX, call, table=table, index=first)]
    if method == "unique":
        return [node_hit(sc.CONSTRAINT_BUILDS_INDEX, call, table=table, constraint=f"unique {first}")]
    if method in DROP_COLUMN_METHODS:
        return [node_hit(sc.DROP_COLUMN, call, table=table, column=first)]
    parent = call.parent()
    if parent is not None and parent.kind() == "member_expression":
        return []  # only the outermost call of a chain speaks for the chain
    chain = call.text()
    column = name_of(_innermost_args(call))
    if ".alter(" in chain:
        return [node_hit(sc.ALTER_TYPE, call, table=table, column=column or "?", type=snippet(call))]
    if ".notNullable(" in chain and ".defaultTo(" not in chain:
        return [node_hit(sc.ADD_COLUMN_NOT_NULL_NO_DEFAULT, call, table=table, column=column or "?", default="none")]
    return []


def _innermost_args(call: SgNode) -> SgNode | None:
    """The first argument of the first call of a chain: `table.string('name')...` -> 'name'."""
    node: SgNode | None = call
    first: SgNode | None = None
    for _ in range(50):
        if node is None or node.kind() != "call_expression":
            break
        args = _args(node)
        first = args[0] if args else first
        func = node.field("function")
        node = func.field("object") if func is not None and func.kind() == "member_expression" else None
    return first
