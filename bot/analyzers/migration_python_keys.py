"""Alembic migrations: foreign-key columns created without an index leading with them (PostgreSQL).

SQLAlchemy does not index a `ForeignKey` column unless told (`index=True`; its docs: "Column.index"),
and PostgreSQL never indexes the referencing side of a foreign key. Alembic's autogenerate writes
`op.create_index(...)` for `index=True` columns, so a column created here with a `ForeignKey` (or named
by a `ForeignKeyConstraint`/`create_foreign_key`) and no index, unique or primary key leading with it in
the same file is reported. Django is not checked: it indexes every ForeignKey itself (`db_index=True`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ast_grep_py import SgNode

from bot.analyzers.migration_nodes import name_of, node_hit
from bot.analyzers.rule_info import Hit
from bot.analyzers.sql_foreign_keys import FK_WITHOUT_INDEX

INDEX_FLAGS = ("index", "unique", "primary_key")


class CallLike(Protocol):
    node: SgNode
    func: str
    args: list[SgNode]
    kwargs: dict[str, SgNode]

    def arg(self, index: int, keyword: str) -> SgNode | None: ...

    def kw_text(self, keyword: str) -> str: ...


Parse = Callable[[SgNode], "CallLike | None"]


def _first(node: SgNode | None) -> SgNode | None:
    """The first element of a list or tuple literal, or the node itself."""
    if node is not None and node.kind() in ("list", "tuple"):
        return next((c for c in node.children() if c.is_named()), None)
    return node


def _first_name(node: SgNode | None) -> str:
    """'a' from ["a", "b"], ("a",) or "a"."""
    return name_of(_first(node))


def _referenced(target: SgNode | None) -> str:
    """'users' from "users.id"."""
    return name_of(target).split(".")[0] or "(another table)"


class _Keys:
    def __init__(self) -> None:
        self.keys: list[tuple[str, str, str, SgNode]] = []  # table, column, referenced table, where
        self.new_columns: set[tuple[str, str]] = set()
        self.indexed: set[tuple[str, str]] = set()

    def column(self, table: str, col: CallLike, parse: Parse) -> None:
        name = name_of(col.arg(0, "name"))
        if not name:
            return
        self.new_columns.add((table, name))
        if any(col.kw_text(flag) == "True" for flag in INDEX_FLAGS):
            self.indexed.add((table, name))
        for arg in col.args:
            inner = parse(arg) if arg.kind() == "call" else None
            if inner is not None and inner.func == "ForeignKey":
                self.keys.append((table, name, _referenced(inner.arg(0, "column")), col.node))

    def table_item(self, table: str, item: CallLike, parse: Parse) -> None:
        if item.func == "Column":
            self.column(table, item, parse)
        elif item.func == "ForeignKeyConstraint":
            references = _referenced(_first(item.arg(1, "refcolumns")))
            self.keys.append((table, _first_name(item.arg(0, "columns")), references, item.node))
        elif item.func in ("PrimaryKeyConstraint", "UniqueConstraint") and item.args:
            self.indexed.add((table, _first_name(item.args[0])))
        elif item.func == "Index" and len(item.args) > 1:
            self.indexed.add((table, name_of(item.args[1])))


def alembic_unindexed_key_hits(calls: Sequence[CallLike], parse: Parse) -> list[Hit]:
    """A hit per foreign-key column these `op.*` calls create that no index of the file leads with."""
    found = _Keys()
    for c in calls:
        if c.func == "create_table":
            table = name_of(c.arg(0, "table_name"))
            for arg in c.args[1:]:
                item = parse(arg) if arg.kind() == "call" else None
                if item is not None and table:
                    found.table_item(table, item, parse)
        elif c.func == "add_column":
            column_node = c.arg(1, "column")
            item = parse(column_node) if column_node is not None and column_node.kind() == "call" else None
            if item is not None and item.func == "Column":
                found.column(name_of(c.arg(0, "table_name")), item, parse)
        elif c.func == "create_index":
            found.indexed.add((name_of(c.arg(1, "table_name")), _first_name(c.arg(2, "columns"))))
        elif c.func in ("create_unique_constraint", "create_primary_key"):
            found.indexed.add((name_of(c.arg(1, "table_name")), _first_name(c.arg(2, "columns"))))
        elif c.func == "create_foreign_key":
            table = name_of(c.arg(1, "source_table"))
            found.keys.append((table, _first_name(c.arg(3, "local_cols")), name_of(c.arg(2, "referent_table"))
                               or "(another table)", c.node))
    hits: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for table, column, references, node in found.keys:
        where = (table, column)
        if not table or not column or where in found.indexed or where not in found.new_columns or where in seen:
            continue
        seen.add(where)
        hits.append(node_hit(FK_WITHOUT_INDEX, node, table=table, column=column, references=references))
    return hits
