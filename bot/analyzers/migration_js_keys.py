"""JavaScript/TypeScript migrations: foreign-key columns created without an index leading with them.

knex's `.references()`/`.foreign()` and Sequelize's `references:` declare a constraint only; on
PostgreSQL nothing indexes the referencing column (knex and Sequelize docs show `.index()` /
`addIndex` as separate steps). A column this file creates with a foreign key is reported unless its
own chain or attributes make it indexed (`.index()`, `.unique()`, `.primary()`, `unique: true`,
`primaryKey: true`); an index elsewhere in the file that names the column covers it too (checked
by the migration analyzer for every framework).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ast_grep_py import SgNode

from bot.analyzers.migration_nodes import name_of, node_hit, string_literal
from bot.analyzers.rule_info import Hit
from bot.analyzers.sql_foreign_keys import FK_WITHOUT_INDEX

TABLE_CALLBACKS = frozenset({"createTable", "createTableIfNotExists", "alterTable", "table"})
NOT_A_COLUMN = frozenset({"foreign", "index", "unique", "primary", "dropColumn", "dropColumns", "dropForeign",
                          "dropIndex", "dropUnique", "dropPrimary", "renameColumn", "timestamps"})
CHAIN_INDEX = (".index(", ".unique(", ".primary(")
ATTR_INDEX = ("unique: true", "primaryKey: true")

Method = Callable[[SgNode], str]
Args = Callable[[SgNode], list[SgNode]]


def _column(node: SgNode | None) -> str:
    """A column name as written (knex and Sequelize quote identifiers, so case is kept)."""
    lit = string_literal(node)
    return lit[0].strip() if lit else ""


def _outermost(call: SgNode) -> bool:
    parent = call.parent()
    return parent is None or parent.kind() != "member_expression"


def _chain_methods(call: SgNode, method: Method) -> list[str]:
    """Method names of a call chain, first call first: `t.integer('a').references('id')` -> [integer, references]."""
    names: list[str] = []
    node: SgNode | None = call
    for _ in range(50):
        if node is None or node.kind() != "call_expression":
            break
        names.append(method(node))
        func = node.field("function")
        node = func.field("object") if func is not None and func.kind() == "member_expression" else None
    return names[::-1]


def _chain_first_arg(call: SgNode, args: Args, method: Method, wanted: str) -> SgNode | None:
    node: SgNode | None = call
    for _ in range(50):
        if node is None or node.kind() != "call_expression":
            return None
        if method(node) == wanted:
            found = args(node)
            return found[0] if found else None
        func = node.field("function")
        node = func.field("object") if func is not None and func.kind() == "member_expression" else None
    return None


def _table_of(call: SgNode, method: Method, args: Args) -> str:
    for anc in call.ancestors():
        if anc.kind() == "call_expression" and method(anc) in TABLE_CALLBACKS:
            found = args(anc)
            return name_of(found[0]) if found else ""
    return ""


def _knex_keys(calls: Sequence[SgNode], method: Method, args: Args) -> list[tuple[str, str, str, SgNode]]:
    new: set[tuple[str, str]] = set()
    keys: list[tuple[str, str, str, SgNode]] = []
    for call in calls:
        if not _outermost(call):
            continue
        table = _table_of(call, method, args)
        chain = _chain_methods(call, method)
        if not table or len(chain) < 1 or chain[0] in TABLE_CALLBACKS:
            continue
        column = _column(_chain_first_arg(call, args, method, chain[0]))
        if chain[0] not in NOT_A_COLUMN and column:
            new.add((table, column))
        if "references" not in chain or any(c in call.text() for c in CHAIN_INDEX):
            continue
        target = name_of(_chain_first_arg(call, args, method, "inTable")) or name_of(
            _chain_first_arg(call, args, method, "references")).split(".")[0]
        keys.append((table, column, target or "(another table)", call))
    return [k for k in keys if (k[0], k[1]) in new]


def _references(value: SgNode) -> str:
    """The model/table a Sequelize `references: { model: 'users' }` names, or '' when there is none."""
    for pair in value.find_all(kind="pair"):
        key, inner = pair.field("key"), pair.field("value")
        if key is not None and inner is not None and key.text().strip("'\"") == "references":
            for sub in inner.find_all(kind="pair"):
                k, v = sub.field("key"), sub.field("value")
                if k is not None and v is not None and k.text().strip("'\"") == "model":
                    return name_of(v) or v.text()
            return "(another table)"
    return ""


def _sequelize_keys(calls: Sequence[SgNode], method: Method, args: Args) -> list[tuple[str, str, str, SgNode]]:
    keys: list[tuple[str, str, str, SgNode]] = []
    for call in calls:
        m, found = method(call), args(call)
        if m == "createTable" and len(found) > 1 and found[1].kind() == "object":
            table = name_of(found[0])
            for pair in found[1].children():
                key, value = pair.field("key"), pair.field("value")
                if pair.kind() != "pair" or key is None or value is None or value.kind() != "object":
                    continue
                target = _references(value)
                if target and not any(a in value.text() for a in ATTR_INDEX):
                    keys.append((table, key.text().strip("'\""), target, pair))
        elif m == "addColumn" and len(found) > 2 and found[2].kind() == "object":
            target = _references(found[2])
            if target and not any(a in found[2].text() for a in ATTR_INDEX):
                keys.append((name_of(found[0]), _column(found[1]), target, call))
    return keys


def js_unindexed_key_hits(calls: Sequence[SgNode], method: Method, args: Args) -> list[Hit]:
    """A hit per foreign-key column these (up-side) calls create that their own declaration does not index."""
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for table, column, target, node in _knex_keys(calls, method, args) + _sequelize_keys(calls, method, args):
        if not table or not column or (table, column) in seen:
            continue
        seen.add((table, column))
        hits.append(node_hit(FK_WITHOUT_INDEX, node, table=table, column=column, references=target))
    return hits
