"""Safeguards on one side of a Go, Ruby, JavaScript/TypeScript or SQL file.

Functions (the scopes statements are matched by) come from the syntax tree through ast-grep; the
safeguards themselves are recognised per line by the patterns in `line_patterns`, each line
clipped, comments skipped, so every match is bounded in time.
"""

from __future__ import annotations

from ast_grep_py import SgNode, SgRoot

from bot.analyzers.safeguards.eager_tree import eager_from_tree
from bot.analyzers.safeguards.line_patterns import PATTERNS, keys_of, unbounded, value_of
from bot.analyzers.safeguards.loop_calls import loop_calls
from bot.analyzers.safeguards.model import Kind, Safeguard, Side

MAX_LINE = 400
MAX_LINES = 30_000
LANGUAGES = {
    ".go": "go",
    ".rb": "ruby",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".sql": "sql",
}
_FUNCTIONS = {
    "go": ("function_declaration", "method_declaration"),
    "ruby": ("method", "singleton_method"),
    "javascript": ("function_declaration", "method_definition", "variable_declarator", "pair"),
    "typescript": ("function_declaration", "method_definition", "variable_declarator", "pair"),
    "tsx": ("function_declaration", "method_definition", "variable_declarator", "pair"),
}
_TABLE_BLOCKS = frozenset({"create_table", "change_table"})
_JS_FUNCTION_VALUES = ("arrow_function", "function_expression", "function")
_COMMENT = ("//", "#", "--", "/*", "*")


def language_of(path: str) -> str | None:
    dot = path.rfind(".")
    return LANGUAGES.get(path[dot:].lower()) if dot >= 0 else None


def _scopes(root: SgNode, language: str) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every named function, outermost first."""
    if language not in _FUNCTIONS:
        return []
    out: list[tuple[int, int, str]] = []
    for kind in _FUNCTIONS[language]:
        for node in root.find_all(kind=kind):
            if kind in ("variable_declarator", "pair"):
                value = node.field("value")
                if value is None or value.kind() not in _JS_FUNCTION_VALUES:
                    continue
                name_node = node.field("name") or node.field("key")
            else:
                name_node = node.field("name")
            rng = node.range()
            out.append((rng.start.line + 1, rng.end.line + 1, name_node.text() if name_node else "?"))
    if language == "ruby":  # a schema's `create_table "orders" do |t|` block scopes its indexes
        for call in root.find_all(kind="call"):
            method, args = call.field("method"), call.field("arguments")
            if method is not None and args is not None and method.text() in _TABLE_BLOCKS:
                rng = call.range()
                first = args.child(0) if args.children() else None
                name = first.text().strip("\"':") if first is not None else "?"
                out.append((rng.start.line + 1, rng.end.line + 1, f"table:{name}"))
    out.sort(key=lambda s: (s[0], -s[1]))
    return out


def _scope_at(scopes: list[tuple[int, int, str]], line: int) -> str:
    names = [name for first, last, name in scopes if first <= line <= last]
    return ".".join(names)


def line_side(text: str, language: str) -> Side:
    """The safeguards of a non-Python file; `parsed=False` when it is too large to read."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        return Side(parsed=False)
    root = SgRoot(text, language).root() if language in _FUNCTIONS else None
    scopes = _scopes(root, language) if root is not None else []
    side = Side()
    if root is not None and language in ("ruby", "javascript", "typescript", "tsx"):
        side.safeguards.extend(eager_from_tree(root, language, lambda n: _scope_at(scopes, n)))
    if root is not None:
        side.loops, side.calls = loop_calls(root, language, lambda n: _scope_at(scopes, n))
    side.scopes = {_scope_at(scopes, first) for first, _, _ in scopes}
    side.spans = {_scope_at(scopes, first): (first, last) for first, last, _ in scopes}
    family = "sql" if language == "sql" else "ruby" if language == "ruby" else "go" if language == "go" else "js"
    for number, raw in enumerate(lines, start=1):
        line = raw[:MAX_LINE]
        stripped = line.strip()
        if not stripped or (stripped.startswith(_COMMENT) and not (family == "go" and "gorm:" in stripped)):
            continue
        scope = _scope_at(scopes, number)
        for pattern in PATTERNS[family]:
            for match in pattern.regex.finditer(line):
                if pattern.kind is Kind.limit and unbounded(match):
                    continue
                for key in keys_of(pattern, match, line):
                    side.safeguards.append(
                        Safeguard(
                            pattern.kind,
                            key,
                            number,
                            number,
                            scope,
                            match.group(0).strip(),
                            value_of(match),
                            pattern.name,
                            match.start(),
                            match.end(),
                        )
                    )
    return side
