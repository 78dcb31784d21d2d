"""`x in obj.relation`: a membership test that loads the whole related collection to find one row.

Reading a to-many relation (a SQLAlchemy relationship with the default lazy loading, a Django related
manager's `.all()`) fetches every related row; `in` then scans them in Python. One row's membership is
one indexed query (`exists`, `filter(...).first()`, Django's `QuerySet.contains()`). A property of the
model that returns a to-many relation (or a tuple built from one) counts as the relation. The object is
typed by its variable's name (`group` -> Group), so the hit stays below the gate.
"""

from __future__ import annotations

import ast

from bot.analyzers.relation_hits import Hit
from bot.facts.graph import Model, RepoFacts
from bot.facts.other_orms import camelize

RULE = "py-membership-loads-relation"
MAX_HITS = 20


def membership_hits(tree: ast.Module, facts: RepoFacts) -> list[Hit]:
    hits: list[Hit] = []
    for node in ast.walk(tree):
        if len(hits) >= MAX_HITS:
            break
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))):
            continue
        found = _relation_read(node.comparators[0], facts)
        if found is not None:
            var, model, rel, via = found
            text = ast.unparse(node)[:160]
            how = f" (a property reading `{via}`)" if via else ""
            hits.append(Hit(RULE, node.lineno, node.end_lineno or node.lineno,
                            f"`{text}` loads every row of `{var}.{rel}`{how}, {model.name}'s to-many relation, "
                            "to test one", 0.75))
    return hits


def _relation_read(node: ast.expr, facts: RepoFacts) -> tuple[str, Model, str, str] | None:
    """(variable, model, attribute, relation behind a property) when `node` reads a whole to-many relation."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "all"
            and not node.args):
        node = node.func.value  # Django: `obj.rel.all()`
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        return None
    var, attr = node.value.id, node.attr
    model = facts.models.get(camelize(var))
    if model is None or model.orm not in ("django", "sqlalchemy"):
        return None
    rel = model.relations.get(attr)
    if rel is not None:
        return (var, model, attr, "") if rel.many and not rel.eager_by_default and rel.loading != "dynamic" else None
    for read in sorted(model.method_reads.get(attr, set())):
        inner = model.relations.get(read)
        if inner is not None and inner.many and not inner.eager_by_default and inner.loading != "dynamic":
            return var, model, attr, read
    return None
