"""The migration analyzer: SQL migration files and framework migrations that lock, rewrite or drop.

Plain `.sql` files are recognised by path (migrations/, migrate/, db/, schema/, alembic/, flyway
`V1__x.sql`, `*.up.sql`, timestamped names); Python (Alembic, Django), Ruby (Rails) and
JavaScript/TypeScript (Sequelize, knex, TypeORM, node-pg-migrate) files only when their path says
migration. Findings are
reported only on lines the change added; the whole file gives the context (tables created in the
same migration are new, so work on them is quiet).
"""

from __future__ import annotations

import functools
import re
from pathlib import PurePosixPath

from bot.analyzers.base import FileInput, NotAnalysed
from bot.analyzers.change_context import ChangeContext
from bot.analyzers.migration_js import js_migration_hits
from bot.analyzers.migration_python import python_migration_hits
from bot.analyzers.migration_ruby import rails_migration_hits
from bot.analyzers.rule_info import RULES_DIR, Hit, RuleInfo, findings_from_hits, load_rule_infos
from bot.analyzers.sql_checks import check_sql
from bot.analyzers.sql_foreign_keys import FK_WITHOUT_INDEX, indexed_elsewhere
from bot.analyzers.sql_lexer import LineIndex
from bot.analyzers.sql_script import DROP_COLUMN, DROP_TABLE, POSTGRESQL, UNBATCHED_BACKFILL, SqlContext, SqlIssue
from bot.core.deadline import NEVER, Deadline
from bot.core.model import Finding

ANALYZER_NAME = "sql-migrations"
RULES_FILE = RULES_DIR / "sql_migrations.yml"
MAX_TEXT_CHARS = 2_000_000
MAX_SUGGESTION_LINES = 12
MAX_FINDINGS = 200
DIALECT_NEUTRAL_RULES = frozenset({DROP_COLUMN, DROP_TABLE, UNBATCHED_BACKFILL})
SQL_DIRS = frozenset(
    {
        "migrations",
        "migration",
        "migrate",
        "db",
        "database",
        "schema",
        "schemas",
        "alembic",
        "versions",
        "flyway",
        "liquibase",
        "changelog",
        "changelogs",
        "ddl",
    }
)
CODE_DIRS = frozenset({"migrations", "migration", "migrate", "alembic", "versions"})
PY_SUFFIXES = frozenset({".py"})
RUBY_SUFFIXES = frozenset({".rb"})
JS_LANGUAGE = {".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".ts": "typescript"}
_FLYWAY = re.compile(r"^[VR]\d[\w.]*__.+\.sql$", re.IGNORECASE)
_DOWN_NAME = re.compile(r"(^|[._-])(down|rollback|undo)\.sql$|^U\d[\w.]*__", re.IGNORECASE)
_NUMBERED = re.compile(r"^\d{3,}[_.-]")  # 001_init.sql, 20240101120000_add_index.sql
# goose, sql-migrate and dbmate keep the rollback in the same file, after a marker comment
_DOWN_SECTION = re.compile(
    r"^--[ \t]*(?:\+goose[ \t]+down|\+migrate[ \t]+down|migrate:down)\b", re.MULTILINE | re.IGNORECASE
)
_SQLC_QUERIES = re.compile(r"^[ \t]*--\s*name:\s*\w+\s+:\w+", re.MULTILINE)  # sqlc query files are not migrations
_MYSQL_HINT = re.compile(r"`|\bENGINE\s*=|\bAUTO_INCREMENT\b|\bUNSIGNED\b", re.IGNORECASE)
_CREATE_TABLE_SQL = re.compile(
    r"\bCREATE[ \t]+(?:UNLOGGED[ \t]+|TEMP[ \t]+|TEMPORARY[ \t]+)?TABLE[ \t]+(?:IF[ \t]+NOT[ \t]+EXISTS[ \t]+)?"
    r"([\w\"`]+(?:\.[\w\"`]+)?)",
    re.IGNORECASE,
)
_SQLITE_HINT = re.compile(r"\bAUTOINCREMENT\b|\bPRAGMA\b", re.IGNORECASE)


@functools.cache
def sql_rules() -> tuple[RuleInfo, ...]:
    """The analyzer's rule metadata, loaded once per process."""
    return load_rule_infos(RULES_FILE)


def _dirs(path: str) -> set[str]:
    return {p.lower() for p in PurePosixPath(path).parts[:-1]}


def is_sql_migration(path: str) -> bool:
    """A `.sql` file that looks like a schema migration by its path or name."""
    p = PurePosixPath(path)
    if p.suffix.lower() != ".sql":
        return False
    name = p.name.lower()
    return bool(_dirs(path) & SQL_DIRS or name.endswith(".up.sql") or _FLYWAY.match(p.name) or _NUMBERED.match(name))


def is_code_migration(path: str) -> bool:
    """A Python, JavaScript or TypeScript file in a migrations directory."""
    p = PurePosixPath(path)
    suffix = p.suffix.lower()
    if suffix not in PY_SUFFIXES | RUBY_SUFFIXES and suffix not in JS_LANGUAGE or p.name.endswith(".d.ts"):
        return False
    return bool(_dirs(path) & CODE_DIRS) and p.name != "__init__.py"


def is_down_script(path: str) -> bool:
    return bool(_DOWN_NAME.search(PurePosixPath(path).name)) or bool(_dirs(path) & {"down", "rollback", "undo"})


def dialect_of_path(path: str) -> str:
    """The database a path names (…/sqlite/…, mysql_…), postgresql when it names none."""
    low = path.lower()
    for name, dialect in (("clickhouse", "clickhouse"), ("mysql", "mysql"), ("mariadb", "mysql"), ("sqlite", "sqlite")):
        if name in low:
            return dialect
    return POSTGRESQL


def detect_dialect(path: str, text: str) -> str:
    """postgresql unless the path or the SQL text says MySQL/MariaDB, SQLite or ClickHouse."""
    by_path = dialect_of_path(path)
    if by_path != POSTGRESQL:
        return by_path
    if _MYSQL_HINT.search(text):
        return "mysql"
    if _SQLITE_HINT.search(text):
        return "sqlite"
    return POSTGRESQL


def _suggestion(text: str, issue: SqlIssue) -> str | None:
    if issue.insert is None:
        return None
    line_start = text.rfind("\n", 0, issue.start) + 1
    line_end = text.find("\n", issue.end)
    line_end = len(text) if line_end < 0 else line_end
    at, insert = issue.insert
    segment = text[line_start:at] + insert + text[at:line_end]
    if segment.count("\n") + 1 > MAX_SUGGESTION_LINES:
        return None
    return "\n".join(line.rstrip("\r") for line in segment.split("\n"))


def sql_file_hits(path: str, text: str, deadline: Deadline = NEVER) -> list[Hit]:
    """Hits of the SQL checks on one `.sql` migration file."""
    if _SQLC_QUERIES.search(text):
        return []
    dialect = detect_dialect(path, text)
    lines = LineIndex(text)
    issues = [
        issue
        for section, down in _sections(text, is_down_script(path))
        for issue in check_sql(section, SqlContext(down=down, dialect=dialect), deadline)
    ]
    return [
        Hit(
            rule_id=issue.rule_id,
            start_line=lines.line(issue.start),
            end_line=lines.line(max(issue.end - 1, issue.start)),
            code=issue.code,
            values=issue.values,
            suggestion=_suggestion(text, issue),
            severity=issue.severity,
            confidence=issue.confidence,
            note=issue.note,
        )
        for issue in issues
    ]


_CREATED_MODEL = re.compile(
    r"\bCreateModel\(\s*(?:name\s*=\s*)?[\"'](\w{1,128})[\"']"  # Django
    r"|\bcreate_table\s*\(?\s*:?[\"']?(\w{1,128})"  # Rails
    r"|\bcreateTable(?:IfNotExists)?\(\s*[\"'`](\w{1,128})"  # knex, Sequelize queryInterface
)
MAX_CONTEXT_FILES = 200  # changed files read for the tables they create


def models_created_in(text: str) -> frozenset[str]:
    """Tables or models a framework migration creates by call (Django CreateModel, Rails create_table, knex and
    Sequelize createTable), lower case: Django operations name the model, which is what their hits carry."""
    return frozenset(next(g for g in m.groups() if g).lower() for m in _CREATED_MODEL.finditer(text))


def tables_created_in(text: str) -> frozenset[str]:
    """Tables a CREATE TABLE anywhere in a framework migration creates (SQL strings of separate calls too)."""
    names = set()
    for m in _CREATE_TABLE_SQL.finditer(text):
        last = m.group(1).split(".")[-1]
        quoted = last[:1] in "\"`"
        names.add(last.strip("\"`") if quoted else last.lower())
    return frozenset(names)


_RENAME_TO = re.compile(
    r"\bALTER[ \t]+TABLE[ \t]+(?:IF[ \t]+EXISTS[ \t]+)?[\w\"`.]{1,200}[ \t]+RENAME[ \t]+TO[ \t]+[\"`]?(\w{1,128})",
    re.IGNORECASE,
)


def tables_renamed_in(text: str) -> frozenset[str]:
    """Tables another table is renamed to (`ALTER TABLE x_new RENAME TO x`), anywhere in the migration."""
    return frozenset(m.group(1).lower() for m in _RENAME_TO.finditer(text))


def _rebuilt(hit: Hit, renamed: frozenset[str]) -> bool:
    """A DROP TABLE of a table the migration rebuilds: SQLite's documented way to change a table's schema (create
    a new table, copy the rows, drop the old one, rename the new one to its name), which ORMs generate too."""
    if hit.rule_id != DROP_TABLE:
        return False
    tables = [t.strip().split(".")[-1].strip("\"`").lower() for t in hit.values.get("table", "").split(",")]
    tables = [t for t in tables if t]
    return bool(tables) and all(t in renamed for t in tables)


def _on_table_created_here(hit: Hit, created: frozenset[str]) -> bool:
    """A lock or rewrite hit on a table this same file creates (in another call or SQL string): it is empty."""
    if hit.rule_id in (FK_WITHOUT_INDEX, DROP_TABLE):
        return False
    table = hit.values.get("table", "")
    return bool(table) and (table in created or table.lower() in created)


def _key_indexed_elsewhere(hit: Hit, text: str) -> bool:
    """A foreign-key hit of one call or SQL string whose column another call or string of the file indexes."""
    if hit.rule_id != FK_WITHOUT_INDEX:
        return False
    return indexed_elsewhere(text, hit.start_line, hit.end_line, hit.values.get("column", ""))


def _blank(text: str, start: int, end: int) -> str:
    """text with [start, end) turned into spaces, line breaks kept: offsets and line numbers stay valid."""
    middle = "".join(c if c == "\n" else " " for c in text[start:end])
    return text[:start] + middle + text[end:]


def _sections(text: str, down_file: bool) -> list[tuple[str, bool]]:
    """(text, is_rollback) pairs: the whole file, or its up and down halves when a marker splits them."""
    marker = _DOWN_SECTION.search(text)
    if marker is None or down_file:
        return [(text, down_file)]
    return [(_blank(text, marker.start(), len(text)), False), (_blank(text, 0, marker.start()), True)]


class SqlMigrationAnalyzer:
    """Analyzer protocol implementation for SQL and framework migrations."""

    name = ANALYZER_NAME
    max_text_chars = MAX_TEXT_CHARS  # the engine reports a longer file as not reviewed
    needs_change_context = True

    def __init__(self, context: ChangeContext | None = None) -> None:
        self.rules: list[RuleInfo] = list(sql_rules())
        self._by_id = {r.id: r for r in self.rules}
        self._context = context or ChangeContext()
        self._created: dict[str, frozenset[str]] | None = None

    def bind_change(self, context: ChangeContext) -> SqlMigrationAnalyzer:
        """A copy that knows the tables the change's new migration files create."""
        return SqlMigrationAnalyzer(context)

    def _created_elsewhere(self, path: str) -> frozenset[str]:
        """Tables (lower case) that migration files this change adds, other than `path`, create: a lock or a
        rewrite on one of them touches an empty table."""
        if self._created is None:
            self._created = {
                f.path: tables_created_in(f.head) | models_created_in(f.head)
                for f in self._context.files[:MAX_CONTEXT_FILES]
                if f.base is None and (is_sql_migration(f.path) or is_code_migration(f.path))
                and len(f.head) <= MAX_TEXT_CHARS
            }
        return frozenset(t.lower() for p, names in self._created.items() if p != path for t in names)

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def supports(self, path: str, text: str) -> bool:
        return is_sql_migration(path) or is_code_migration(path)

    def analyze(self, file: FileInput) -> list[Finding]:
        if not file.change.changed or len(file.text) > MAX_TEXT_CHARS:
            return []
        try:
            hits = self._hits(file.path, file.text, file.deadline)
        except Exception as exc:  # hostile input (or a parser bug) must not sink the review, nor pass as read
            raise NotAnalysed(f"parse error ({type(exc).__name__})") from exc
        return findings_from_hits(self._by_id, file, hits, MAX_FINDINGS)

    def _hits(self, path: str, text: str, deadline: Deadline) -> list[Hit]:
        renamed = tables_renamed_in(text)
        elsewhere = self._created_elsewhere(path)
        return [
            h for h in self._all_hits(path, text, deadline)
            if not _rebuilt(h, renamed) and not _on_table_created_here(h, elsewhere)
        ]

    def _all_hits(self, path: str, text: str, deadline: Deadline) -> list[Hit]:
        suffix = PurePosixPath(path).suffix.lower()
        if is_sql_migration(path):
            return sql_file_hits(path, text, deadline)
        if suffix in PY_SUFFIXES:
            hits = python_migration_hits(text, deadline)
        elif suffix in JS_LANGUAGE:
            hits = js_migration_hits(text, JS_LANGUAGE[suffix], deadline)
        elif suffix in RUBY_SUFFIXES:
            hits = rails_migration_hits(text, deadline)
        else:
            hits = []
        if dialect_of_path(path) != POSTGRESQL:  # the lock rules are PostgreSQL's; data loss is everyone's
            hits = [h for h in hits if h.rule_id in DIALECT_NEUTRAL_RULES]
        created = tables_created_in(text)
        return [h for h in hits if not _key_indexed_elsewhere(h, text) and not _on_table_created_here(h, created)]
