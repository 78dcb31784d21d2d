"""Whether the Ruby, JavaScript/TypeScript and Go loops around a line cannot grow with data (pure, bounded).

Read by indentation, climbing from the finding's line (bot.analyzers.indent_scopes): every loop that encloses
it must be bounded, and one must be there. A loop is bounded when it runs

- a small literal number of times: `for (let i = 0; i < 3; i++)`, `for i := 0; i < 3; i++`, `5.times`,
  `for i := range 3`, or the same with a name bound once in the file to a small number literal
  (`const MAX_ATTEMPTS = 3`, `MAX = 3`);
- over a literal collection, written in the loop or bound once in the file to a name never added to
  (`PROVIDERS = [{...}, ...].freeze` ... `PROVIDERS.each do`, `const KINDS = ["a", "b"] as const` ...
  `for (const k of KINDS)`, `var kinds = []string{"a", "b"}` ... `for _, k := range kinds`), or its
  `.length`/`Object.keys(...)`/`.keys`;
- as a retry loop: its header counts attempts or retries (`attempt < maxAttempts`, `retries--`) and its body
  leaves the loop (`return`/`break`) on success: it stops at the first success, whatever the data.

`batched_statement` answers a different question: the per-item finding is one query per BATCH, because the
innermost loop is a condition loop (`for {`, `while (...)`, `loop do`) and the SQL it runs (in the call, or in
the variable the call names) has a LIMIT: a keyset- or offset-paginated backfill, the recommended form.

Every regex sees one line of at most MAX_LINE_CHARS characters; a name's bindings are one linear scan of the
file (at most MAX_FILE_LINES lines); a literal is read over at most MAX_LITERAL_LINES lines.
"""

from __future__ import annotations

import re

from bot.analyzers.indent_scopes import enclosing_lines
from bot.analyzers.literal_bounds import SMALL_BOUND, closing_bracket, display_size

MAX_LINE_CHARS = 400
MAX_FILE_LINES = 20_000  # longer files: names are not resolved (the loop reads as unbounded)
MAX_LITERAL_LINES = 2000
MAX_BODY_LINES = 200  # lines of a retry loop's body read for its exit
MAX_SQL_LINES = 80  # lines of a statement variable's value read for its LIMIT
MAX_NAMES = 12  # names of a call's arguments followed to their SQL

_C_FOR = re.compile(
    r"^\s*for\s*\(?\s*(?:let\s+|var\s+)?\w+\s*:?=\s*\d+\s*;\s*\w+\s*<=?\s*([A-Za-z_$][\w$.]*|\d+)\s*;"
)
_RUBY_TIMES = re.compile(r"^\s*(?:[@\w.]+\s*=\s*)?(\d+|[A-Za-z_]\w*)\.times\b")
_RUBY_EACH = re.compile(
    r"^\s*(?:[@\w.]+\s*[|&]{0,2}=\s*)?(%[wi]\[[^\]]{0,300}\]|[A-Za-z_]\w*)"
    r"((?:\.(?:keys|values|to_a|sort|reverse|uniq|compact|lazy|dup|each_with_index|with_index"
    r"|each_slice\(\s*\d+\s*\)|each_with_object\([^()]{0,40}\)))*)"
    r"\.(?:each\w*|map|flat_map|collect|select|reject|filter_map|sum|to_h|index_by|group_by)\b"
)
_JS_FOR_OF = re.compile(
    r"^\s*for\s*(?:await\s*)?\(\s*(?:const|let|var)\s+(?:[\w$]+|\[[^\]]{0,80}\]|\{[^}]{0,80}\})\s+(?:of|in)\s+(.{1,200}?)\)\s*\{?\s*$"
)
_JS_METHOD = re.compile(
    r"^\s*(?:(?:const|let|var)\s+[\w$]+\s*=\s*)?(?:await\s+)?(?:Promise\.all(?:Settled)?\(\s*)?"
    r"((?:Object\.(?:keys|values|entries)\(\s*)?[A-Za-z_$][\w$]*\s*\)?)\.(?:forEach|map|flatMap|filter|reduce)\("
)
_GO_RANGE = re.compile(r"^\s*for\s+(?:[\w\s,]+:?=\s*)?range\s+(.{1,300}?)\s*\{\s*$")
# `Array(27).keys()`, `new Array(n)`, `[...Array(5).keys()]`, `Array.from({ length: 3 }, ...)`: a loop of a count
_JS_ARRAY_OF = re.compile(
    r"^\[?(?:\.\.\.)?(?:new\s+)?Array(?:\(\s*(\w+)\s*\)|\.from\(\s*\{\s*length\s*:\s*(\w+)\s*\}[^()]{0,80}\))"
    r"(?:\.(?:keys|fill|entries)\([^()]{0,40}\))?\]?$"
)
_OBJECT_VIEW = re.compile(r"^Object\.(?:keys|values|entries)\(\s*([A-Za-z_$][\w$]*)\s*\)$")
_LENGTH = re.compile(r"^([A-Za-z_$][\w$]*)\.(?:length|size|count)$")
_NUMBER = re.compile(r"^\d[\d_]*$")
_PERCENT = re.compile(r"^%[wi]\[([^\]]{0,300})\]$")
_OTHER_LOOP = re.compile(
    r"^\s*(?:for|while|until|loop)\b|\.(?:each\w*|map|flat_map|forEach|times|find_each|find_in_batches)\b"
)
# attempt/retry/tries as a word or a word part (`attempt`, `maxAttempts`, `max_tries`, `MAX_RETRIES`), not inside
# another word (`entries`, `ENTRIES`)
_RETRY = re.compile(
    r"(?<![A-Za-z])(?:attempt|retr(?:y|ies)|tries)|(?:Attempt|Retr(?:y|ies)|Tries)|(?<![A-Z])(?:ATTEMPT|RETR(?:Y|IES)|TRIES)"
)
_LOOP_HEADER = re.compile(r"^\s*(?:for|while|until|do)\b|^\s*loop\s+do\b")
_EXIT = re.compile(r"\b(?:return|break)\b")
_CONDITION_LOOP = re.compile(
    r"^\s*(?:for\s*\{|for\s+(?!\()(?!.*\brange\b)[^{]{1,300}\{\s*$|for\s*\([^;)]{0,200};|while\b|until\b|do\s*\{"
    r"|loop\s+do\b)"
)
# a page of rows, not a one-row lookup (`LIMIT 1`, `.limit(1)` per item is the N+1 itself)
_SQL_LIMIT = re.compile(
    r"(?i)\bLIMIT\s+(?:\$\d+|\?|:\w+|@\w+|%[sdv]|\$\{|\{|(?!1\b)\d+)|\bFETCH\s+FIRST\s+(?!1\b)"
    r"|\.(?:limit|Limit|take)\(\s*(?!1\s*\))\w|\btake:\s*(?!1\b)\w"
)
# a condition loop that walks rows or a collection one at a time (`for rows.Next()`, `i < items.length`)
_WALKS_ITEMS = re.compile(
    r"\.(?:Next|next|hasNext|Scan|shift|pop)\(|\.(?:length|size|count)\b|\blen\(|\.Len\(\)|\bof\b|\bin\b"
)
_IDENT = re.compile(r"[A-Za-z_]\w*")
_GO_TYPED = re.compile(r"(?:\[\d*\]|\[\.\.\.\]|map\[[\w.*\[\]]{1,80}\])\*?[\w.]+(?=\{)")
_TAILS = (".freeze", "as const", ";", ")")


def other_loops_bound(lines: list[str], line: int, lookback: int) -> str | None:
    """Why every loop around `line` (1-based) cannot grow with data; None when one can, or there is none."""
    if not 0 < line <= len(lines):
        return None
    reason = None
    first = True
    for i, text, _ in enclosing_lines(lines, line, lookback):
        own = first
        first = False
        why = _header_bound(lines, i, text)
        if why:
            reason = reason or why
        elif not own and _OTHER_LOOP.search(text):
            return None  # an enclosing loop over something else: the finding runs per item of it
    return reason


def _header_bound(lines: list[str], at: int, text: str) -> str | None:
    """Why the loop whose header is `text` (at index `at`) is bounded; None when it is not, or is no loop."""
    counted = _C_FOR.match(text)
    if counted:
        return _count_bound(lines, counted.group(1)) or _retry_bound(lines, at, text)
    times = _RUBY_TIMES.match(text)
    if times:
        return _count_bound(lines, times.group(1))
    for pattern in (_GO_RANGE, _JS_FOR_OF, _JS_METHOD):
        match = pattern.match(text)
        if match:
            return _iterable_bound(lines, match.group(1).strip())
    each = _RUBY_EACH.match(text)
    if each:
        return _iterable_bound(lines, each.group(1))
    if _LOOP_HEADER.match(text):
        return _retry_bound(lines, at, text)
    return None


def _count_bound(lines: list[str], token: str) -> str | None:
    """`3`, a name bound once to a small number, or `NAME.length` of a literal collection."""
    if _NUMBER.match(token):
        return f"the loop is bounded by the literal {token}" if _small(token) else None
    length = _LENGTH.match(token)
    if length:
        return _iterable_bound(lines, length.group(1))
    value = _bound_value(lines, token)
    if value is not None and _NUMBER.match(value[0]) and _small(value[0]):
        return f"the loop is bounded by {token}, the constant {value[0]}"
    return None


def _iterable_bound(lines: list[str], expr: str) -> str | None:
    """A literal collection written in the loop, or a name (or its keys/values) bound once to one."""
    expr = expr.rstrip(")").strip() if expr.count(")") > expr.count("(") else expr.strip()
    view = _OBJECT_VIEW.match(expr)
    if view:
        expr = view.group(1)
    counted = _JS_ARRAY_OF.match(expr)
    if counted:
        return _count_bound(lines, counted.group(1) or counted.group(2))
    if _NUMBER.match(expr):  # Go 1.22 `for i := range 3`
        return f"the loop is bounded by the literal {expr}" if _small(expr) else None
    size = _literal_size([expr], 0, 0)
    if size is not None:
        return "the loop runs over a literal collection" if size <= SMALL_BOUND else None
    if not _IDENT.fullmatch(expr):
        return None
    value = _bound_value(lines, expr)
    if value is None:
        return None
    if _NUMBER.match(value[0]):
        return f"the loop is bounded by {expr}, the constant {value[0]}" if _small(value[0]) else None
    size = _literal_size(lines, value[1], value[2])
    if size is not None and size <= SMALL_BOUND:
        return f"the loop runs over {expr}, a literal collection of {size} bound once in this file"
    return None


def _bound_value(lines: list[str], name: str) -> tuple[str, int, int] | None:
    """(the text after `=`, row, column) of the one binding of `name` in the file, when there is exactly one
    and nothing adds to or changes the value afterwards; None otherwise."""
    if len(lines) > MAX_FILE_LINES:
        return None
    n = re.escape(name)
    binding = re.compile(
        rf"(?<![\w.$@]){n}\s*(?::\s*[^=;,()]{{1,80}}?\s*)?(?::=|\|\|=|&&=|[-+*/%|&^]?=)(?![=>~])\s*"
        rf"|^\s*var\s+{n}\s+[^=]{{1,80}}=(?![=>])\s*"
    )
    changed = re.compile(
        rf"(?<![\w.$@]){n}\s*(?:<<|\+\+|--|\.(?:push|unshift|splice|concat|insert|append|prepend|merge!|store|add"
        rf"|set|delete|pop|shift|clear|replace|fill)\b|\[[^\]]{{0,200}}\]\s*(?:[-+*/|&]?=)(?![=>~]))"
        rf"|\bappend\(\s*{n}\b"
        rf"|,\s*{n}\s*(?::=|=)(?![=>~])|(?<![\w.$@]){n}\s*,[^=(;]{{0,80}}(?::=|=)(?![=>~])"  # `a, NAME = f()`
    )
    found: tuple[str, int, int] | None = None
    for row, text in enumerate(lines):
        if name not in text:
            continue
        if changed.search(text):
            return None
        matches = list(binding.finditer(text))
        if not matches:
            continue
        if found is not None or len(matches) > 1:
            return None
        match = matches[0]
        # (`;` ends a statement, `,` an option with its default: `{ maxBuckets = 24, ... }`)
        value = text[match.end() :].split("//", 1)[0].split("#", 1)[0].strip().rstrip(";,").strip()
        found = (value, row, match.end())
    return found


def _literal_size(lines: list[str], row: int, col: int) -> int | None:
    """Elements of the literal collection starting at lines[row][col]: a list/hash/tuple display (Ruby, JS), a
    `%w[...]`/`%i[...]` word list, a Go composite literal of a slice, array or map type, `Object.freeze([...])`."""
    text = lines[row][col:]
    stripped = text.lstrip()
    col += len(text) - len(stripped)
    percent = _PERCENT.match(stripped.split(".freeze")[0].strip())
    if percent:
        return len(percent.group(1).split())
    if stripped.startswith("Object.freeze("):
        col += len("Object.freeze(")
    typed = _GO_TYPED.match(stripped)
    if typed:
        col += typed.end()
    window = lines[row : row + MAX_LITERAL_LINES]
    return display_size(window, 0, col, tails=_TAILS)


def _retry_bound(lines: list[str], at: int, header: str) -> str | None:
    """A loop that counts attempts and leaves on success: bounded by its attempts, not by data."""
    if not _RETRY.search(header):
        return None
    indent = len(header) - len(header.lstrip())
    for text in lines[at + 1 : at + 1 + MAX_BODY_LINES]:
        if not text.strip():
            continue
        if len(text) - len(text.lstrip()) <= indent:
            return None
        if _EXIT.search(text):
            return "a retry loop: it stops at the first success, bounded by its attempts"
    return None


def _small(number: str) -> bool:
    return int(number.replace("_", "")) <= SMALL_BOUND


def batched_statement(lines: list[str], start: int, end: int, lookback: int) -> str | None:
    """Why the statement at lines start..end (1-based) runs once per batch: the innermost loop around it is a
    condition loop (not a walk over a collection) and its SQL, or the variable it names, has a LIMIT."""
    if not 0 < start <= end <= len(lines):
        return None
    loop = next(((i, t) for i, t, _ in enclosing_lines(lines, start, lookback)
                 if i != start - 1 and (_OTHER_LOOP.search(t) or _LOOP_HEADER.match(t))), None)
    if loop is None or not _CONDITION_LOOP.match(loop[1]) or _WALKS_ITEMS.search(loop[1]):
        return None
    where = _sql_matching(lines, start, end, _SQL_LIMIT)
    if where is None:
        return None
    return f"one query per batch: {where or 'the loop'} pages with LIMIT until the rows run out"


# a schema or maintenance statement (one per table, partition or index): nothing to batch
_SQL_DDL = re.compile(
    r"""(?i)["'`]\s*(?:CREATE|ALTER|DROP|VACUUM|ANALYZE|REINDEX|REFRESH\s+MATERIALIZED|CLUSTER|COMMENT\s+ON|GRANT"""
    r"""|REVOKE|TRUNCATE|LOCK\s+TABLE)\b"""
)


def ddl_statement(lines: list[str], start: int, end: int) -> str | None:
    """Why the statement at lines start..end (1-based) is not a per-row write: it runs a schema or maintenance
    statement (CREATE INDEX per partition, ALTER ... ATTACH), written in the call or in the variable it names."""
    if not 0 < start <= end <= len(lines):
        return None
    where = _sql_matching(lines, start, end, _SQL_DDL)
    if where is None:
        return None
    if not where:
        return "a schema or maintenance statement per object: it cannot be batched into one"
    return f"{where} is a schema or maintenance statement, run once per object: it cannot be batched"


def _sql_matching(lines: list[str], start: int, end: int, pattern: re.Pattern[str]) -> str | None:
    """Where the SQL of the statement at lines start..end matches `pattern`: '' in its own text, else the first
    of the call's arguments whose nearest binding above holds such SQL; None when neither does."""
    statement = "\n".join(lines[start - 1 : end])
    if pattern.search(statement):
        return ""
    arguments = _call_arguments(statement)
    for name in list(dict.fromkeys(_IDENT.findall(arguments)))[:MAX_NAMES]:
        if _names_sql(lines, name, start - 1, pattern):
            return name
    return None


def _call_arguments(statement: str) -> str:
    """The text inside the first call's parentheses (to its matching `)`, or the end of the statement)."""
    if "(" not in statement:
        return ""
    opening = statement.index("(")
    closing = closing_bracket(statement, opening)
    return statement[opening + 1 : closing if closing >= 0 else len(statement)]


def _deeper_lines(lines: list[str], row: int, stop: int) -> list[str]:
    """The lines after index `row` indented deeper than it (its statement's continuation or body), up to
    index `stop`."""
    indent = len(lines[row]) - len(lines[row].lstrip())
    out = []
    for more in lines[row + 1 : stop]:
        if more.strip() and len(more) - len(more.lstrip()) <= indent:
            break
        out.append(more)
    return out


def _names_sql(lines: list[str], name: str, before: int, pattern: re.Pattern[str]) -> bool:
    """The nearest binding of `name` above index `before` holds SQL matching `pattern` (read to the end of its
    statement: the lines indented deeper than it, at most MAX_SQL_LINES), or is a call of a function of this file
    whose body writes such SQL (`create, attach, err := childStatements(...)`)."""
    n = re.escape(name)
    binding = re.compile(
        rf"^\s*(?:const\s+|var\s+|let\s+)?(?:[\w\s,]{{0,80}},\s*)?{n}\s*(?:,[\w\s,]{{0,80}})?(?::=|=)(?![=>])"
    )
    for row in range(before - 1, max(-1, before - 1 - MAX_FILE_LINES), -1):
        text = lines[row]
        if name not in text or not binding.match(text):
            continue
        value = [text, *_deeper_lines(lines, row, min(before, row + 1 + MAX_SQL_LINES))]
        if pattern.search("\n".join(value)):
            return True
        bound = binding.match(text)
        called = _CALLED.search(text[bound.end() :]) if bound else None
        return called is not None and _function_writes(lines, called.group(1), pattern, name)
    return False


_CALLED = re.compile(r"^\s*(?:await\s+)?(?:this\.|self\.)?([A-Za-z_]\w*)\s*\(")


def _function_writes(lines: list[str], function: str, pattern: re.Pattern[str], name: str) -> bool:
    """The body of `function`, defined in this file (Go, JavaScript/TypeScript, Ruby), writes SQL matching
    `pattern` (at most MAX_SQL_LINES lines of it read): in what it assigns to `name` (a Go named result) when it
    does, else anywhere in it."""
    header = re.compile(
        rf"^\s*(?:func\s+(?:\([^)]{{0,120}}\)\s*)?|(?:export\s+)?(?:async\s+)?function\s+|def\s+(?:self\.)?"
        rf"|(?:(?:private|public|protected|static|async)\s+)+){re.escape(function)}\s*\("
    )
    for row, text in enumerate(lines[:MAX_FILE_LINES]):
        if function in text and header.match(text):
            body = _deeper_lines(lines, row, row + 1 + MAX_SQL_LINES)
            own = re.compile(rf"^\s*{re.escape(name)}\s*(?::=|=)(?![=>])")
            assigned = [line for line in body if own.match(line)]
            return bool(pattern.search("\n".join(assigned or body)))
    return False
