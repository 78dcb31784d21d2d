"""Hoisting evidence for Go, Ruby and JavaScript/TypeScript: the loops of one side and the costly calls
in and around them, read from the syntax tree.

Only calls whose cost is documented to be worth doing once are kept: compiling a pattern or template,
building an HTTP/database/Redis client or pool, preparing a statement, and database queries. A cheap
call moved into a loop is not a question worth asking, so the vocabulary is closed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ast_grep_py import SgNode

from bot.analyzers.safeguards.model import LoopCall

MAX_CALLS = 4_000
MAX_TARGET = 80

# Loops: the node kinds that repeat their body, and (for Ruby and JS) the iterator methods whose block or
# callback runs once per item.
_LOOP_KINDS = {
    "go": ("for_statement",),
    "ruby": ("for", "while", "until"),
    "javascript": ("for_statement", "for_in_statement", "while_statement", "do_statement"),
}
_ITERATORS = re.compile(
    r"^(each|each_with_index|each_with_object|map|flat_map|collect|select|reject|filter_map|find_each|"
    r"find_in_batches|times|sum|forEach|flatMap|filter|reduce|some|every|find)$"
)
_CALL_KINDS = {
    "go": ("call_expression",),
    "ruby": ("call",),
    "javascript": ("call_expression", "new_expression"),
}
# Costly calls, by language: the target text (callee, or `new Callee`) must match.
_COSTLY = {
    "go": re.compile(
        r"^regexp\.(Must)?Compile(POSIX)?$|^template\.(Must|New|ParseFiles|ParseGlob)$|^(sql|sqlx|gorm)\.(Open|Connect)$"
        r"|\.(Prepare|PrepareContext|Preparex|PrepareNamed)$|^(redis|http|grpc)\.(NewClient|Dial|DialContext)$"
        r"|\.(Query|QueryRow|QueryContext|QueryRowContext|Queryx|Select|Get|Find|First|Count|Pluck)$"
    ),
    "ruby": re.compile(
        r"^Regexp\.(new|union|compile)$|^(Redis|Faraday|HTTPClient|Net::HTTP|Mysql2::Client|PG|Aws::\w+::Client|"
        r"Elasticsearch::Client|OpenSearch::Client|ConnectionPool|Redis::Cluster|[A-Z]\w*(Client|Connection|Pool))"
        r"\.(new|start|connect)$"
        r"|^[A-Z][\w:]*\.(where|find|find_by|find_by!|pluck|count|exists\?|sum|maximum|minimum|ids|all)$"
    ),
    "javascript": re.compile(
        r"^new (RegExp|[A-Z]\w*(Client|Pool|Redis|Connection|Agent))$|^(axios|got|ky)\.(create|extend)$"
        r"|^(createClient|createPool|createConnection|mysql\.createPool|knex|new PrismaClient)$|\.prepare$"
        r"|\.(findMany|findFirst|findUnique|findOne|findOneBy|findAll|findBy|findByPk|findAndCountAll|count"
        r"|aggregate|getMany|getOne|query)$"
    ),
}


def _family(language: str) -> str:
    return "javascript" if language in ("typescript", "tsx") else language


def _line(node: SgNode) -> int:
    return node.range().start.line + 1


def _target(node: SgNode, family: str) -> str:
    if family == "ruby":
        method, receiver = node.field("method"), node.field("receiver")
        if method is None:
            return ""
        return f"{receiver.text()}.{method.text()}" if receiver is not None else method.text()
    if node.kind() == "new_expression":
        ctor = node.field("constructor")
        return f"new {ctor.text()}" if ctor is not None else ""
    fn = node.field("function")
    return fn.text() if fn is not None else ""


def _loops(root: SgNode, family: str) -> dict[int, tuple[int, int]]:
    """Loop header line -> (first, last) line of the body's span, for every loop of the side."""
    out: dict[int, tuple[int, int]] = {}
    for kind in _LOOP_KINDS[family]:
        for node in root.find_all(kind=kind):
            rng = node.range()
            out.setdefault(rng.start.line + 1, (rng.start.line + 1, rng.end.line + 1))
    if family == "ruby":
        for call in root.find_all(kind="call"):
            method, block = call.field("method"), call.field("block")
            if method is not None and block is not None and _ITERATORS.match(method.text()):
                rng = block.range()
                out.setdefault(call.range().start.line + 1, (rng.start.line + 1, rng.end.line + 1))
    elif family == "javascript":
        for call in root.find_all(kind="call_expression"):
            fn, args = call.field("function"), call.field("arguments")
            if fn is None or args is None or fn.kind() != "member_expression":
                continue
            prop = fn.field("property")
            if prop is None or not _ITERATORS.match(prop.text()):
                continue
            callback = next((c for c in args.children() if c.kind() in ("arrow_function", "function_expression")), None)
            if callback is not None:
                rng = callback.range()
                out.setdefault(call.range().start.line + 1, (rng.start.line + 1, rng.end.line + 1))
    return out


def loop_calls(
    root: SgNode, language: str, scope_at: Callable[[int], str]
) -> tuple[dict[int, tuple[int, int]], list[LoopCall]]:
    """The side's loops and its costly calls, each with the innermost loop it runs in (0: none)."""
    family = _family(language)
    if family not in _LOOP_KINDS:
        return {}, []
    costly = _COSTLY[family]
    loops = _loops(root, family)
    spans = sorted(((header, first, last) for header, (first, last) in loops.items()), key=lambda s: s[0])
    calls: list[LoopCall] = []
    for kind in _CALL_KINDS[family]:
        for node in root.find_all(kind=kind):
            target = " ".join(_target(node, family).split())
            if not target or len(target) > MAX_TARGET or not costly.search(target):
                continue
            line = _line(node)
            # the innermost loop whose body holds the call, never its own header line (the iterable)
            inner = [h for h, first, last in spans if first <= line <= last and line != h]
            calls.append(LoopCall(target, line, scope_at(line), max(inner) if inner else 0))
            if len(calls) >= MAX_CALLS:
                return loops, calls
    return loops, calls
