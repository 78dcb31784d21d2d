"""Is a column type change a widening? Read the column's earlier declaration from sibling migrations.

PostgreSQL changes `varchar(n)` to a longer `varchar` or to `text` (and `text` to `varchar` without a
limit) in the catalog only: no rewrite, no scan (binary-coercible types, ALTER TABLE docs). The statement
alone cannot show the old type, so `sql-alter-column-type` to a text type used to read as a rewrite. This
step looks for the column's earlier declaration in the migrations of the same folder (newest first, a few
dozen files at most, read through the review's repository view): a widening of a text column is dropped; a
narrowing or a change from another type stays; when no declaration is found the finding stays at low
severity and confidence, asking the author to confirm the old type.

Every name read from a migration is untrusted: it only ever reaches `re.escape`, and each file is scanned
line by line, a bounded number of lines and characters.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.model import Finding, Severity
from bot.core.repo import RepoAccessError, RepoView

RULE = "sql-alter-column-type"
MAX_SIBLINGS = 40  # earlier migrations read per changed type, newest first
MAX_READS = 60  # files read per review by this step
MAX_LINES = 20_000
MAX_LINE_CHARS = 400
UNKNOWN_CONFIDENCE = 0.5
NOTE_UNKNOWN = (
    " The migrations before this one do not show the column's old type: if it was a shorter varchar or text, "
    "this is a catalog-only change (no rewrite); from another type it rewrites the table."
)

_EVIDENCE = re.compile(r"^Column (.{1,120}?) of existing table (.{1,160}?) changes type to (.{1,80}?)(?:\.(?:\s|$)|$)")
_TEXT = re.compile(
    r"(?i)^\W*(?:sequelize\.|datatypes\.|models\.|sa\.|db\.)?"
    r"(varchar|character\s+varying|text|citext|string|charfield|textfield|char|character)\b\s*(?:\(\s*(\d{1,6})\s*\))?"
)
_OTHER_TYPE = re.compile(
    r"(?i)(models\.\w+field|sequelize\.|datatypes\.|int|bigint|smallint|integer|uuid|jsonb?|"
    r"numeric|decimal|boolean|bool|date|timestamp|float|double|real|serial|bigserial)\b"
)
_LENGTH = re.compile(r"(?i)\b(?:max_length|limit|length)\s*[:=]\s*(\d{1,6})")


@dataclass(frozen=True)
class TextType:
    """A text column type; `length` None means unbounded (`text`, `varchar` without a limit)."""

    length: int | None

    def holds(self, other: TextType) -> bool:
        """Every value of `other` fits in self."""
        return self.length is None or (other.length is not None and other.length <= self.length)


def text_type(spelled: str) -> TextType | None:
    """`varchar(255)`, `TEXT`, `Sequelize.STRING(64)`, `models.CharField(max_length=63)` -> TextType."""
    m = _TEXT.match(spelled[:MAX_LINE_CHARS])
    if m is None:
        return None
    word = re.sub(r"\s+", " ", m.group(1).lower())
    size = m.group(2) or ((lm := _LENGTH.search(spelled[:MAX_LINE_CHARS])) and lm.group(1))
    if word in ("text", "citext", "textfield"):
        return TextType(None)
    if word in ("char", "character"):
        return TextType(int(size) if size else 1)
    if word == "string" and not size and re.match(r"(?i)\W*(sequelize|datatypes)\.", spelled):
        return TextType(255)  # Sequelize's STRING is VARCHAR(255)
    if word == "charfield" or word == "string":
        return TextType(int(size)) if size else None  # elsewhere a string's default length varies
    return TextType(int(size) if size else None)  # varchar, character varying


def _unquote(name: str) -> str:
    return name.strip().strip("`\"'[]:").split(".")[-1].strip("`\"'[]")


def _declaration(text: str, table: str, column: str) -> TextType | None | bool:
    """The column's last declared type in one migration text: a TextType, False for another type, None when
    the file does not declare it (or does not name the table)."""
    low = text[: MAX_LINES * 80].lower()
    short = table.split("_", 1)[-1]
    if table not in low and short not in low:
        return None
    col = re.escape(column)
    shapes = (
        re.compile(rf"(?i)[\"'`\[]?\b{col}\b[\"'`\]]?\s*(?:,|:|=>|=)?\s*(?:\{{\s*type\s*:\s*)?(?:type\s+)?(?:field\s*=\s*)?(.+)"),
        re.compile(rf"(?i)\.(?:string|text|varchar|char)\(\s*[\"']{col}[\"']\s*(?:,\s*(\d+))?"),
        re.compile(rf"(?i)\bt\.(string|text|char)\s+:{col}\b(.*)"),
    )
    found: TextType | None | bool = None
    for line in low.splitlines()[:MAX_LINES]:
        line = line[:MAX_LINE_CHARS]
        if column.lower() not in line:
            continue
        for n, shape in enumerate(shapes):
            m = shape.search(line)
            if m is None:
                continue
            if n == 1:
                found = TextType(int(m.group(1)) if m.group(1) else (None if "text" in line else 255))
            elif n == 2:
                found = TextType(None) if m.group(1) == "text" else TextType(
                    int(lm.group(1)) if (lm := _LENGTH.search(m.group(2))) else None)
            else:
                rest = m.group(1).strip()
                typed = text_type(rest)
                if typed is not None:
                    found = typed
                elif _OTHER_TYPE.match(rest):
                    found = False
                else:
                    continue
            break
    return found


def _siblings(repo: RepoView, path: str) -> list[str]:
    folder, name = posixpath.split(path)
    try:
        entries = repo.list_folder(folder)
    except RepoAccessError:
        return []
    earlier = sorted((e.path for e in entries if e.kind == "file" and posixpath.basename(e.path) < name), reverse=True)
    return earlier[:MAX_SIBLINGS]


def weigh_type_changes(findings: list[Finding], texts: dict[str, str], repo: RepoView) -> list[Finding]:
    """Drop text widenings; keep the rest, lowered when the old type cannot be found."""
    reads = [0]
    cache: dict[str, str | None] = {}

    def read(path: str) -> str | None:
        if path in texts:
            return texts[path]
        if path not in cache:
            if reads[0] >= MAX_READS:
                return None
            reads[0] += 1
            try:
                cache[path] = repo.read_text(path)
            except RepoAccessError:
                cache[path] = None
        return cache[path]

    out: list[Finding] = []
    for f in findings:
        if f.source == RULE:
            weighed = _weigh(f, functools.partial(_siblings, repo, f.path), read)
            if weighed is None:
                continue
            f = weighed
        out.append(f)
    return out


def _weigh(f: Finding, siblings: Callable[[], list[str]], read: Callable[[str], str | None]) -> Finding | None:
    m = _EVIDENCE.match(f.evidence)
    if m is None:
        return f
    column, table, new = _unquote(m.group(1)).lower(), _unquote(m.group(2)).lower(), m.group(3)
    target = text_type(new)
    if target is None or not column or not table:
        return f
    for path in siblings():
        text = read(path)
        old = _declaration(text, table, column) if text else None
        if old is None:
            continue
        if isinstance(old, TextType) and target.holds(old):
            return None  # a widening: catalog-only
        return f  # a narrowing, or a change from another type: the rewrite is real
    if f.severity.rank <= Severity.low.rank and f.confidence <= UNKNOWN_CONFIDENCE:
        return f
    return f.model_copy(update={
        "severity": min(f.severity, Severity.low, key=lambda s: s.rank),
        "confidence": min(f.confidence, UNKNOWN_CONFIDENCE),
        "evidence": f.evidence + NOTE_UNKNOWN,
    })
