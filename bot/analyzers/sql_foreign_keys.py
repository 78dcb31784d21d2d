"""Foreign-key columns added without an index that leads with them (PostgreSQL), in one SQL script.

PostgreSQL creates an index for a PRIMARY KEY and a UNIQUE constraint, never for the referencing side
of a FOREIGN KEY ("a foreign key does not automatically create an index on the referencing columns",
PostgreSQL manual, Constraints > Foreign Keys). Without one, every join from the parent and every DELETE
or key UPDATE on the parent (which checks or cascades to the children) scans the whole child table.
MySQL/InnoDB builds the index itself, so only the PostgreSQL dialect is checked.

Only columns this script creates are judged (a column of CREATE TABLE, or one added by ALTER TABLE ADD
COLUMN): an older column may have its index from an earlier migration, which one file cannot show. An
index anywhere in the same script whose first column is the foreign key's first column covers it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.analyzers.sql_lexer import Statement, Token
from bot.analyzers.sql_script import POSTGRESQL, SqlScript, qualified_name, skip, words

FK_WITHOUT_INDEX = "sql-foreign-key-without-index"
MAX_COLUMNS = 2_000


@dataclass(frozen=True)
class _ForeignKey:
    table: str
    column: str
    references: str
    tokens: tuple[Token, ...]  # the column definition or constraint that declares it


def _top_level(tokens: tuple[Token, ...] | list[Token]) -> list[list[Token]]:
    """The parts of a parenthesised list, split at its top-level commas (tokens exclude the outer parens)."""
    out: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.kind == "punct" and t.text == "(":
            depth += 1
        elif t.kind == "punct" and t.text == ")":
            depth -= 1
        elif t.kind == "punct" and t.text == "," and depth == 0:
            out.append([])
            continue
        out[-1].append(t)
    return [p for p in out if p]


def _paren_body(tokens: tuple[Token, ...] | list[Token], i: int) -> tuple[list[Token], int]:
    """The tokens inside the parentheses that open at or after index i, and the index after the closing one."""
    while i < len(tokens) and tokens[i].text != "(":
        i += 1
    depth, start = 0, i + 1
    for j in range(i, len(tokens)):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return list(tokens[start:j]), j + 1
    return list(tokens[start:]), len(tokens)


def _first_name(tokens: list[Token]) -> str:
    return next((t.name for t in tokens if t.kind in ("word", "ident")), "")


def _referenced(tokens: list[Token], ws: list[str]) -> str:
    at = ws.index("REFERENCES")
    name, _ = qualified_name(tokens, at + 1)
    return name


class _Script:
    def __init__(self) -> None:
        self.keys: list[_ForeignKey] = []
        self.new_columns: set[tuple[str, str]] = set()
        self.indexed: set[tuple[str, str]] = set()

    def column_definition(self, table: str, part: list[Token]) -> None:
        pw = words(part)
        column, _ = qualified_name(part, 0)
        if not column:
            return
        self.new_columns.add((table, column))
        if "PRIMARY" in pw or "UNIQUE" in pw:
            self.indexed.add((table, column))
        if "REFERENCES" in pw:
            self.keys.append(_ForeignKey(table, column, _referenced(part, pw), tuple(part)))

    def table_constraint(self, table: str, part: list[Token]) -> None:
        pw = words(part)
        i = 0
        if pw[:1] == ["CONSTRAINT"]:
            i = 2
        if pw[i : i + 2] == ["PRIMARY", "KEY"] or pw[i : i + 1] == ["UNIQUE"]:
            body, _ = _paren_body(part, i)
            if (first := _first_name(body)):
                self.indexed.add((table, first))
        elif pw[i : i + 2] == ["FOREIGN", "KEY"]:
            body, _ = _paren_body(part, i)
            if (first := _first_name(body)) and "REFERENCES" in pw:
                self.keys.append(_ForeignKey(table, first, _referenced(part, pw), tuple(part)))


def _is_constraint(pw: list[str]) -> bool:
    return pw[:1] in (["CONSTRAINT"], ["PRIMARY"], ["UNIQUE"], ["FOREIGN"], ["CHECK"], ["EXCLUDE"], ["LIKE"])


def _create_table(found: _Script, st: Statement, ws: list[str]) -> None:
    i = 1
    while i < len(ws) and ws[i] in ("TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL"):
        i += 1
    if ws[i : i + 1] != ["TABLE"]:
        return
    table, after = qualified_name(st.tokens, skip(ws, i + 1, "IF", "NOT", "EXISTS"))
    if not table or after >= len(st.tokens) or st.tokens[after].text != "(":
        return
    body, _ = _paren_body(st.tokens, after)
    for part in _top_level(body)[:MAX_COLUMNS]:
        pw = words(part)
        if _is_constraint(pw):
            found.table_constraint(table, part)
        else:
            found.column_definition(table, part)


def _alter_table(found: _Script, st: Statement, ws: list[str]) -> None:
    i = skip(ws, skip(ws, 2, "IF", "EXISTS"), "ONLY")
    table, i = qualified_name(st.tokens, i)
    if not table:
        return
    for action in _top_level(st.tokens[i:])[:MAX_COLUMNS]:
        aw = words(action)
        if aw[:1] != ["ADD"]:
            continue
        rest = action[1:]
        rw = aw[1:]
        if _is_constraint(rw):
            found.table_constraint(table, rest)
            continue
        j = skip(rw, skip(rw, 0, "COLUMN"), "IF", "NOT", "EXISTS")
        found.column_definition(table, rest[j:])


def _create_index(found: _Script, st: Statement, ws: list[str]) -> None:
    if "ON" not in ws:
        return
    on = ws.index("ON")
    table, i = qualified_name(st.tokens, skip(ws, on + 1, "ONLY"))
    body, _ = _paren_body(st.tokens, i)
    if table and (first := _first_name(body)):
        found.indexed.add((table, first))


def foreign_key_issues(script: SqlScript, statements: list[Statement]) -> None:
    """Add an issue to `script` for each foreign key of a new column that no index of the script leads with."""
    if script.context.dialect != POSTGRESQL or script.context.down:
        return
    found = _Script()
    for st in statements:
        ws = words(st.tokens)
        if ws[:2] == ["ALTER", "TABLE"]:
            _alter_table(found, st, ws)
        elif ws[:1] == ["CREATE"] and "INDEX" in ws[1:3]:
            _create_index(found, st, ws)
        elif ws[:1] == ["CREATE"]:
            _create_table(found, st, ws)
    reported: set[tuple[str, str]] = set()
    for key in found.keys:
        where = (key.table, key.column)
        if where in found.indexed or where not in found.new_columns or where in reported:
            continue
        reported.add(where)
        script.add(FK_WITHOUT_INDEX, key.tokens, table=key.table, column=key.column,
                   references=key.references or "(another table)")


_INDEX_WORDS = ("index", "unique", "primary")


def _mentions(line: str, column: str) -> bool:
    """`column` as a whole identifier in `line` (plain search: the name comes from the file, never a regex)."""
    start = line.find(column)
    while start >= 0:
        before = line[start - 1] if start else " "
        end = start + len(column)
        after = line[end] if end < len(line) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = line.find(column, start + 1)
    return False


def indexed_elsewhere(text: str, first_line: int, last_line: int, column: str) -> bool:
    """A line outside first..last that names `column` next to an index, unique or primary key.

    A framework migration may declare the key in one call or SQL string and index it in another (TypeORM's
    generated `queryRunner.query` calls, a `knex.raw` per statement); read as one file, that index covers it.
    """
    if not column:
        return False
    for number, line in enumerate(text.splitlines(), 1):
        if first_line <= number <= last_line or not _mentions(line, column):
            continue
        low = line.lower()
        if any(word in low for word in _INDEX_WORDS):
            return True
    return False
