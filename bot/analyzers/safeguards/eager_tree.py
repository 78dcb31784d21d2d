"""Eager-loading declarations read from the syntax tree (ast-grep) for Ruby and JavaScript/TypeScript,
where they often span many lines: `includes(:a, b: :c)`, `includes: [...]` options, methods and
variables named `*_includes`; `include:` / `relations:` / `with:` objects of Sequelize, Prisma, TypeORM
and Drizzle. One safeguard per relation named, on the line that names it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from ast_grep_py import Rule, SgNode

from bot.analyzers.safeguards.model import Kind, Safeguard

RUBY_METHODS = frozenset({"includes", "preload", "eager_load"})
JS_KEYS = frozenset({"include", "relations", "with", "populate"})
MAX_RELATIONS = 2_000  # per side
_RUBY_NAMES: list[Rule] = [{"kind": "simple_symbol"}, {"kind": "hash_key_symbol"}, {"kind": "string_content"}]
_JS_NAMES: list[Rule] = [{"kind": "property_identifier"}, {"kind": "identifier"}, {"kind": "string_fragment"}]
_SKIP = frozenset(
    {
        "model",
        "as",
        "where",
        "required",
        "attributes",
        "include",
        "through",
        "true",
        "false",
        "select",
        "orderBy",
        "order",
        "take",
        "skip",
        "limit",
        "relations",
        "with",
        "nested",
        "all",
        "separate",
        "right",
        "paranoid",
        "duplicating",
    }
)


def _names(node: SgNode, kinds: list[Rule]) -> Iterator[tuple[str, int]]:
    for name in node.find_all(any=kinds):
        text = name.text().lstrip(":").strip("\"'")
        if text and text not in _SKIP and len(text) <= 80:
            yield text.lower(), name.range().start.line + 1


def _ruby_holders(root: SgNode) -> Iterator[tuple[SgNode, str]]:
    """Nodes that hold eager-loaded relations, with the query they load for (the receiver) when known."""
    for call in root.find_all(kind="call"):
        method = call.field("method")
        args = call.field("arguments")
        if method is not None and args is not None and method.text() in RUBY_METHODS:
            receiver = call.field("receiver")
            yield args, "".join(receiver.text().split())[:200] if receiver is not None else ""
    for pair in root.find_all(kind="pair"):
        key = pair.field("key")
        value = pair.field("value")
        if key is not None and value is not None and key.text().lstrip(":").rstrip(":") in RUBY_METHODS:
            yield value, ""
    for method in root.find_all(kind="method"):
        name = method.field("name")
        if name is not None and name.text().endswith("includes"):
            yield method, ""
    for assign in root.find_all(kind="assignment"):
        left = assign.field("left")
        right = assign.field("right")
        if left is not None and right is not None and left.text().endswith("includes"):
            yield right, ""


def _js_relations(holder: SgNode, relations_only: bool = False) -> Iterator[tuple[str, int]]:
    """Relations a JS/TS include value names at its own level: the keys of an object, the entries of an
    array (`User`, `"author"`, `{ model: User, as: "owner" }`); never the keys of `where`/`select` inside."""
    if holder.kind() in ("identifier", "string"):
        yield from _names(holder, _JS_NAMES)
        return
    for child in holder.children():
        if child.kind() == "pair":
            key = child.field("key")
            value = child.field("value")
            if relations_only and (value is None or value.kind() != "object"):
                continue  # `select: { email: true }` names a column, `select: { team: {...} }` a relation
            if key is not None:
                yield from _names(key, _JS_NAMES)
        elif child.kind() in ("identifier", "string", "shorthand_property_identifier"):
            text = child.text().strip("\"'`")
            if text and text not in _SKIP:
                yield text.lower(), child.range().start.line + 1
        elif child.kind() == "object":
            for pair in child.children():
                key = pair.field("key") if pair.kind() == "pair" else None
                value = pair.field("value") if pair.kind() == "pair" else None
                if key is not None and value is not None and key.text() in ("as", "model", "association"):
                    yield value.text().strip("\"'`").lower(), value.range().start.line + 1
                    break


def _js_query(node: SgNode) -> str:
    """The call an include object is an argument of (`prisma.post.findMany`), whitespace removed."""
    current: SgNode | None = node
    for _ in range(8):
        current = current.parent() if current is not None else None
        if current is None:
            return ""
        if current.kind() == "call_expression":
            callee = current.field("function")
            return "".join(callee.text().split())[:200] if callee is not None else ""
    return ""


def _js_holders(root: SgNode) -> Iterator[tuple[SgNode, bool, str]]:
    """Include-like values, whether only nested objects count as relations (Prisma `select`), and their query."""
    for pair in root.find_all(kind="pair"):
        key = pair.field("key")
        value = pair.field("value")
        if key is None or value is None or value.kind() not in ("object", "array", "identifier", "string"):
            continue
        name = key.text().strip("\"'")
        if name in JS_KEYS or (name == "select" and value.kind() == "object"):
            yield value, name == "select", _js_query(pair)


def _ruby_attached(root: SgNode) -> Iterator[tuple[str, int, str]]:
    """Active Storage's `with_attached_logo` scope preloads the `logo` attachment and its blob."""
    for call in root.find_all(kind="call", has={"field": "method", "regex": "^with_attached_\\w+$"}):
        method = call.field("method")
        if method is not None:
            receiver = call.field("receiver")
            query = "".join(receiver.text().split())[:200] if receiver is not None else ""
            yield method.text()[len("with_attached_") :].lower(), method.range().start.line + 1, query


def eager_from_tree(root: SgNode, language: str, scope_at: Callable[[int], str]) -> list[Safeguard]:
    """Every relation named by an eager-loading declaration of a Ruby or JS/TS file."""
    named: Iterator[tuple[str, int, str]]
    if language == "ruby":
        named = itertools.chain(
            ((n, line, q) for holder, q in _ruby_holders(root) for n, line in _names(holder, _RUBY_NAMES)),
            _ruby_attached(root),
        )
    else:
        named = ((n, line, q) for holder, sel, q in _js_holders(root) for n, line in _js_relations(holder, sel))
    seen: set[tuple[str, int]] = set()
    out: list[Safeguard] = []
    lines = root.text().splitlines()
    for name, line, query in named:
        if (name, line) in seen:
            continue
        seen.add((name, line))
        target = f"eager:{query}" if query else "eager"
        quote = lines[line - 1].strip()[:200] if line <= len(lines) else name
        out.append(Safeguard(Kind.eager_loading, f"eager:{name}", line, line, scope_at(line), quote, None, target))
        if len(out) >= MAX_RELATIONS:
            break
    return out
