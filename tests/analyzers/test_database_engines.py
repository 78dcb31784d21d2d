"""Index-build lock findings follow the databases the project targets: unchanged on PostgreSQL (or when
nothing says), left out on MySQL or SQLite, lowered with a note when the project also runs elsewhere."""

from __future__ import annotations

import itertools

import pytest

from bot.analyzers import default_analyzers
from bot.analyzers.engine import AnalysisResult, analyze_change
from bot.core.diff import ChangeSet
from bot.core.model import Severity
from bot.core.repo_config import RepoConfig
from tests.support.analyzer_fixtures import change_for
from tests.support.memory_repo import MemoryRepo

_REV = itertools.count()
RAILS_PATH = "db/migrate/20260101000000_add_index_to_orders.rb"
RAILS = (
    "class AddIndexToOrders < ActiveRecord::Migration[7.1]\n"
    "  def change\n"
    "    add_index :orders, :created_at\n"
    "  end\n"
    "end\n"
)
DJANGO_PATH = "shop/migrations/0002_order_created_index.py"
DJANGO = (
    "from django.db import migrations, models\n\n\n"
    "class Migration(migrations.Migration):\n"
    "    dependencies = [('shop', '0001_initial')]\n"
    "    operations = [\n"
    "        migrations.AddIndex(model_name='order', index=models.Index(fields=['created'], name='order_created')),\n"
    "    ]\n"
)
KNEX_PATH = "migrations/20260101_add_orders_index.js"
KNEX = (
    "exports.up = function (knex) {\n"
    "  return knex.schema.alterTable('orders', (t) => {\n"
    "    t.index(['created_at'], 'orders_created_at');\n"
    "  });\n"
    "};\n"
)
SQL_PATH = "migrations/000042_add_orders_index.up.sql"
SQL = "CREATE INDEX orders_created_at ON orders (created_at);\n"
INDEX_RULE = "sql-create-index-not-concurrently"


def _review(path: str, text: str, project: dict[str, str]) -> AnalysisResult:
    repo = MemoryRepo({**project, path: text}, rev=f"engines-{next(_REV)}")
    return analyze_change(ChangeSet((change_for(text, path),)), repo, RepoConfig(), default_analyzers())


def _index_findings(result: AnalysisResult) -> list[tuple[str, str, float]]:
    return [(f.source, f.severity.value, f.confidence) for f in result.findings if f.source == INDEX_RULE]


MYSQL_ONLY = [
    {"config/database.yml": "production:\n  adapter: mysql2\n"},
    {"Gemfile": "gem 'rails'\ngem 'trilogy'\n"},
    {"shop/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql'}}\n"},
    {"knexfile.js": "module.exports = { client: 'mysql2' }\n"},
    {"prisma/schema.prisma": 'datasource db {\n  provider = "mysql"\n}\n'},
    {"go.mod": "module x\n\nrequire github.com/go-sql-driver/mysql v1.8.1\n"},
    {"docker-compose.yml": "services:\n  db:\n    image: mysql:8.4\n"},
    {"go.mod": "module x\n\nrequire modernc.org/sqlite v1.30.0\n"},
]


@pytest.mark.parametrize("project", MYSQL_ONLY)
@pytest.mark.parametrize(("path", "text"), [(RAILS_PATH, RAILS), (DJANGO_PATH, DJANGO), (KNEX_PATH, KNEX),
                                             (SQL_PATH, SQL)])
def test_quiet_when_the_project_targets_only_mysql_or_sqlite(path: str, text: str, project: dict[str, str]) -> None:
    result = _review(path, text, project)
    assert _index_findings(result) == []
    assert any("index-build lock finding(s) left out" in n and "only" in n for n in result.notes)


POSTGRES_ONLY = [
    {"config/database.yml": "default: &default\n  adapter: postgresql\ntest:\n  adapter: sqlite3\n"},
    {"shop/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"},
    {"go.mod": "module x\n\nrequire github.com/lib/pq v1.10.9\n"},
    {},  # nothing says: the claim stands as before
]


@pytest.mark.parametrize("project", POSTGRES_ONLY)
@pytest.mark.parametrize(("path", "text"), [(RAILS_PATH, RAILS), (DJANGO_PATH, DJANGO), (KNEX_PATH, KNEX),
                                             (SQL_PATH, SQL)])
def test_fires_unchanged_on_postgresql_or_when_nothing_says(path: str, text: str, project: dict[str, str]) -> None:
    result = _review(path, text, project)
    (finding,) = [f for f in result.findings if f.source == INDEX_RULE]
    assert finding.severity == Severity.high and finding.confidence == 0.7
    assert "also runs on" not in finding.evidence
    assert not any("left out" in n for n in result.notes)


MULTI = [
    ({"Gemfile": "gem 'pg'\ngem 'mysql2'\n"}, "MySQL", "Gemfile: gem mysql2"),
    ({"sandbox/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n",
      "requirements.txt": "psycopg2-binary\n"}, "SQLite", "sandbox/settings.py: Django backend sqlite3"),
    ({"go.mod": "module x\n\nrequire (\n\tgithub.com/lib/pq v1\n\tgithub.com/mattn/go-sqlite3 v1\n)\n"},
     "SQLite", "go.mod: Go module github.com/mattn/go-sqlite3"),
]


@pytest.mark.parametrize(("project", "other", "where"), MULTI)
@pytest.mark.parametrize(("path", "text"), [(RAILS_PATH, RAILS), (DJANGO_PATH, DJANGO), (SQL_PATH, SQL)])
def test_lowered_with_a_note_when_the_project_also_runs_elsewhere(
    path: str, text: str, project: dict[str, str], other: str, where: str
) -> None:
    (finding,) = [f for f in _review(path, text, project).findings if f.source == INDEX_RULE]
    assert finding.severity == Severity.medium and finding.confidence < RepoConfig().gate.min_confidence
    assert f"This project also runs on {other} ({where}); CONCURRENTLY is PostgreSQL-only" in finding.evidence


def test_a_postgresql_file_of_a_multi_engine_project_keeps_its_finding() -> None:
    project = {"go.mod": "module x\n\nrequire (\n\tgithub.com/lib/pq v1\n\tgithub.com/go-sql-driver/mysql v1\n)\n"}
    (finding,) = [f for f in _review("migrations/postgres/0042_idx.up.sql", SQL, project).findings
                  if f.source == INDEX_RULE]
    assert finding.severity == Severity.high and "also runs on" not in finding.evidence


def test_other_findings_never_read_the_tree() -> None:
    repo = MemoryRepo({"Gemfile": "gem 'mysql2'\n", "app/x.py": "x = 1\n"}, rev=f"engines-{next(_REV)}")
    analyze_change(ChangeSet((change_for("x = 1\n", "app/x.py"),)), repo, RepoConfig(), default_analyzers())
    assert "Gemfile" not in repo.reads


def test_a_unique_constraint_building_its_index_follows_the_same_engines() -> None:
    sql = "ALTER TABLE orders ADD CONSTRAINT orders_code UNIQUE (code);\n"
    rule = "sql-constraint-builds-index"
    mysql = _review(SQL_PATH, sql, {"Gemfile": "gem 'mysql2'\n"})
    assert [f for f in mysql.findings if f.source == rule] == []
    (multi,) = [f for f in _review(SQL_PATH, sql, {"Gemfile": "gem 'pg'\ngem 'sqlite3'\n"}).findings
                if f.source == rule]
    assert multi.severity == Severity.medium and "also runs on SQLite" in multi.evidence
