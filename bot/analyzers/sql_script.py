"""Shared vocabulary of the SQL checks: rule ids, the context, issues, and token helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.analyzers.sql_lexer import Token
from bot.core.model import Severity

CREATE_INDEX = "sql-create-index-not-concurrently"
ADD_COLUMN_REWRITE = "sql-add-column-rewrites-table"
ADD_COLUMN_NOT_NULL_NO_DEFAULT = "sql-add-column-not-null-without-default"
ALTER_TYPE = "sql-alter-column-type"
SET_NOT_NULL = "sql-set-not-null"
DROP_COLUMN = "sql-drop-column"
DROP_TABLE = "sql-drop-table"
CONSTRAINT_VALIDATES = "sql-constraint-without-not-valid"
CONSTRAINT_BUILDS_INDEX = "sql-constraint-builds-index"
UNBATCHED_BACKFILL = "sql-unbatched-backfill"

POSTGRESQL = "postgresql"
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "uuidv7",
        "uuidv4",
        "gen_random_bytes",
    }
)
SERIAL_TYPES = frozenset({"SERIAL", "BIGSERIAL", "SMALLSERIAL", "SERIAL2", "SERIAL4", "SERIAL8"})
COLUMN_CONSTRAINT_WORDS = frozenset(
    {"NOT", "NULL", "CONSTRAINT", "CHECK", "REFERENCES", "UNIQUE", "PRIMARY", "GENERATED", "COLLATE", "DEFAULT"}
)
TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE"})
NOT_A_COLUMN = frozenset(
    {
        "CONSTRAINT",
        "DEFAULT",
        "NOT",
        "IDENTITY",
        "EXPRESSION",
        "PROJECTION",
        "INDEX",
        "KEY",
        "PRIMARY",
        "FOREIGN",
        "CHECK",
        "PARTITION",
        "STATISTICS",
    }
)
TEXT_TYPES = frozenset({"VARCHAR", "TEXT", "CHARACTER", "CITEXT"})
MAX_EVIDENCE_CHARS = 100
NOTE_TEXT_TYPE = (
    "Widening varchar(n) to a longer varchar or to text is binary-compatible and does not rewrite; "
    "shortening it, or converting from another type, does."
)
NOTE_OWN_FILE = (
    "Give it a migration file of its own: several statements sent as one script run in one implicit "
    "transaction (golang-migrate, psql -1, many runners), where CONCURRENTLY fails."
)
NOTE_IN_TRANSACTION = (
    "This file wraps its statements in an explicit transaction; CREATE INDEX CONCURRENTLY must run outside it."
)


@dataclass(frozen=True)
class SqlContext:
    """What the caller knows: tables new in this migration, whether it is a rollback script, the dialect."""

    new_tables: frozenset[str] = frozenset()
    down: bool = False
    dialect: str = POSTGRESQL


@dataclass(frozen=True)
class SqlIssue:
    rule_id: str
    start: int  # offsets in the SQL text
    end: int
    code: str
    values: dict[str, str] = field(default_factory=dict)
    insert: tuple[int, str] | None = None  # mechanical fix: insert this text at this offset
    severity: Severity | None = None
    note: str | None = None
    confidence: float | None = None


@dataclass
class SqlScript:
    text: str
    context: SqlContext
    new_tables: set[str]
    has_not_null_check: bool
    in_transaction: bool
    statement_count: int = 1
    issues: list[SqlIssue] = field(default_factory=list)

    def add(self, rule_id: str, tokens: tuple[Token, ...] | list[Token], **values: str) -> None:
        code = self.text[tokens[0].start : tokens[-1].end]
        self.issues.append(SqlIssue(rule_id, tokens[0].start, tokens[-1].end, code, values))


def words(tokens: tuple[Token, ...] | list[Token]) -> list[str]:
    return [t.upper for t in tokens]


def short(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= MAX_EVIDENCE_CHARS else one[: MAX_EVIDENCE_CHARS - 1] + "…"


def qualified_name(tokens: tuple[Token, ...] | list[Token], i: int) -> tuple[str, int]:
    """The last part of a dotted name starting at i (case-folded unless quoted), and the index after it."""
    name = ""
    while i < len(tokens) and tokens[i].kind in ("word", "ident"):
        name = tokens[i].name
        if i + 2 < len(tokens) and tokens[i + 1].text == ".":
            i += 2
            continue
        return name, i + 1
    return name, i


def skip(ws: list[str], i: int, *seq: str) -> int:
    """i advanced past the keyword sequence when it is there."""
    if ws[i : i + len(seq)] == list(seq):
        return i + len(seq)
    return i


def has_seq(ws: list[str], *seq: str) -> bool:
    n = len(seq)
    return any(ws[i : i + n] == list(seq) for i in range(len(ws) - n + 1))
