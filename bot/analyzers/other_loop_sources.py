"""Whether the Ruby, JavaScript/TypeScript and Go loops around a line run over what the caller handed in (pure).

The same question as bot.analyzers.loop_sources asks of Python, read by indentation like
bot.analyzers.other_loop_bounds: climbing from the finding's line to its function, every loop must iterate a
parameter of that function (or a field of one, in Go and JavaScript, where a struct or a request body is plain
data), the request's own data (`params[:ids]`, `req.body.items`, `request.query`), or the variable of an outer
such loop. Then the number of items is whatever one caller sends, which the code under review does not show.

Anything else keeps the finding as it was: a local built from a query, a method call in the iterable
(`ids.map(&:to_i)` aside), a Ruby attribute of a parameter (an association, possibly lazy), a `while`/`loop`, a
C-style `for`, a name the function does not take. Every regex sees one line of at most MAX_LINE_CHARS characters.
"""

from __future__ import annotations

import re

from bot.analyzers.indent_scopes import enclosing_lines

MAX_LINE_CHARS = 400

_GO_FUNC = re.compile(r"^\s*func\s*(?:\([^)]{0,200}\)\s*)?\w*\s*\(([^)]{0,300})\)")
_GO_LITERAL_FUNC = re.compile(r"\bfunc\s*\(([^)]{0,300})\)[^{]{0,200}\{\s*$")
_RUBY_DEF = re.compile(r"^\s*def\s+(?:self\.)?[\w.]+[!?=]?\s*(?:\(([^)]{0,300})\)|([^#]{0,300}))?\s*$")
_JS_FUNC = re.compile(
    r"(?:\bfunction\b\s*\*?\s*[\w$]*\s*|^\s*(?:(?:public|private|protected|static|async|override)\s+)*[\w$]+\s*"
    r"(?:<[^>]{0,100}>)?\s*|\basync\s*|=\s*)\(([^()]{0,300})\)\s*(?::\s*[^={]{1,200})?\s*(?:=>\s*)?\{\s*$"
)
_JS_ARROW_ONE = re.compile(r"(?:\(|\basync\s+|=\s*)\s*([A-Za-z_$][\w$]*)\s*=>\s*\{?\s*$")

_GO_RANGE = re.compile(r"^\s*for\s+(?:([\w\s,]+?)\s*:?=\s*)?range\s+(.{1,300}?)\s*\{\s*$")
_JS_FOR_OF = re.compile(r"^\s*for\s*(?:await\s*)?\(\s*(?:const|let|var)\s+(.{1,100}?)\s+of\s+(.{1,200}?)\)\s*\{?\s*$")
_JS_METHOD = re.compile(
    r"^\s*(?:(?:const|let|var)\s+[\w$]+\s*=\s*)?(?:await\s+)?(?:Promise\.all(?:Settled)?\(\s*)?"
    r"([A-Za-z_$][\w$.]*?)\.(?:forEach|map|flatMap|filter|reduce)\(\s*(?:async\s*)?\(?\s*([\w$]+)"
)
_RUBY_EACH = re.compile(
    r"^\s*(?:[@\w.]+\s*=\s*)?(.{1,200}?)\.(?:each\w*|map|flat_map|collect|select|reject|filter_map|sum|"
    r"index_by|group_by|to_h)\s*(?:do|\{)\s*\|([\w\s,()*]{1,80})\|"
)
_OTHER_LOOP = re.compile(r"^\s*(?:for|while|until|loop)\b|\.(?:each\w*|times|find_each|find_in_batches)\b")

_RUBY_REQUEST = re.compile(r"^params(?:\[[^\]]{1,80}\]|\.(?:require|fetch|permit|dig)\([^()]{0,120}\))*$")
_JS_REQUEST = re.compile(r"^(?:req|request|ctx\.request|c\.req)\.(?:body|query|params)\b[\w$.?\[\]'\"]*$")
_RUBY_PLAIN = re.compile(r"^(\w+)(?:\.(?:keys|values|uniq|compact|to_a|map\(&:to_[is]\)|each_with_index))*$")
_ATTRIBUTES = re.compile(r"^([A-Za-z_$][\w$]*)((?:\??\.[A-Za-z_$][\w$]*)*)$")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def other_caller_sized(lines: list[str], line: int, lookback: int, language: str) -> str | None:
    """Why every loop around `line` (1-based) runs over the caller's input, or None (also with no loop)."""
    if not 0 < line <= len(lines):
        return None
    loops: list[tuple[str, set[str]]] = []  # (iterable, loop variables), innermost first
    parameters: set[str] | None = None
    first = True
    for _, raw, _ in enclosing_lines(lines, line, lookback):
        text = raw[:MAX_LINE_CHARS]
        own, first = first, False
        loop = _loop(text, language)
        if loop is not None:  # before the function test: `ids.map(async (id) => {` is a loop, not the function
            loops.append(loop)
            continue
        header = _function_parameters(text, language)
        if header is not None:
            parameters = header
            break
        if not own and _OTHER_LOOP.search(text):
            return None  # a loop whose items the review cannot name
    if not loops or parameters is None:
        return None
    bound = {name for _, names in loops for name in names}
    origin = ""
    for iterable, _ in reversed(loops):  # outermost first: its variables feed the inner loops
        why = _input(iterable, parameters, bound, language)
        if why is None:
            return None
        origin = origin or why
    return f"the loop runs over {origin}: its size is whatever the caller sends, which this code does not show"


def _function_parameters(text: str, language: str) -> set[str] | None:
    if language == "go":
        match = _GO_FUNC.match(text) or _GO_LITERAL_FUNC.search(text)
        return {part.strip().split()[0] for part in match.group(1).split(",") if part.strip()} if match else None
    if language == "ruby":
        match = _RUBY_DEF.match(text)
        if not match:
            return None
        args = match.group(1) or match.group(2) or ""
        return {m.group(1) for part in args.split(",") if (m := re.match(r"\s*[*&]*(\w+)", part))}
    match = _JS_FUNC.search(text)
    if match:
        return {w for w in _WORD.findall(re.sub(r":\s*[^,]{1,100}", "", match.group(1)))}
    arrow = _JS_ARROW_ONE.search(text)
    return {arrow.group(1)} if arrow and not text.lstrip().startswith(("for", "while", "if")) else None


def _loop(text: str, language: str) -> tuple[str, set[str]] | None:
    if language == "go":
        match = _GO_RANGE.match(text)
        return (match.group(2).strip(), set(_WORD.findall(match.group(1) or ""))) if match else None
    if language == "ruby":
        match = _RUBY_EACH.match(text)
        return (match.group(1).strip(), set(_WORD.findall(match.group(2)))) if match else None
    match = _JS_FOR_OF.match(text)
    if match:
        return match.group(2).strip(), set(_WORD.findall(match.group(1)))
    method = _JS_METHOD.match(text)
    return (method.group(1), {method.group(2)}) if method else None


def _input(iterable: str, parameters: set[str], bound: set[str], language: str) -> str | None:
    """What the caller sent, when `iterable` is it; None when it may be anything else."""
    if language == "ruby":
        if _RUBY_REQUEST.match(iterable):
            return "the request's params"
        plain = _RUBY_PLAIN.match(iterable)
        name = plain.group(1) if plain else None
    elif language in ("javascript", "typescript") and _JS_REQUEST.match(iterable):
        return "the request's data"
    else:
        attributes = _ATTRIBUTES.match(iterable)
        name = attributes.group(1) if attributes else None
    if name is None:
        return None
    if name in bound:
        return ""
    if name in parameters and name not in ("self", "this"):
        return f"`{name}`, passed in by the caller"
    return None
