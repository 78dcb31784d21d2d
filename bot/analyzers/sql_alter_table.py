"""ALTER TABLE checks: each action (ADD COLUMN, ALTER COLUMN, ADD CONSTRAINT, DROP) of a statement."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.analyzers.sql_lexer import Statement, Token
from bot.analyzers.sql_script import (
    ADD_COLUMN_NOT_NULL_NO_DEFAULT,
    ADD_COLUMN_REWRITE,
    ALTER_TYPE,
    COLUMN_CONSTRAINT_WORDS,
    CONSTRAINT_BUILDS_INDEX,
    CONSTRAINT_VALIDATES,
    DROP_COLUMN,
    NOT_A_COLUMN,
    NOTE_TEXT_TYPE,
    POSTGRESQL,
    SERIAL_TYPES,
    SET_NOT_NULL,
    TABLE_CONSTRAINT_WORDS,
    TEXT_TYPES,
    VOLATILE_FUNCTIONS,
    SqlScript,
    has_seq,
    qualified_name,
    skip,
    words,
)
from bot.core.model import Severity


def _actions(tokens: tuple[Token, ...], start: int) -> list[list[Token]]:
    """ALTER TABLE actions: the tokens from `start`, split at top-level commas."""
    out: list[list[Token]] = [[]]
    depth = 0
    for t in tokens[start:]:
        if t.kind == "punct" and t.text in "([":
            depth += 1
        elif t.kind == "punct" and t.text in ")]":
            depth = max(depth - 1, 0)
        elif t.kind == "punct" and t.text == "," and depth == 0:
            out.append([])
            continue
        out[-1].append(t)
    return [a for a in out if a]


def check_alter_table(script: SqlScript, st: Statement, ws: list[str]) -> None:
    i = skip(ws, 2, "IF", "EXISTS")
    i = skip(ws, i, "ONLY")
    table, i = qualified_name(st.tokens, i)
    if i < len(st.tokens) and st.tokens[i].text == "*":
        i += 1
    if not table or table in script.new_tables:
        return
    for action in _actions(st.tokens, i):
        aw = words(action)
        if aw[:1] == ["DROP"] and not script.context.down:
            _check_drop_column(script, table, action, aw)
        if script.context.dialect != POSTGRESQL:
            continue
        if aw[:1] == ["ADD"]:
            _check_add(script, table, action, aw)
        elif aw[:1] == ["ALTER"]:
            _check_alter_column(script, table, action, aw)


def _check_drop_column(script: SqlScript, table: str, action: list[Token], aw: list[str]) -> None:
    i = skip(aw, 1, "COLUMN")
    if i == 1 and len(aw) > 1 and aw[1] in NOT_A_COLUMN:
        return
    i = skip(aw, i, "IF", "EXISTS")
    column, _ = qualified_name(action, i)
    if not column:
        return
    script.add(DROP_COLUMN, action, table=table, column=column)
    copied = _copied_before(script.text[: action[0].start], column)
    if copied:
        script.issues[-1] = replace(
            script.issues[-1], severity=Severity.low, confidence=COPIED_CONFIDENCE,
            note=NOTE_COPIED.format(column=column, statement=copied),
        )


COPIED_CONFIDENCE = 0.5
NOTE_COPIED = (
    "This migration copies `{column}` first (`{statement}`): the values are kept, so what is left is the "
    "rolling-deploy question (does the previous release still read it?)."
)
MAX_BEFORE = 200_000
_COMMENT = re.compile(r"--[^\n]*|/\*.{0,20000}?\*/", re.DOTALL)
_STRING = re.compile(r"'[^'\n]{0,2000}'")
_SET = re.compile(r"(?i)\bSET\b")
_WRITE_STATEMENT = re.compile(r"(?is)\b(?:update|insert\s+into)\b[^;]{0,4000}")


def _copied_before(before: str, column: str) -> str:
    """An UPDATE or INSERT ... SELECT earlier in the script that reads the column (its values moved elsewhere),
    or ''. A statement that only assigns the column (`SET col = ...`) does not count."""
    name = re.escape(column)
    read = re.compile(rf"(?i)(?<![\w\"`]){name}(?![\w\"`])|[\"`]{name}[\"`]")
    target = re.compile(rf"(?i)(?:(?<![\w\"`.]){name}|[\"`]{name}[\"`])\s*=(?!=)")
    code = _COMMENT.sub(" ", before[-MAX_BEFORE:])
    for m in _WRITE_STATEMENT.finditer(code):
        statement = _STRING.sub("''", m.group(0))
        if statement[:6].upper() == "UPDATE":
            at = _SET.search(statement)
            source = target.sub(" ", statement[at.end() :]) if at else ""
        else:
            upper = statement.upper()
            source = statement[upper.index("SELECT") :] if "SELECT" in upper else ""
        if read.search(source):
            return " ".join(statement.split())[:80]
    return ""


def _check_add(script: SqlScript, table: str, action: list[Token], aw: list[str]) -> None:
    i = 1
    if len(aw) > 1 and aw[1] in TABLE_CONSTRAINT_WORDS:
        _check_add_constraint(script, table, action, aw)
        return
    i = skip(aw, i, "COLUMN")
    i = skip(aw, i, "IF", "NOT", "EXISTS")
    column, i = qualified_name(action, i)
    if not column:
        return
    rest = aw[i:]
    default_at = rest.index("DEFAULT") if "DEFAULT" in rest else -1
    default_words = _default_expression(action[i + default_at + 1 :]) if default_at >= 0 else []
    volatile = any(w in VOLATILE_FUNCTIONS for w in default_words)
    rewrites = (
        volatile
        or bool(rest[:1] and rest[0] in SERIAL_TYPES)
        or ("GENERATED" in rest and ("STORED" in rest or "IDENTITY" in rest))
    )
    not_null = has_seq(rest, "NOT", "NULL") or "PRIMARY" in rest
    values = {"table": table, "column": column, "default": " ".join(default_words) or "none"}
    if rest[:1] and rest[0] in SERIAL_TYPES:
        values["default"] = f"{rest[0].lower()} sequence"
    elif "GENERATED" in rest:
        values["default"] = "generated column"
    if rewrites:
        script.add(ADD_COLUMN_REWRITE, action, **values)
    elif not_null and default_at < 0 and "GENERATED" not in rest:
        # a constant default is metadata-only since PostgreSQL 11 (and an instant ADD COLUMN in MySQL 8):
        # nothing a reviewer should raise; without a default the migration fails on a table with rows.
        script.add(ADD_COLUMN_NOT_NULL_NO_DEFAULT, action, **values)
    if "UNIQUE" in rest or "PRIMARY" in rest:
        script.add(CONSTRAINT_BUILDS_INDEX, action, table=table, constraint=f"column {column}")


def _default_expression(tokens: list[Token]) -> list[str]:
    """The words of a DEFAULT expression, up to the next column constraint keyword."""
    out: list[str] = []
    depth = 0
    for t in tokens:
        if t.kind == "punct":
            depth += 1 if t.text == "(" else -1 if t.text == ")" else 0
            continue
        if depth <= 0 and t.upper in COLUMN_CONSTRAINT_WORDS:
            break
        out.append(t.text.lower() if t.kind == "word" else t.text)
    return out


def _check_add_constraint(script: SqlScript, table: str, action: list[Token], aw: list[str]) -> None:
    name = ""
    if aw[1] == "CONSTRAINT":
        name, _ = qualified_name(action, 2)
    label = name or "(unnamed)"
    if ("FOREIGN" in aw or "CHECK" in aw) and not has_seq(aw, "NOT", "VALID"):
        kind = "FOREIGN KEY" if "FOREIGN" in aw else "CHECK"
        script.add(CONSTRAINT_VALIDATES, action, table=table, constraint=label, kind=kind)
    elif ("UNIQUE" in aw or "PRIMARY" in aw or "EXCLUDE" in aw) and not has_seq(aw, "USING", "INDEX"):
        script.add(CONSTRAINT_BUILDS_INDEX, action, table=table, constraint=label)


def _check_alter_column(script: SqlScript, table: str, action: list[Token], aw: list[str]) -> None:
    i = skip(aw, 1, "COLUMN")
    if i == 1 and len(aw) > 1 and aw[1] == "CONSTRAINT":
        return
    column, i = qualified_name(action, i)
    rest = aw[i:]
    if rest[:1] == ["TYPE"] or rest[:3] == ["SET", "DATA", "TYPE"]:
        start = i + (1 if rest[0] == "TYPE" else 3)
        new_type = " ".join(t.text for t in action[start:] if t.upper not in ("USING", "COLLATE"))[:60]
        script.add(ALTER_TYPE, action, table=table, column=column, type=new_type)
        if start < len(action) and action[start].upper in TEXT_TYPES:
            script.issues[-1] = replace(script.issues[-1], severity=Severity.medium, note=NOTE_TEXT_TYPE)
    elif rest[:3] == ["SET", "NOT", "NULL"] and not script.has_not_null_check:
        script.add(SET_NOT_NULL, action, table=table, column=column)
