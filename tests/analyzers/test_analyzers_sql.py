"""SQL and framework migrations: every rule fires at exact lines, the safe forms stay quiet, hostile input is survived.

Fixture files mark each expected finding with an `expect: <rule-id>` comment on the line where the
finding starts; files under `quiet/` carry no marks and must produce nothing.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analyzers import default_analyzers
from bot.analyzers.base import FileInput
from bot.analyzers.sql_checks import check_sql
from bot.analyzers.sql_lexer import split_statements, tokenize
from bot.analyzers.sql_migrations import SqlMigrationAnalyzer, is_code_migration, is_sql_migration
from bot.core.diff import parse_diff
from bot.core.model import Finding, Severity
from tests.support.analyzer_fixtures import change_for, fixture_path, marked_lines

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sql"
FIRE = sorted(p for p in (FIXTURES / "fire").rglob("*") if p.is_file())
QUIET = sorted(p for p in (FIXTURES / "quiet").rglob("*") if p.is_file())
_EXPECT = re.compile(r"(?:#|--|//)\s*expect:\s*([a-z0-9 \-]+)")


def run(path: str, text: str, added: set[int] | None = None) -> list[Finding]:
    analyzer = SqlMigrationAnalyzer()
    assert analyzer.supports(path, text), path
    return analyzer.analyze(FileInput(change=change_for(text, path, added), text=text))


def expected(text: str) -> set[tuple[int, str]]:
    return marked_lines(text, _EXPECT)


def rel(p: Path) -> str:
    return fixture_path(p, FIXTURES)


@pytest.mark.parametrize("fixture", FIRE, ids=lambda p: rel(p))
def test_fire_fixture_reports_exactly_the_marked_lines(fixture: Path) -> None:
    text = fixture.read_text()
    found = {(f.start_line, f.source) for f in run(rel(fixture), text)}
    assert found == expected(text)


@pytest.mark.parametrize("fixture", QUIET, ids=lambda p: rel(p))
def test_quiet_fixture_reports_nothing(fixture: Path) -> None:
    text = fixture.read_text()
    path = rel(fixture)
    analyzer = SqlMigrationAnalyzer()
    if not analyzer.supports(path, text):
        assert fixture.name == "__init__.py"
        return
    assert run(path, text) == []


def test_every_rule_has_a_firing_fixture() -> None:
    fired = {rule for p in FIRE for _, rule in expected(p.read_text())}
    assert fired == set(SqlMigrationAnalyzer().rule_ids())


def test_rule_metadata_is_complete() -> None:
    analyzer = SqlMigrationAnalyzer()
    assert len(analyzer.rules) == len(set(analyzer.rule_ids())) >= 10
    for rule in analyzer.rules:
        for text in (rule.title, rule.description, rule.evidence, rule.risk, rule.advice, rule.rollback):
            assert text.strip()
        assert rule.id.startswith("sql-")


def test_finding_carries_rule_text_and_a_stable_id() -> None:
    text = "CREATE INDEX idx_a ON orders (a);\n"
    [first] = run("db/migrations/001.sql", text)
    [moved] = run("db/migrations/001.sql", "-- moved down\n\n" + text)
    assert first.id == moved.id and first.start_line == 1 and moved.start_line == 3
    assert first.severity == Severity.high and first.category.value == "locking_migration"
    assert "idx_a" in first.evidence and "orders" in first.evidence
    assert "transaction block" in (first.advice or "")


def test_create_index_suggestion_inserts_concurrently_on_the_whole_statement() -> None:
    text = "SELECT 1;\ncreate unique index\n    idx_users_email\n    on users (email);\n"
    [f] = run("migrations/002_users.sql", text)
    assert (f.start_line, f.end_line) == (2, 4)
    assert f.suggestion == "create unique index CONCURRENTLY\n    idx_users_email\n    on users (email);"


def test_no_suggestion_inside_an_explicit_transaction() -> None:
    text = (FIXTURES / "fire/db/migrations/V4__in_transaction.sql").read_text()
    [f] = run("db/migrations/V4__in_transaction.sql", text)
    assert f.suggestion is None
    assert "explicit transaction" in (f.advice or "")


def test_only_lines_the_change_added_are_reported() -> None:
    text = "CREATE INDEX a ON t (x);\nCREATE INDEX b ON t (y);\nALTER TABLE t DROP COLUMN z;\n"
    found = run("db/migrations/003.sql", text, added={2})
    assert [(f.start_line, f.source) for f in found] == [(2, "sql-create-index-not-concurrently")]
    assert run("db/migrations/003.sql", text, added=set()) == []


def test_multi_line_statement_reported_when_any_of_its_lines_is_added() -> None:
    text = "CREATE INDEX idx\n  ON orders\n  (customer_id);\n"
    [f] = run("db/migrations/004.sql", text, added={3})
    assert (f.start_line, f.end_line) == (1, 3)


def test_through_the_diff_parser() -> None:
    diff = (
        "diff --git a/db/migrate/005.sql b/db/migrate/005.sql\n--- a/db/migrate/005.sql\n+++ b/db/migrate/005.sql\n"
        "@@ -1,2 +1,3 @@\n CREATE INDEX old_one ON t (a);\n+CREATE INDEX new_one ON t (b);\n SELECT 1;\n"
    )
    head = "CREATE INDEX old_one ON t (a);\nCREATE INDEX new_one ON t (b);\nSELECT 1;\n"
    [change] = parse_diff(diff).files
    [f] = SqlMigrationAnalyzer().analyze(FileInput(change=change, text=head))
    assert f.start_line == 2 and "new_one" in f.evidence


@pytest.mark.parametrize(
    ("path", "sql"),
    [
        ("db/001.sql", True),
        ("migrations/0001_init.up.sql", True),
        ("src/main/resources/db/migration/V2__add_index.sql", True),
        ("sql/V1__init.sql", True),
        ("20240101_add_index.sql", True),
        ("queries/report.sql", False),
        ("sql/queries.sql", False),
        ("etl/01_cleanup.sql", False),
        ("README.md", False),
    ],
)
def test_sql_migration_paths(path: str, sql: bool) -> None:
    assert is_sql_migration(path) is sql


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("alembic/versions/abc_add.py", True),
        ("shop/migrations/0002_x.py", True),
        ("db/migrate/20240101-add.js", True),
        ("db/migrate/20240101120000_add_index.rb", True),
        ("app/models/order.rb", False),
        ("src/migrations/1700-Add.ts", True),
        ("shop/migrations/__init__.py", False),
        ("shop/models.py", False),
        ("src/migrations/types.d.ts", False),
    ],
)
def test_code_migration_paths(path: str, code: bool) -> None:
    assert is_code_migration(path) is code


def test_python_file_in_migrations_without_a_framework_is_quiet() -> None:
    assert run("tools/migrations/helper.py", "op.drop_table('x')\nmigrations.RemoveField('a', 'b')\n") == []


def test_tokenizer_keeps_strings_comments_and_dollar_quotes_apart() -> None:
    text = "SELECT 'a;b', E'it\\'s;', \"we;ird\", $x$ ; $x$ -- c;\n/* ; /* ; */ ; */ FROM t; SELECT 2"
    statements = split_statements(text)
    assert len(statements) == 2
    assert [t.kind for t in statements[0].tokens if t.kind != "punct"] == [
        "word",
        "string",
        "word",
        "string",
        "ident",
        "string",
        "word",
        "word",
    ]


def test_create_index_on_quoted_and_schema_qualified_new_table_is_quiet() -> None:
    sql = 'CREATE TABLE app."Orders" (id int);\nCREATE INDEX i ON app."Orders" (id);\nCREATE INDEX j ON "orders" (id);'
    assert [(i.rule_id, i.values["table"]) for i in check_sql(sql)] == [("sql-create-index-not-concurrently", "orders")]


@pytest.mark.parametrize(
    "text",
    [
        "ALTER TABLE orders ADD COLUMN x text DEFAULT 'unterminated;\nDROP TABLE orders;\n",
        "CREATE INDEX a ON t (x) /* never closed\nDROP TABLE orders;",
        "DO $$ BEGIN DROP TABLE orders; -- no closing tag\n",
        'ALTER TABLE "unterminated ADD COLUMN x int NOT NULL;',
        "ALTER TABLE;\nALTER TABLE t ADD;\nALTER TABLE t ALTER;\nCREATE INDEX;\nDROP TABLE;\nALTER TABLE t DROP;\n",
        ";;;;\n\x00\x01\ufffd\ud800 ALTER TABLE t DROP COLUMN \ufffd;",
        "(" * 50_000 + ")" * 50_000,
    ],
)
def test_hostile_sql_never_raises(text: str) -> None:
    findings = run("db/migrations/666.sql", text)
    assert all(isinstance(f, Finding) for f in findings)


def test_unterminated_string_swallows_the_rest_instead_of_inventing_statements() -> None:
    text = "SELECT 'oops;\nDROP TABLE orders;\n"
    assert run("db/migrations/7.sql", text) == []


def test_hostile_framework_files_never_raise() -> None:
    for path, text in [
        ("alembic/versions/x.py", "from alembic import op\ndef upgrade(:\n    op.create_index(\n"),
        ("shop/migrations/0001.py", "from django.db import migrations\n" + "[" * 5000),
        ("migrations/x.js", "module.exports = { up: async (q) => { await q.addIndex( " + "(" * 3000),
        ("migrations/x.ts", "\x00\ufffd" * 1000),
    ]:
        assert isinstance(run(path, text), list)


def test_large_migration_is_analyzed_quickly() -> None:
    line = "ALTER TABLE t{i} ADD COLUMN c text; -- '$$ {i}\nINSERT INTO x VALUES ('{i};');\n"
    body = "".join(line.format(i=i) for i in range(20_000))
    text = body + "CREATE INDEX late ON orders (x);\n"
    started = time.perf_counter()
    findings = run("db/migrations/9000_big.sql", text)
    elapsed = time.perf_counter() - started
    assert [f.start_line for f in findings] == [40_001]
    assert elapsed < 10, elapsed


def test_oversized_file_is_not_parsed() -> None:
    text = "CREATE INDEX a ON t (x);\n" + "-- filler\n" * 300_000
    assert run("db/migrations/10_huge.sql", text) == []


def test_tokenize_is_linear_on_many_comments() -> None:
    text = "/* c */ " * 100_000
    started = time.perf_counter()
    assert tokenize(text) == []
    assert time.perf_counter() - started < 5


def test_default_analyzers_include_the_migration_analyzer() -> None:
    assert any(isinstance(a, SqlMigrationAnalyzer) for a in default_analyzers())


def test_widening_to_text_types_is_reported_at_medium_with_a_note() -> None:
    text = "ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);\nALTER TABLE orders ALTER COLUMN n TYPE bigint;\n"
    found = {f.start_line: f for f in run("db/migrations/11.sql", text)}
    assert found[1].severity == Severity.medium and "binary-compatible" in (found[1].advice or "")
    assert found[2].severity == Severity.high


def test_clickhouse_projection_drop_is_not_a_column_drop() -> None:
    text = "ALTER TABLE umami.events DROP PROJECTION p_url;\nALTER TABLE umami.events DROP COLUMN old;\n"
    found = run("db/clickhouse/migrations/06.sql", text)
    assert [(f.start_line, f.source) for f in found] == [(2, "sql-drop-column")]


def test_constant_default_not_null_column_is_not_reported() -> None:
    """Metadata-only since PostgreSQL 11 (and instant in MySQL 8): read on ordinary commits, never worth raising."""
    assert run("db/migrations/12.sql", "ALTER TABLE teams ADD COLUMN sharing boolean NOT NULL DEFAULT true;\n") == []
    assert [f.source for f in run("db/migrations/13.sql", "ALTER TABLE teams ADD COLUMN s boolean NOT NULL;\n")] == [
        "sql-add-column-not-null-without-default"
    ]


class _Files:
    """A RepoView over a dict: only read_text is used by the engine."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: str) -> str:
        return self.files[path]


def test_engine_runs_the_migration_analyzer_on_the_changed_lines_only() -> None:
    from bot.analyzers.engine import analyze_change
    from bot.core.repo_config import RepoConfig

    head = "CREATE INDEX old_one ON t (a);\nCREATE INDEX new_one ON t (b);\n"
    diff = (
        "diff --git a/migrations/7.sql b/migrations/7.sql\n--- a/migrations/7.sql\n+++ b/migrations/7.sql\n"
        "@@ -1 +1,2 @@\n CREATE INDEX old_one ON t (a);\n+CREATE INDEX new_one ON t (b);\n"
    )
    result = analyze_change(parse_diff(diff), _Files({"migrations/7.sql": head}), RepoConfig(), default_analyzers())  # type: ignore[arg-type]
    assert [(f.path, f.start_line, f.source) for f in result.findings] == [
        ("migrations/7.sql", 2, "sql-create-index-not-concurrently")
    ]
    assert result.coverage[0].analyzers == ("sql-migrations", "safeguards") and not result.errors


SQL_ALPHABET = "abc CREATE INDEX ON ALTER TABLE DROP COLUMN ADD NOT NULL DEFAULT ( ) , ; ' \" $ $$ -- /* */ \n E\\"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SQL_ALPHABET.split(" ") + list("';\"$-/*\n\\ ")), max_size=120))
def test_tokens_are_ordered_slices_of_the_text_and_checks_never_raise(pieces: list[str]) -> None:
    text = " ".join(pieces)
    tokens = tokenize(text)
    end = 0
    for token in tokens:
        assert token.start >= end and text[token.start : token.end] == token.text
        end = token.end
    for issue in check_sql(text):
        assert 0 <= issue.start <= issue.end <= len(text)
    assert isinstance(run("db/migrations/p.sql", text), list)


def test_sqlc_query_files_are_not_migrations() -> None:
    text = "-- name: DeleteAllAuthors :exec\nDELETE FROM authors;\n\n"
    text += "-- name: ListAuthors :many\nSELECT * FROM authors;\n"
    assert run("db/queries/authors.sql", text) == []


def test_index_in_a_multi_statement_file_keeps_the_fix_and_says_to_split_the_file() -> None:
    [alone] = run("db/migrations/13.sql", "CREATE INDEX a ON t (x);\n")
    [shared] = run("db/migrations/14.sql", "ALTER TABLE t ADD COLUMN y int;\nCREATE INDEX a ON t (x);\n")
    assert alone.suggestion == shared.suggestion == "CREATE INDEX CONCURRENTLY a ON t (x);"
    assert "migration file of its own" not in (alone.advice or "")
    assert "migration file of its own" in (shared.advice or "")


def test_plain_parser_rule_files_stay_out_of_the_ast_grep_pack() -> None:
    from bot.analyzers.dockerfile import DockerfileAnalyzer
    from bot.analyzers.kubernetes import KubernetesAnalyzer
    from bot.analyzers.rule_pack import builtin_rules

    ours = {*SqlMigrationAnalyzer().rule_ids(), *KubernetesAnalyzer().rule_ids(), *DockerfileAnalyzer().rule_ids()}
    assert not {r.id for r in builtin_rules()} & ours


def test_code_migrations_for_another_database_only_report_data_loss() -> None:
    text = (
        "from alembic import op\n\ndef upgrade():\n"
        "    op.create_index('ix_a', 'orders', ['a'])\n    op.drop_column('orders', 'legacy')\n"
    )
    pg = run("app/migrations/versions/postgresql/1_x.py", text)
    lite = run("app/migrations/versions/sqlite/1_x.py", text)
    assert [f.source for f in pg] == ["sql-create-index-not-concurrently", "sql-drop-column"]
    assert [f.source for f in lite] == ["sql-drop-column"]


def test_the_rollback_half_of_a_goose_or_dbmate_file_is_a_rollback() -> None:
    """Dropping what the same migration adds, in its Down section, is the rollback, not a data loss."""
    markers = (
        ("-- +goose Up", "-- +goose Down"),
        ("-- migrate:up", "-- migrate:down"),
        ("-- +migrate Up", "-- +migrate Down"),
    )
    for up, down in markers:
        text = f"{up}\nALTER TABLE album ADD COLUMN mbz text;\n\n{down}\nALTER TABLE album DROP COLUMN mbz;\n"
        assert run("db/migrations/20240101_add_mbz.sql", text) == [], up
    text = "-- +goose Up\nALTER TABLE album DROP COLUMN mbz;\n-- +goose Down\nALTER TABLE album ADD COLUMN mbz text;\n"
    [f] = run("db/migrations/20240102_drop_mbz.sql", text)
    assert (f.source, f.start_line) == ("sql-drop-column", 2)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE INDEX idx_a ON orders (a);\n",
        "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);\n",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);\n",
    ],
)
def test_a_lock_whose_length_depends_on_table_size_is_shown_but_never_blocks_alone(statement: str) -> None:
    from bot.core.policy import decide
    from bot.core.repo_config import RepoConfig

    [f] = run("db/migrations/003_orders.sql", statement)
    assert f.severity == Severity.high and f.category.value == "locking_migration"
    conclusion, verdict = decide([f], RepoConfig())
    assert conclusion.value == "success" and "confidence" in verdict
    # a team that knows its tables are large can make them block: the gate's own threshold
    strict = RepoConfig.model_validate({"gate": {"min_confidence": 0.7}})
    assert decide([f], strict)[0].value == "failure"


def test_validating_not_valid_constraint_later_is_quiet() -> None:
    text = (
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers (id) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;\n"
    )
    assert [f.source for f in run("db/migrations/004_orders.sql", text)] == []


def test_a_column_dropped_after_the_migration_copied_its_values_is_low_and_never_blocks() -> None:
    text = (
        "-- keep the hash: move it into the credentials document\n"
        "UPDATE clients SET credentials = jsonb_build_object('hash', secret) WHERE secret IS NOT NULL;\n"
        "ALTER TABLE clients DROP COLUMN secret;\n"
    )
    [f] = run("db/migrations/005_clients.up.sql", text)
    assert f.source == "sql-drop-column" and f.start_line == 3
    assert f.severity == Severity.low and f.confidence < 0.8
    assert "copies `secret` first" in (f.advice or "")


@pytest.mark.parametrize(
    "before",
    [
        "",
        "UPDATE clients SET secret = NULL;\n",  # assigns the column, keeps nothing
        "-- we update the secret elsewhere\nUPDATE clients SET name = 'secret';\n",  # a comment and a string
    ],
)
def test_a_column_dropped_with_nothing_copying_it_keeps_its_severity(before: str) -> None:
    found = run("db/migrations/006_clients.up.sql", before + "ALTER TABLE clients DROP COLUMN secret;\n")
    [f] = [f for f in found if f.source == "sql-drop-column"]
    assert f.severity == Severity.medium and f.confidence == 0.8


def _change_review(tmp_path: Path, before: dict[str, str], after: dict[str, str]) -> list[str]:
    from tests.analyzers.test_differential import _review

    return [f.source for f in _review(tmp_path, before, after).findings]


CREATE_RULES = "CREATE TABLE reaction_rules (id bigserial PRIMARY KEY, conversation_id bigint, kind text);\n"
INDEX_RULES = "CREATE INDEX reaction_rules_kind ON reaction_rules (kind);\n"


def test_a_lock_on_a_table_another_new_migration_of_the_change_creates_is_quiet(tmp_path: Path) -> None:
    both = {"db/migrations/0001_rules.up.sql": CREATE_RULES, "db/migrations/0002_rules_kind.up.sql": INDEX_RULES}
    assert "sql-create-index-not-concurrently" not in _change_review(tmp_path / "a", {"README.md": "x\n"}, both)
    # the table existed before the change: the index build locks a table with rows
    old = _change_review(tmp_path / "b", {"db/migrations/0001_rules.up.sql": CREATE_RULES},
                         {"db/migrations/0002_rules_kind.up.sql": INDEX_RULES})
    assert "sql-create-index-not-concurrently" in old
