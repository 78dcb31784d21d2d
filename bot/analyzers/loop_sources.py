"""Whether the Python loops around a line run over what the function's caller handed in (pure, bounded).

A per-item query gates the merge when the loop grows with stored data: it iterates a queryset, a relation, rows a
helper fetched. When every loop around the line instead runs over the function's own input (a parameter, a request
payload, or a value computed from those by plain transformations: `.items()`, `.get()`, comprehensions, a
normalising helper), the number of items is whatever one caller sends. The finding still stands, but the review
cannot see how large that grows: `caller_sized` says so, and the finding is shown without gating.

Conservative on purpose. Any sign of stored data keeps the finding as it was: a query chain (`.objects`, `.all()`,
`.filter(`, a session, `execute`), an attribute read on a name (a relation, possibly lazy), a call whose name
fetches (`get_users(...)`, `load_`, `find`, `query`, `list_`), a name the function does not bind (a module global),
a parameter named for rows (`queryset`, `qs`, `objects`, `rows`, `records`), a `while` loop. Names are followed
through the function's assignments at most `MAX_DEPTH` deep; every scan is linear in the function's lines.
"""

from __future__ import annotations

import re

from bot.analyzers.literal_bounds import enclosing_loops, function_range, split_top

MAX_DEPTH = 3  # local names followed back through their assignments
MAX_EXPRESSION = 400  # characters of one expression read
MAX_ASSIGNMENTS = 8  # assignments of one name read before giving up
MAX_CONTINUATION = 12  # lines one statement may span

_QUERY = re.compile(
    r"\.objects\b|_set\b|\.(?:all|filter|exclude|order_by|select_related|prefetch_related|values_list|iterator|"
    r"annotate|distinct|only|defer|using|scalars|execute|fetchall|fetchmany|raw|query)\s*\("
    r"|\b(?:session|db|cursor|conn|connection)\.|\.query\b|\bselect\s*\(|\bQuerySet\b"
)
_REQUEST_DATA = re.compile(
    r"\brequest\.(?:data|POST|GET|query_params|json|form|args|FILES|body)\b|\b(?:cleaned_data|validated_data|initial_data)\b"
)
_FETCH_NAME = re.compile(
    r"^_*(?:get_|load|fetch|find|query|search|select|list|all$|filter|scalars|execute|iterator|paginate|read_|scan)",
    re.IGNORECASE,
)
_SAFE_METHODS = frozenset({
    "get", "items", "keys", "values", "split", "strip", "lstrip", "rstrip", "lower", "upper", "copy", "pop",
    "splitlines", "replace", "format", "encode", "decode", "setdefault",
})
_ROWS_PARAMETER = re.compile(r"(?:^|_)(?:queryset|qs|objects|rows|records|results|instances)$")
_KEYWORDS = frozenset({
    "for", "in", "if", "else", "and", "or", "not", "is", "lambda", "None", "True", "False", "await", "async",
})
_BUILTINS = frozenset({
    "len", "list", "set", "tuple", "dict", "sorted", "reversed", "enumerate", "zip", "map", "filter", "str",
    "int", "float", "bool", "range", "min", "max", "sum", "any", "all", "isinstance", "iter", "frozenset",
    "super", "json", "loads",
})
_STRING = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"")
_TOKEN = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(\s*\.\s*\w+)*(\s*\()?")
_COMP_TARGET = re.compile(r"\bfor\s+([\w\s,()]{1,100}?)\s+in\b")
_KEYWORD_ARGUMENT = re.compile(r"\s*=(?!=)")
_LOOP_TARGET = re.compile(r"^\s*(?:async\s+)?for\s+(.{1,200}?)\s+in\s")


def caller_sized(lines: list[str], line: int, lookback: int) -> str | None:
    """Why the loops around `line` (1-based) run over the caller's input, or None when one may run over stored
    data (or there is no loop)."""
    loops = list(enclosing_loops(lines, line, lookback))
    if not loops or any(iterable is None for _, iterable in loops):
        return None
    function = function_range(lines, loops[-1][0])
    if function is None:
        return None
    start, _end, parameter_text = function
    parameters = _parameter_names(parameter_text)
    loop_names = {name for index, _ in loops for name in _targets(lines[index])}
    origins: list[str] = []
    for index, iterable in loops:
        origin = _origin(lines, iterable or "", start, index, parameters, loop_names, MAX_DEPTH)
        if origin is None:
            return None
        origins.append(origin)
    return f"the loop runs over {origins[-1]}: its size is whatever the caller sends, which this code does not show"


def _parameter_names(text: str) -> set[str]:
    names = set()
    for part in split_top(text[:MAX_EXPRESSION]):
        name = part.split(":", 1)[0].split("=", 1)[0].strip().lstrip("*").strip()
        if name.isidentifier() and name not in ("self", "cls"):
            names.add(name)
    return names


def _targets(header: str) -> set[str]:
    match = _LOOP_TARGET.match(header)
    return set(re.findall(r"\w+", match.group(1))) if match else set()


def _origin(
    lines: list[str], expression: str, start: int, before: int, parameters: set[str], loop_names: set[str], depth: int
) -> str | None:
    """Where `expression` (read in the function from `start`, above index `before`) gets its items: a description
    of the caller's input, or None when it may be stored data."""
    text = _STRING.sub("''", expression[:MAX_EXPRESSION])
    if _REQUEST_DATA.search(text):
        return "the request's data"
    if _QUERY.search(text):
        return None
    bound = {name for group in _COMP_TARGET.findall(text) for name in re.findall(r"\w+", group)}
    origin = "a literal"
    for match in _TOKEN.finditer(text):
        name, called = match.group(1), match.group(3)
        if name in _KEYWORDS or name in bound or _KEYWORD_ARGUMENT.match(text, match.end()):
            continue
        chain = [part.strip(" .") for part in re.findall(r"\.\s*\w+", match.group(0))]
        callee = chain[-1] if chain else name
        if called and _FETCH_NAME.match(callee) and callee not in _SAFE_METHODS:
            return None  # a helper that fetches rows
        if called and not chain:
            continue  # a function or class called: its arguments carry the items
        if name in ("self", "cls"):
            if called and len(chain) == 1:
                continue  # a method of the object: its arguments carry the items
            return None  # state of the object, not this call's input
        if len(chain) > (1 if called else 0):
            return None  # an attribute read: possibly a relation
        if name in loop_names:
            continue
        if name in parameters:
            if _ROWS_PARAMETER.search(name):
                return None
            origin = f"`{name}`, passed in by the caller"
            continue
        local = _local_origin(lines, name, start, before, parameters, loop_names, depth)
        if local is None:
            return None
        origin = local
    return origin


def _local_origin(
    lines: list[str], name: str, start: int, before: int, parameters: set[str], loop_names: set[str], depth: int
) -> str | None:
    if depth <= 0:
        return None
    assign = re.compile(rf"^\s*(?:[\w\s,]*,\s*)?{re.escape(name)}\s*(?:,[\w\s,]*)?(?::[^=]{{0,100}})?=(?!=)\s*(.*)$")
    grown = re.compile(
        rf"(?<![\w.]){re.escape(name)}\s*(?:\.(?:append|extend|add|update|insert)\(|\[[^\]]{{0,200}}\]\s*=|[+|]=)"
    )
    origins: list[str] = []
    for row in range(start + 1, min(before, len(lines))):
        text = lines[row]
        if name not in text:
            continue
        if grown.search(text) or _LOOP_TARGET.match(text) and name in _targets(text):
            return None  # filled item by item or rebound by another loop: not followed
        match = assign.match(text)
        if match is None:
            continue
        if len(origins) >= MAX_ASSIGNMENTS:
            return None
        value = match.group(1)
        value = _statement_tail(lines, row, value)
        origin = _origin(lines, value, start, row, parameters, loop_names, depth - 1)
        if origin is None:
            return None
        origins.append(origin)
    if not origins:
        return None  # not bound in this function: a global, a closure, a name we cannot follow
    return next((o for o in reversed(origins) if o != "a literal"), origins[-1])


def _statement_tail(lines: list[str], row: int, value: str) -> str:
    """`value` (the right-hand side on line `row`) with the lines that continue it while a bracket is open."""
    depth = 0
    parts = [value]
    for j in range(row, min(len(lines), row + MAX_CONTINUATION)):
        text = value if j == row else lines[j].strip()
        if j != row:
            parts.append(text)
        depth += sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")
        if depth <= 0 and not text.endswith("\\"):
            break
    return " ".join(parts)[:MAX_EXPRESSION]
