"""Which databases a project targets, read from its tree: one fires/quiet pair per source, and the budget."""

from __future__ import annotations

import itertools

import pytest

from bot.facts.databases import (
    MYSQL,
    POSTGRESQL,
    SQLITE,
    DatabaseBudget,
    build_database_facts,
    database_facts_for,
)
from tests.support.memory_repo import MemoryRepo

_REV = itertools.count()


def _engines(files: dict[str, str]) -> set[str]:
    return set(build_database_facts(MemoryRepo(files, rev=f"db-{next(_REV)}")).engines)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # Rails database.yml: production's adapter; a development/test-only adapter does not count
        ({"config/database.yml": "default: &default\n  adapter: mysql2\nproduction:\n  <<: *default\n"}, {MYSQL}),
        (
            {"config/database.yml": "test:\n  adapter: sqlite3\nproduction:\n  adapter: postgresql\n"},
            {POSTGRESQL},
        ),
        # an ERB default names the engine it falls back to
        ({"config/database.yml": "production:\n  adapter: <%= ENV['A'].presence || \"mysql2\" %>\n"}, {MYSQL}),
        # Gemfile: driver gems; one in a development/test group does not count
        ({"Gemfile": "source 'https://rubygems.org'\ngem 'trilogy'\n"}, {MYSQL}),
        ({"Gemfile": "gem 'pg'\ngroup :development, :test do\n  gem 'sqlite3'\nend\n"}, {POSTGRESQL}),
        ({"Gemfile": "gem 'pg'\ngem 'sqlite3', group: :test\n"}, {POSTGRESQL}),
        ({"Gemfile": "gem 'pg'\ngem 'mysql2' if ENV['DB'] == 'mysql'\n"}, {POSTGRESQL, MYSQL}),
        # Django settings: ENGINE strings; a test settings module does not count
        (
            {"shop/settings.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql'}}\n"},
            {MYSQL},
        ),
        (
            {
                "shop/settings/base.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n",
                "shop/settings/test.py": "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n",
            },
            {POSTGRESQL},
        ),
        ({"app/settings.py": "DATABASE_URL = env('DATABASE_URL', default='sqlite:///db.sqlite3')\n"}, {SQLITE}),
        # Python drivers in requirements; a dev requirements file does not count
        ({"requirements.txt": "Django==5.0\nmysqlclient==2.2\n", "requirements-dev.txt": "psycopg2\n"}, {MYSQL}),
        # Prisma datasource provider (a generator's provider is no database)
        (
            {"prisma/schema.prisma": 'generator client {\n  provider = "prisma-client-js"\n}\n'
             'datasource db {\n  provider = "mysql"\n  url = env("DATABASE_URL")\n}\n'},
            {MYSQL},
        ),
        # knex client, TypeORM type, Sequelize dialect
        ({"knexfile.js": "module.exports = { production: { client: 'mysql2' } }\n"}, {MYSQL}),
        ({"src/data-source.ts": "export const ds = new DataSource({ type: 'sqlite', database: 'a.db' })\n"}, {SQLITE}),
        ({"config/config.json": '{"production": {"dialect": "mariadb"}}'}, {MYSQL}),
        ({"src/db.ts": "const field = { type: 'string' }\n"}, set()),
        # JavaScript drivers: dependencies count, devDependencies do not
        ({"package.json": '{"dependencies": {"pg": "^8"}, "devDependencies": {"sqlite3": "^5"}}'}, {POSTGRESQL}),
        # Go driver modules in go.mod; an indirect one does not count
        (
            {"go.mod": "module x\n\nrequire (\n\tgithub.com/go-sql-driver/mysql v1.8.1\n"
             "\tgithub.com/lib/pq v1.10.9 // indirect\n)\n"},
            {MYSQL},
        ),
        ({"go.mod": "module x\n\nrequire github.com/jackc/pgx/v5 v5.5.0\n"}, {POSTGRESQL}),
        # docker-compose service images; a test compose file does not count
        ({"docker-compose.yml": "services:\n  db:\n    image: mariadb:11\n"}, {MYSQL}),
        ({"compose.yml": "services:\n  db:\n    image: 'postgres:16-alpine'\n  cache:\n    image: redis:7\n"},
         {POSTGRESQL}),
        ({"docker-compose.test.yml": "services:\n  db:\n    image: mysql:8\n"}, set()),
        # files under tests, fixtures or examples say nothing about production
        ({"spec/dummy/config/database.yml": "production:\n  adapter: mysql2\n"}, set()),
        ({"README.md": "Works with postgres://"}, set()),
    ],
)
def test_each_source_names_the_engines_it_declares(files: dict[str, str], expected: set[str]) -> None:
    assert _engines(files) == expected


def test_several_sources_add_up_and_say_where_they_were_read() -> None:
    facts = build_database_facts(
        MemoryRepo({"Gemfile": "gem 'pg'\ngem 'mysql2'\n", "config/database.yml": "production:\n  adapter: mysql2\n"},
                   rev="db-where")
    )
    assert facts.engines == {POSTGRESQL, MYSQL}
    assert facts.where(MYSQL) == "Gemfile: gem mysql2"
    assert facts.where(POSTGRESQL) == "Gemfile: gem pg"


def test_a_monorepo_package_speaks_for_its_own_files() -> None:
    facts = build_database_facts(
        MemoryRepo(
            {"packages/a/package.json": '{"dependencies": {"pg": "1"}}',
             "packages/b/package.json": '{"dependencies": {"better-sqlite3": "1"}}'},
            rev="db-mono",
        )
    )
    assert facts.engines_for("packages/a/migrations/001.ts") == {POSTGRESQL}
    assert facts.engines_for("packages/b/src/db/migrations/001.ts") == {SQLITE}
    assert facts.engines_for("tools/x.ts") == {POSTGRESQL, SQLITE}


def test_reading_is_bounded_in_files_and_cached_per_commit() -> None:
    files = {f"svc{i}/docker-compose.yml": "services:\n  db:\n    image: postgres\n" for i in range(10)}
    repo = MemoryRepo(files, rev="db-budget")
    facts = build_database_facts(repo, DatabaseBudget(max_files=3))
    assert len(facts.files_read) == 3 and "over the 3-file cap" in facts.not_read[0]
    first = database_facts_for(repo)
    reads = len(repo.reads)
    assert database_facts_for(repo) is first and len(repo.reads) == reads


def test_reading_stops_at_its_time_budget() -> None:
    ticks = iter(range(100))
    repo = MemoryRepo({"Gemfile": "gem 'pg'\n", "go.mod": "require github.com/lib/pq v1\n"}, rev="db-time")
    facts = build_database_facts(repo, DatabaseBudget(max_seconds=0.5), clock=lambda: float(next(ticks)))
    assert facts.files_read == [] and "left unread" in facts.not_read[0]
