"""Model methods that query, called once per loop item (N+1 through a helper on the model).

A Django or SQLAlchemy model method (or property) whose body runs a query (`facts.Model.query_methods`)
costs one query per call. Called on each item of a loop or comprehension, it is an N+1 that no eager
load fixes, hidden behind a method name. The item is typed by the method's name: only a name that one
model alone declares as querying, and that is not a common container or ORM verb, is taken; a call on
the model class itself (`Favorite.is_favorite(...)`) names its model.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable, Iterator

from bot.analyzers.py_loops import per_item_loops
from bot.analyzers.relation_hits import Hit
from bot.facts.graph import Model, RepoFacts
from bot.facts.other_orms import camelize

RULE = "py-model-query-method-per-item"
MAX_LOOPS = 500
MAX_HITS = 20
GENERIC = frozenset({
    "get", "find", "load", "create", "all", "save", "delete", "update", "filter", "count", "first", "exists",
    "refresh", "refresh_from_db", "reload", "query", "execute", "run", "process", "clean", "full_clean",
    "validate", "to_dict", "as_dict", "dict", "serialize", "copy", "items", "keys", "values", "close", "open",
    "send", "render", "format", "check", "build", "add", "remove", "set", "clear", "pop", "append", "extend",
})


def _unique_methods(facts: RepoFacts) -> dict[str, Model]:
    """Query methods that name one model: a compound name (`get_registration`, not `status`), declared by
    one model only (a subclass that inherits it counts with its base), and no model has a field, a
    relation or another method of that name (`severity` may be a column elsewhere)."""
    owners: dict[str, set[str]] = {}
    other: Counter[str] = Counter()
    for model in facts.models.values():
        other.update(set(model.fields) | set(model.relations))
        for name in model.methods:
            if name in model.query_methods:
                owners.setdefault(name, set()).add(f"{model.path}:{model.query_methods[name]}")
            else:
                other[name] += 1
    out: dict[str, Model] = {}
    for model in facts.models.values():
        for name in model.query_methods:
            if len(owners.get(name, ())) == 1 and not other[name] and "_" in name.strip("_") and name not in GENERIC:
                out.setdefault(name, model)
    return out


def _named_otherwise(var: str, model: Model, facts: RepoFacts) -> bool:
    """The loop variable is named after another model (`alert_group` for an AlertReceiveChannel method)."""
    named = facts.models.get(camelize(var))
    return named is not None and named.name != model.name


def _small(node: ast.expr) -> bool:
    """A literal collection, `range(<literal>)` or an UPPER_CASE constant: visibly small."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Constant)):
        return True
    if isinstance(node, ast.Name) and node.id.isupper():
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and len(node.args) == 1 and isinstance(node.args[0], ast.Constant))


def _walk(nodes: list[ast.AST]) -> Iterator[ast.AST]:
    """The nodes under `nodes`, not entering nested functions, classes or lambdas (they run elsewhere)."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def model_method_hits(tree: ast.Module, facts: RepoFacts, touches: Callable[[int, int], bool]) -> list[Hit]:
    unique = _unique_methods(facts)
    hits: dict[int, Hit] = {}
    for count, (_iterable, names, body) in enumerate(per_item_loops(tree, _small)):
        if count >= MAX_LOOPS or len(hits) >= MAX_HITS:
            break
        for node in _walk(body):
            hit = _per_item(node, names, unique, facts)
            if hit is not None and touches(hit.start_line, hit.end_line):
                hits.setdefault(hit.start_line, hit)
    return list(hits.values())


def _per_item(node: ast.AST, names: set[str], unique: dict[str, Model], facts: RepoFacts) -> Hit | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        owner, method = node.func.value.id, node.func.attr
        model = facts.models.get(owner)
        if model is not None and model.orm in ("django", "sqlalchemy") and method in model.query_methods:
            return _hit(node, f"{owner}.{method}", model, method, 0.8)
        if (owner in names and method in unique and method not in unique[method].query_properties
                and not _named_otherwise(owner, unique[method], facts)):
            return _hit(node, f"{owner}.{method}", unique[method], method, 0.7)
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names
            and node.attr in unique and node.attr in unique[node.attr].query_properties
            and not _named_otherwise(node.value.id, unique[node.attr], facts)):
        return _hit(node, f"{node.value.id}.{node.attr}", unique[node.attr], node.attr, 0.7)
    return None


def _hit(node: ast.AST, text: str, model: Model, method: str, confidence: float) -> Hit:
    line = getattr(node, "lineno", 1)
    evidence = (f"`{text}` runs a query each time ({model.name}.{method}, {model.path}:"
                f"{model.query_methods[method]}), once for every item of the loop")
    return Hit(RULE, line, getattr(node, "end_lineno", line) or line, evidence, confidence)
