"""Alembic and Django migrations: operations that lock, rewrite or drop, found with ast-grep.

Alembic: only `upgrade*()` bodies (downgrades undo on purpose). Django: the forward side of each
operation (RunSQL's reverse_sql is ignored). Tables/models created in the same file are new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ast_grep_py import SgNode, SgRoot

from bot.analyzers import sql_script as sc
from bot.analyzers.migration_nodes import MAX_CALLS, embedded_sql_hits, name_of, node_hit, snippet
from bot.analyzers.migration_python_keys import alembic_unindexed_key_hits
from bot.analyzers.rule_info import Hit
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Severity

_ALEMBIC = re.compile(r"^[ \t]*(from\s+alembic\s+import|import\s+alembic)", re.MULTILINE)
_DJANGO = re.compile(r"^[ \t]*from\s+django\.db\s+import\s+.*\bmigrations\b", re.MULTILINE)
_INDEX_NAME = re.compile(r"\bname\s*=\s*[\"']([^\"']+)")
_NOT_NULL_CHECK = re.compile(r"is\s+not\s+null", re.IGNORECASE)
_REWRITING_FIELD = re.compile(r"\b(BigAutoField|BigIntegerField)\s*\(")
NOTE_ALTER_FIELD = (
    "AlterField to a 64-bit integer field usually changes the column type from integer to bigint; "
    "`manage.py sqlmigrate` shows whether it emits ALTER COLUMN ... TYPE."
)
NOTE_CLIENT_DEFAULT = "`default=` is applied by SQLAlchemy, not the database; existing rows need `server_default`."


@dataclass
class Call:
    node: SgNode
    func: str  # last part of the called name: create_index, AddIndex, ...
    args: list[SgNode] = field(default_factory=list)
    kwargs: dict[str, SgNode] = field(default_factory=dict)

    def arg(self, index: int, keyword: str) -> SgNode | None:
        return self.kwargs.get(keyword) or (self.args[index] if index < len(self.args) else None)

    def kw_text(self, keyword: str) -> str:
        node = self.kwargs.get(keyword)
        return node.text() if node is not None else ""


def _call(node: SgNode) -> Call | None:
    func, args = node.field("function"), node.field("arguments")
    if func is None or args is None:
        return None
    call = Call(node, func.text().rsplit(".", 1)[-1])
    for child in args.children():
        if child.kind() == "keyword_argument":
            name, value = child.field("name"), child.field("value")
            if name is not None and value is not None:
                call.kwargs[name.text()] = value
        elif child.is_named() and child.kind() not in ("comment", "list_splat", "dictionary_splat"):
            call.args.append(child)
    return call


def _calls(root: SgNode, prefix: str | None) -> list[Call]:
    out = []
    for node in root.find_all(kind="call")[:MAX_CALLS]:
        func = node.field("function")
        if func is None or (prefix is not None and not func.text().startswith(prefix)):
            continue
        call = _call(node)
        if call is not None:
            out.append(call)
    return out


def _function_name(node: SgNode) -> str:
    for anc in node.ancestors():
        if anc.kind() == "function_definition":
            name = anc.field("name")
            return name.text() if name is not None else ""
    return ""


def python_migration_hits(text: str, deadline: Deadline = NEVER) -> list[Hit]:
    """Hits in one Python migration file (Alembic or Django); [] for anything else."""
    if _ALEMBIC.search(text):
        return alembic_hits(SgRoot(text, "python").root(), bool(_NOT_NULL_CHECK.search(text)), deadline)
    if _DJANGO.search(text):
        return django_hits(SgRoot(text, "python").root(), deadline)
    return []


def _sql_of(node: SgNode | None, new: frozenset[str]) -> list[Hit]:
    """op.execute / RunSQL argument: a string, text("..."), or a list of strings."""
    if node is None:
        return []
    if node.kind() == "call":
        inner = _call(node)
        return _sql_of(inner.arg(0, "text"), new) if inner is not None and inner.func == "text" else []
    if node.kind() in ("list", "tuple"):
        return [h for child in node.children() if child.is_named() for h in _sql_of(child, new)]
    return embedded_sql_hits(node, new)


def _table_index(func: str) -> int:
    return 0 if func in ("add_column", "alter_column", "drop_column", "drop_table") else 1


def _batch_calls(calls: list[Call]) -> list[Call]:
    """`with op.batch_alter_table("t") as batch_op:` bodies, with the table put back into each call's arguments."""
    out: list[Call] = []
    for batch in (c for c in calls if c.func == "batch_alter_table"):
        pattern, table = batch.node.parent(), batch.arg(0, "table_name")
        alias = pattern.field("alias") if pattern is not None and pattern.kind() == "as_pattern" else None
        with_statement = next((a for a in batch.node.ancestors() if a.kind() == "with_statement"), None)
        if alias is None or table is None or with_statement is None:
            continue
        for c in _calls(with_statement, f"{alias.text()}."):
            c.args.insert(min(_table_index(c.func), len(c.args)), table)
            out.append(c)
    return out


def alembic_hits(root: SgNode, has_not_null_check: bool, deadline: Deadline = NEVER) -> list[Hit]:
    calls = [c for c in _calls(root, None) if _function_name(c.node).startswith("upgrade")]
    op_calls = [c for c in calls if c.node.text().startswith("op.")]
    calls = op_calls + _batch_calls(op_calls)
    new = frozenset(name_of(c.arg(0, "table_name")) for c in calls if c.func == "create_table") - {""}
    hits: list[Hit] = []
    for c in calls:
        deadline.check()
        if c.func == "execute":
            hits.extend(_sql_of(c.arg(0, "sqltext"), new))
            continue
        table_index = _table_index(c.func)
        table = name_of(c.arg(table_index, "table_name")) or name_of(c.arg(table_index, "source_table"))
        if table in new:
            continue
        hits.extend(_alembic_call(c, table or "?", has_not_null_check))
    return hits + alembic_unindexed_key_hits(calls, _call)


def _alembic_call(c: Call, table: str, has_not_null_check: bool) -> list[Hit]:
    if c.func == "create_index" and c.kw_text("postgresql_concurrently") != "True":
        return [node_hit(sc.CREATE_INDEX, c.node, table=table, index=_index_name(c.arg(0, "index_name")))]
    if c.func == "add_column":
        return _alembic_add_column(c, table)
    if c.func == "alter_column":
        column = name_of(c.arg(1, "column_name")) or "?"
        if "type_" in c.kwargs:
            return [node_hit(sc.ALTER_TYPE, c.node, table=table, column=column, type=snippet(c.kwargs["type_"]))]
        if c.kw_text("nullable") == "False" and not has_not_null_check:
            return [node_hit(sc.SET_NOT_NULL, c.node, table=table, column=column)]
    if c.func == "drop_column":
        return [node_hit(sc.DROP_COLUMN, c.node, table=table, column=name_of(c.arg(1, "column_name")) or "?")]
    if c.func == "drop_table":
        return [node_hit(sc.DROP_TABLE, c.node, table=table)]
    if c.func in ("create_foreign_key", "create_check_constraint") and c.kw_text("postgresql_not_valid") != "True":
        kind = "FOREIGN KEY" if c.func == "create_foreign_key" else "CHECK"
        return [
            node_hit(
                sc.CONSTRAINT_VALIDATES,
                c.node,
                table=table,
                constraint=_index_name(c.arg(0, "constraint_name")),
                kind=kind,
            )
        ]
    if c.func in ("create_unique_constraint", "create_primary_key"):
        constraint = _index_name(c.arg(0, "constraint_name"))
        return [node_hit(sc.CONSTRAINT_BUILDS_INDEX, c.node, table=table, constraint=constraint)]
    return []


def _index_name(node: SgNode | None) -> str:
    """'ix_a' from "ix_a" or op.f("ix_a")."""
    if node is not None and node.kind() == "call":
        inner = _call(node)
        node = inner.arg(0, "name") if inner is not None else None
    return name_of(node) or "(unnamed)"


def _alembic_add_column(c: Call, table: str) -> list[Hit]:
    column_node = c.arg(1, "column")
    column = _call(column_node) if column_node is not None and column_node.kind() == "call" else None
    if column is None or column.func != "Column":
        return []
    name = name_of(column.arg(0, "name")) or "?"
    default = column.kwargs.get("server_default")
    default_text = default.text() if default is not None else ""
    values = {"table": table, "column": name, "default": snippet(default) if default is not None else "none"}
    if any(f in default_text.lower() for f in sc.VOLATILE_FUNCTIONS) or "Identity(" in column.node.text():
        return [node_hit(sc.ADD_COLUMN_REWRITE, c.node, values=values)]
    not_null = column.kw_text("nullable") == "False" or column.kw_text("primary_key") == "True"
    if not_null and default is None:  # a constant server default is metadata-only (PostgreSQL 11+)
        note = NOTE_CLIENT_DEFAULT if "default" in column.kwargs else None
        return [node_hit(sc.ADD_COLUMN_NOT_NULL_NO_DEFAULT, c.node, note=note, values=values)]
    return []


def _state_only(node: SgNode) -> bool:
    """Inside SeparateDatabaseAndState(state_operations=[...]): no database change."""
    for anc in node.ancestors():
        if anc.kind() == "keyword_argument":
            name = anc.field("name")
            if name is not None and name.text() == "state_operations":
                return True
    return False


def django_hits(root: SgNode, deadline: Deadline = NEVER) -> list[Hit]:
    calls = [c for c in _calls(root, None) if not _state_only(c.node)]
    new = frozenset(name_of(c.arg(0, "name")) for c in calls if c.func == "CreateModel") - {""}
    hits: list[Hit] = []
    for c in calls:
        deadline.check()
        if c.func == "RunSQL":
            hits.extend(_sql_of(c.arg(0, "sql"), new))
            continue
        model = name_of(c.arg(0, "name" if c.func == "DeleteModel" else "model_name"))
        if model and model not in new:
            hits.extend(_django_operation(c, model))
    return hits


def _django_operation(c: Call, model: str) -> list[Hit]:
    if c.func == "AddIndex":
        index = c.arg(1, "index")
        named = _INDEX_NAME.search(index.text()) if index is not None else None
        return [node_hit(sc.CREATE_INDEX, c.node, table=model, index=named.group(1) if named else "(unnamed)")]
    if c.func == "AddField":
        field_node = c.arg(2, "field")
        text = field_node.text() if field_node is not None else ""
        if re.search(r"\b(db_index|unique)\s*=\s*True", text) and "ForeignKey" not in text:
            return [node_hit(sc.CREATE_INDEX, c.node, table=model, index=f"on {name_of(c.arg(1, 'name'))}")]
    if c.func == "AlterField":
        field_node = c.arg(2, "field")
        rewriting = _REWRITING_FIELD.search(field_node.text()) if field_node is not None else None
        if rewriting is None:
            return []
        column = name_of(c.arg(1, "name")) or "?"
        return [
            node_hit(
                sc.ALTER_TYPE,
                c.node,
                severity=Severity.medium,
                confidence=0.6,
                note=NOTE_ALTER_FIELD,
                table=model,
                column=column,
                type=rewriting.group(1),
            )
        ]
    if c.func == "RemoveField":
        return [node_hit(sc.DROP_COLUMN, c.node, table=model, column=name_of(c.arg(1, "name")) or "?")]
    if c.func == "DeleteModel":
        return [node_hit(sc.DROP_TABLE, c.node, table=model)]
    if c.func == "AddConstraint":
        constraint = c.arg(1, "constraint")
        text = snippet(constraint) if constraint is not None else ""
        if "CheckConstraint" in text:
            return [node_hit(sc.CONSTRAINT_VALIDATES, c.node, table=model, constraint=text, kind="CHECK")]
        if "UniqueConstraint" in text:
            return [node_hit(sc.CONSTRAINT_BUILDS_INDEX, c.node, table=model, constraint=text)]
    return []
