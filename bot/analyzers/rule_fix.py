"""Turn a rule's fix into a GitHub suggestion: whole replacement lines that still parse.

Two kinds of fix: an ast-grep style template (`fix:`, metavariables `$X` and `$$$X` expanded from
the match) and `add_argument:` (append one argument to the matched call, keeping its layout:
same line for a one-line call, a new indented line for a call whose arguments are one per line).
"""

from __future__ import annotations

import functools
import re

from ast_grep_py import SgNode, SgRoot

_METAVAR = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)|\$([A-Z_][A-Z0-9_]*)")
_ARGUMENT_LISTS = ("argument_list", "arguments")
MAX_ERROR_NODES = 10_000


def _span(nodes: list[SgNode], text: str) -> str:
    """Source text from the first to the last node, without a trailing separator comma."""
    while nodes and nodes[-1].text() == ",":
        nodes = nodes[:-1]
    if not nodes:
        return ""
    return text[nodes[0].range().start.index : nodes[-1].range().end.index]


def expand_template(template: str, node: SgNode, text: str) -> str | None:
    """The template with every metavariable replaced by the matched text; None if one is unbound."""
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        if m.group(1):
            return _span(node.get_multiple_matches(m.group(1)), text)
        bound = node.get_match(m.group(2))
        if bound is None:
            missing = True
            return ""
        return bound.text()

    out = _METAVAR.sub(repl, template)
    return None if missing else out


def _line_indent(text: str, index: int) -> str:
    line_start = text.rfind("\n", 0, index) + 1
    line = text[line_start:index]
    return line[: len(line) - len(line.lstrip())]


def add_argument(call: SgNode, text: str, argument: str) -> tuple[int, int, str] | None:
    """An edit (start, end, new text) appending `argument` to the call's argument list."""
    args = call.field("arguments")
    if args is None or args.kind() not in _ARGUMENT_LISTS:
        return None
    children = args.children()
    if len(children) < 2 or children[-1].text() != ")":
        return None
    close = children[-1].range().start.index
    items = [c for c in args.named_children() if c.kind() != "comment"]
    if not items:
        return close, close, argument
    last = items[-1]
    last_end = last.range().end.index
    between = text[last_end:close]
    trailing_comma = between.lstrip().startswith(",")
    if "\n" not in text[last_end:close] or last.range().start.line == args.range().start.line:
        sep = " " if trailing_comma else ", "
        insert_at = last_end + between.index(",") + 1 if trailing_comma else last_end
        return insert_at, insert_at, f"{sep}{argument}"
    indent = _line_indent(text, last.range().start.index)
    if trailing_comma:
        insert_at = last_end + between.index(",") + 1
        return insert_at, insert_at, f"\n{indent}{argument},"
    return last_end, last_end, f",\n{indent}{argument}"


def _error_count(text: str, language: str) -> int:
    return len(SgRoot(text, language).root().find_all(kind="ERROR")[:MAX_ERROR_NODES])


@functools.lru_cache(maxsize=4)
def _baseline_errors(text: str, language: str) -> int:
    """Errors of the unedited file: the same for every suggestion in it, so parsed once."""
    return _error_count(text, language)


def suggestion_lines(
    text: str, language: str, edit: tuple[int, int, str], start_line: int, end_line: int
) -> str | None:
    """Lines start_line..end_line (1-based) after the edit, or None if the result no longer parses.

    The edit must lie inside those lines; GitHub suggestions replace whole lines.
    """
    start, end, new = edit
    lines = text.splitlines(keepends=True)
    first = sum(len(x) for x in lines[: start_line - 1])
    last = sum(len(x) for x in lines[:end_line])
    if not first <= start <= end <= last:
        return None
    rewritten = text[:start] + new + text[end:]
    if _error_count(rewritten, language) > _baseline_errors(text, language):
        return None
    region = rewritten[first : last + len(new) - (end - start)]
    return region.rstrip("\r\n").replace("\r\n", "\n")
