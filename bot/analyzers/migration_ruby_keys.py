"""Rails migrations: association key columns (`*_id`, `references`) created without an index leading with them.

Rails indexes `t.references`/`add_reference` columns unless told `index: false`; a plain `t.bigint
:account_id` or `add_column :orders, :account_id, :bigint` gets no index, and PostgreSQL never adds one
for a foreign key. The `_id` suffix is Rails' own convention for an association's key (`belongs_to`
reads `<name>_id`), the same signal active_record_doctor's unindexed-foreign-key check relies on. Only
columns this migration creates are judged; an `add_index`/`t.index` in the same file leading with the
column covers it, and a polymorphic reference's (type, id) index counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ast_grep_py import SgNode

from bot.analyzers.migration_nodes import node_hit
from bot.analyzers.rule_info import Hit
from bot.analyzers.sql_foreign_keys import FK_WITHOUT_INDEX

KEY_TYPES = frozenset({"bigint", "integer", "uuid"})
TABLE_BLOCKS = frozenset({"create_table", "change_table"})

Method = Callable[[SgNode], str]
Args = Callable[[SgNode], tuple[list[SgNode], dict[str, str]]]
Name = Callable[[SgNode | None], str]


def _block_table(call: SgNode, method: Method, args: Args, name: Name) -> str | None:
    """The table of the create_table/change_table block a `t.xxx` call sits in, or None outside one."""
    if call.field("receiver") is None:
        return None
    for anc in call.ancestors():
        if anc.kind() == "call" and method(anc) in TABLE_BLOCKS:
            positional = args(anc)[0]
            return name(positional[0]) if positional else ""
    return None


def _first_column(node: SgNode | None, name: Name) -> str:
    """`:a` or `[:a, :b]` -> "a"."""
    if node is None:
        return ""
    if node.kind() == "array":
        first = next((c for c in node.children() if c.is_named()), None)
        return name(first)
    return name(node)


def unindexed_key_hits(calls: Sequence[SgNode], method: Method, args: Args, name: Name) -> list[Hit]:
    """A hit per association key column created in this migration that no index of it leads with."""
    keys: list[tuple[str, str, SgNode]] = []
    indexed: set[tuple[str, str]] = set()
    for call in calls:
        m = method(call)
        positional, options = args(call)
        table = _block_table(call, method, args, name)
        if table is not None:
            names = [name(p) for p in positional]
            if m in ("references", "belongs_to"):
                for ref in filter(None, names):
                    where = (table, f"{ref}_id")
                    if options.get("index", "true") == "false":
                        keys.append((*where, call))
                    else:
                        indexed.add(where)
            elif m in KEY_TYPES or (m == "column" and len(names) > 1 and names[1] in KEY_TYPES):
                columns = names if m in KEY_TYPES else names[:1]
                keys.extend((table, c, call) for c in columns if c.endswith("_id"))
            elif m == "index" and positional:
                indexed.add((table, _first_column(positional[0], name)))
            continue
        if len(positional) < 2:
            continue
        table, column = name(positional[0]), name(positional[1])
        if m in ("add_reference", "add_belongs_to") and column:
            where = (table, f"{column}_id")
            if options.get("index", "true") == "false":
                keys.append((*where, call))
            else:
                indexed.add(where)
        elif m == "add_column" and column.endswith("_id") and len(positional) > 2 and name(positional[2]) in KEY_TYPES:
            keys.append((table, column, call))
        elif m == "add_index":
            indexed.add((table, _first_column(positional[1], name)))
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for table, column, call in keys:
        if not table or (table, column) in indexed or (table, column) in seen:
            continue
        seen.add((table, column))
        hits.append(node_hit(FK_WITHOUT_INDEX, call, table=table, column=column, references=column[:-3]))
    return hits
