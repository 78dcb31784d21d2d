"""Sequelize and TypeORM associations awaited once per record inside a loop, found through the model graph.

A Sequelize association generates getters (`getAuthor`, `getComments`) that each run a SELECT; a TypeORM
lazy relation (a `Promise<...>` property) runs one on every access. Awaited in the body of a `for` loop
or of a `.map`/`.forEach` callback, that is one query per record. Other ORMs load nothing lazily (Prisma,
GORM, non-lazy TypeORM relations) and their per-item queries are the rule pack's await-in-loop rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ast_grep_py import SgNode, SgRoot

from bot.analyzers.relation_hits import Hit
from bot.facts.graph import RepoFacts

MAX_AWAITS = 2_000
# an awaited getter call or an awaited bare property: the only shapes this reads (cheap file filter)
CANDIDATE = re.compile(r"\bawait\s+[\w.]{1,200}\.(?:get[A-Z]\w*\(|\w+\s*[;),\n])")
MAX_DEPTH = 60
_FUNCTIONS = frozenset(
    {"function_declaration", "function_expression", "arrow_function", "method_definition", "function",
     "generator_function_declaration", "generator_function"}
)
_LOOPS = frozenset({"for_statement", "for_in_statement", "while_statement", "do_statement"})
_ITERATORS = frozenset({"map", "forEach", "flatMap", "filter", "reduce", "some", "every", "find"})


def _getters(facts: RepoFacts) -> tuple[dict[str, str], dict[str, str]]:
    """Sequelize getter name -> model.relation, and TypeORM lazy property -> model.relation."""
    getters: dict[str, str] = {}
    lazy: dict[str, str] = {}
    for model in facts.models.values():
        for rel in model.relations.values():
            if model.orm == "sequelize":
                getters[f"get{rel.name[:1].upper()}{rel.name[1:]}"] = f"{model.name}.{rel.name}"
            elif model.orm == "typeorm" and rel.loading == "lazy":
                lazy[rel.name] = f"{model.name}.{rel.name}"
    return getters, lazy


def _in_loop(node: SgNode) -> int:
    """The line of the loop whose body runs `node` once per item (same function), 0 when none."""
    current: SgNode | None = node.parent()
    child: SgNode = node
    for _ in range(MAX_DEPTH):
        if current is None:
            return 0
        kind = current.kind()
        if kind in _LOOPS:
            body = current.field("body")
            return current.range().start.line + 1 if body is not None and body.range() == child.range() else 0
        if kind in _FUNCTIONS:
            args = current.parent()
            call = args.parent() if args is not None and args.kind() == "arguments" else None
            fn = call.field("function") if call is not None and call.kind() == "call_expression" else None
            prop = fn.field("property") if fn is not None and fn.kind() == "member_expression" else None
            if call is None or prop is None or prop.text() not in _ITERATORS:
                return 0
            return call.range().start.line + 1
        child = current
        current = current.parent()
    return 0


def association_hits(
    text: str, language: str, facts: RepoFacts, touches: Callable[[int, int], bool],
    check: Callable[[], None] = lambda: None,
) -> list[Hit]:
    getters, lazy = _getters(facts)
    if not (getters or lazy) or "await" not in text:
        return []
    if not any(name in text for name in (*getters, *lazy)):
        return []
    root = SgRoot(text, language).root()
    hits: list[Hit] = []
    for count, aw in enumerate(root.find_all(kind="await_expression")):
        if count >= MAX_AWAITS:
            break
        check()
        inner = next((c for c in aw.children() if c.is_named()), None)
        if inner is None:
            continue
        what = ""
        if inner.kind() == "call_expression":
            fn = inner.field("function")
            prop = fn.field("property") if fn is not None and fn.kind() == "member_expression" else None
            if fn is not None and prop is not None and prop.text() in getters:
                what = f"`{fn.text()[:80]}()` ({getters[prop.text()]}, a Sequelize association getter)"
        elif inner.kind() == "member_expression":
            prop = inner.field("property")
            if prop is not None and prop.text() in lazy:
                what = f"`{inner.text()[:80]}` ({lazy[prop.text()]}, a TypeORM lazy relation)"
        if not what:
            continue
        loop = _in_loop(aw)
        line = aw.range().start.line + 1
        if loop and touches(min(loop, line), line):
            at = line if touches(line, line) else loop
            hits.append(Hit("js-association-per-record", at, at,
                            f"{what} is awaited once per item of the loop at line {loop}: one query per record",
                            0.85))
    return hits
