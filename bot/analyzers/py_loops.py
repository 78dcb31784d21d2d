"""The loops and comprehensions of a Python module whose body runs once per item (pure `ast` reading)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator


def _targets(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def per_item_loops(
    tree: ast.Module, small: Callable[[ast.expr], bool]
) -> Iterator[tuple[ast.expr, set[str], list[ast.AST]]]:
    """(iterable, names bound per item, nodes run per item) of each `for` loop and comprehension whose
    iterable `small` does not call visibly small. A comprehension's per-item nodes are its element (key and
    value for a dict) and its `if` filters; the iterable is its first generator's."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            if not small(node.iter):
                yield node.iter, _targets(node.target), list(node.body)
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            gen = node.generators[0]
            if small(gen.iter):
                continue
            element: list[ast.AST] = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            yield gen.iter, _targets(gen.target), [*element, *[c for g in node.generators for c in g.ifs]]
