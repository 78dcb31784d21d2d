"""A forgiving SQL tokenizer: text -> statements of tokens, with offsets for line numbers.

Knows `--`, `#` (at line start) and nested `/* */` comments, '' and E'' strings, "quoted" and
`backtick` identifiers, PostgreSQL dollar quoting ($$ and $tag$), psql meta-commands and `;`.
Never raises: an unterminated string or comment runs to the end of the text. Linear time.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from bot.core.deadline import NEVER, Deadline

MAX_SQL_CHARS = 2_000_000
MAX_STATEMENTS = 100_000

_WORD = re.compile(r"[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_SPACE = re.compile(r"\s+")
_COMMENT_MARK = re.compile(r"/\*|\*/")


@dataclass(frozen=True)
class Token:
    """kind: word | ident (quoted identifier) | string | number | punct."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier it names: unquoted and case-folded like PostgreSQL does."""
        if self.kind == "ident":
            return self.text[1:-1] if len(self.text) >= 2 else self.text
        return self.text.lower()


@dataclass(frozen=True)
class Statement:
    tokens: tuple[Token, ...]

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end


def _skip_block_comment(text: str, i: int) -> int:
    depth = 0
    for m in _COMMENT_MARK.finditer(text, i):
        depth += 1 if m.group(0) == "/*" else -1
        if depth == 0:
            return m.end()
    return len(text)


def _end_of_quoted(text: str, i: int, quote: str, backslash: bool) -> int:
    """Index just past the closing quote that matches text[i]; doubled quotes are escapes."""
    n, j = len(text), i + 1
    while j < n:
        c = text[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _line_is_meta(text: str, i: int, c: str) -> bool:
    if c not in "#\\":
        return False
    line_start = text.rfind("\n", 0, i) + 1
    return not text[line_start:i].strip()


def _scan_one(text: str, i: int) -> tuple[Token | None, int]:
    """The token starting at i (None for whitespace and comments) and where the next one starts."""
    c = text[i]
    if c.isspace():
        m = _SPACE.match(text, i)
        return None, m.end() if m else i + 1
    if text.startswith("--", i) or _line_is_meta(text, i, c):
        nl = text.find("\n", i)
        return None, len(text) if nl < 0 else nl + 1
    if text.startswith("/*", i):
        return None, _skip_block_comment(text, i)
    if c == "'":
        backslash = i > 0 and text[i - 1] in "eE" and (i < 2 or not text[i - 2].isalnum())
        end = _end_of_quoted(text, i, "'", backslash)
        return Token("string", text[i:end], i, end), end
    if c in '"`':
        end = _end_of_quoted(text, i, c, False)
        return Token("ident", text[i:end], i, end), end
    if c == "$":
        m = _DOLLAR_TAG.match(text, i)
        if m:
            close = text.find(m.group(0), m.end())
            end = len(text) if close < 0 else close + len(m.group(0))
            return Token("string", text[i:end], i, end), end
    m = _WORD.match(text, i)
    if m:
        return Token("word", m.group(0), i, m.end()), m.end()
    m = _NUMBER.match(text, i)
    if m and m.end() > i:
        return Token("number", m.group(0), i, m.end()), m.end()
    return Token("punct", c, i, i + 1), i + 1


def tokenize(text: str, deadline: Deadline = NEVER) -> list[Token]:
    """All tokens of the text, comments and whitespace dropped (at most MAX_SQL_CHARS read)."""
    text = text[:MAX_SQL_CHARS]
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if not len(tokens) % 1024:
            deadline.check()
        token, nxt = _scan_one(text, i)
        if token is not None:
            tokens.append(token)
        i = max(nxt, i + 1)
    return tokens


def split_statements(text: str, deadline: Deadline = NEVER) -> list[Statement]:
    """The statements of a SQL script, split at top-level semicolons."""
    statements: list[Statement] = []
    current: list[Token] = []
    for token in tokenize(text, deadline):
        if token.kind == "punct" and token.text == ";":
            if current:
                statements.append(Statement(tuple(current)))
                current = []
            if len(statements) >= MAX_STATEMENTS:
                return statements
            continue
        current.append(token)
    if current:
        statements.append(Statement(tuple(current)))
    return statements


class LineIndex:
    """Offset -> 1-based line number for one text."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)
