"""Shared pieces of the framework-migration checks: syntax nodes -> hits, string literals -> SQL checks."""

from __future__ import annotations

import re

from ast_grep_py import SgNode

from bot.analyzers.rule_info import Hit
from bot.analyzers.sql_checks import embedded_sql_issues
from bot.core.model import Severity

MAX_CALLS = 5_000
MAX_SNIPPET_CHARS = 100
STRING_KINDS = frozenset({"string", "template_string"})
_PY_PREFIX = re.compile(r"^([rRbBuUfF]{0,2})('''|\"\"\"|'|\"|`)")


def snippet(node: SgNode) -> str:
    one = " ".join(node.text().split())
    return one if len(one) <= MAX_SNIPPET_CHARS else one[: MAX_SNIPPET_CHARS - 1] + "…"


def node_hit(
    rule_id: str,
    node: SgNode,
    *,
    severity: Severity | None = None,
    note: str | None = None,
    confidence: float | None = None,
    values: dict[str, str] | None = None,
    **fields: str,
) -> Hit:
    """A hit spanning the node's lines; evidence values default to a one-line snippet of it."""
    r = node.range()
    values = {"statement": snippet(node), **(values or {}), **fields}
    return Hit(
        rule_id=rule_id,
        start_line=r.start.line + 1,
        end_line=r.end.line + 1,
        code=node.text(),
        values=values,
        severity=severity,
        confidence=confidence,
        note=note,
    )


def string_literal(node: SgNode | None) -> tuple[str, int] | None:
    """A plain string literal's content and the 1-based line its content starts on; None otherwise."""
    if node is None or node.kind() not in STRING_KINDS:
        return None
    text = node.text()
    m = _PY_PREFIX.match(text)
    if not m or "b" in m.group(1).lower():
        return None
    quote = m.group(2)
    if not text.endswith(quote) or len(text) < m.end() + len(quote):
        return None
    return text[m.end() : len(text) - len(quote)], node.range().start.line + 1


_TEMPLATE_PARAM = re.compile(r"\$\{([^{}\n]{1,80})\}")


def named_placeholders(sql: str) -> str:
    """`${table}` of a JS template string as an identifier (`tpl_table`): the same expression names the same
    table everywhere in the string, so `CREATE TABLE ${table}` makes `CREATE INDEX ... ON ${table}` a new table's."""
    return _TEMPLATE_PARAM.sub(lambda m: "tpl_" + re.sub(r"\W+", "_", m.group(1)).strip("_")[:40], sql)


def name_of(node: SgNode | None) -> str:
    """A table or model name given as a string literal, case-folded; '' when not a literal."""
    lit = string_literal(node)
    return lit[0].strip().strip('"').lower() if lit else ""


def embedded_sql_hits(node: SgNode | None, new_tables: frozenset[str]) -> list[Hit]:
    """Run the SQL checks on a string literal that holds SQL, mapping lines into the file."""
    lit = string_literal(node)
    if lit is None:
        return []
    sql, first_line = lit
    hits = []
    for issue, first, last in embedded_sql_issues(named_placeholders(sql), new_tables):
        hits.append(
            Hit(
                rule_id=issue.rule_id,
                start_line=first_line + first - 1,
                end_line=first_line + last - 1,
                code=issue.code,
                values=issue.values,
                severity=issue.severity,
                note=issue.note,
            )
        )
    return hits
