"""Shared fixtures for the service tests: a fake GitHub with one PR, and DBOS on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support import webhooks as wh

PG_URL = os.environ.get("SCALE_REVIEW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "e2e-secret"

# A 3-file change: a query inside a loop, an HTTP call without timeout, and a harmless file.
ORDERS_BASE = "def total(db):\n    return 0\n"
ORDERS_HEAD = (
    "import requests\n\n\n"
    "def total(db, ids):\n"
    "    out = []\n"
    "    for i in ids:\n"
    "        out.append(db.execute(\"SELECT * FROM orders WHERE id = %s\", (i,)).fetchone())\n"
    "    return out\n\n\n"
    "def fetch(url):\n"
    "    return requests.get(url).json()\n"
)
PR_FILES = {"app/orders.py": (ORDERS_BASE, ORDERS_HEAD), "README.md": ("hi\n", "hello\n")}


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=2):
            return None
    except Exception as exc:  # any failure: unreachable
        return f"{type(exc).__name__}: {str(exc)[:120]}"


def require_postgres() -> None:
    why = postgres_reachable()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {why}")
    pytest.skip(f"PostgreSQL at {PG_URL} unreachable ({why}); set SCALE_REVIEW_TEST_DATABASE_URL or start it")


@dataclass
class Backend:
    name: str
    url: str
    schema: str | None = None


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'scale-review.db'}")
        return
    require_postgres()
    schema = f"sr_test_{uuid.uuid4().hex[:10]}"  # a fresh schema per test, dropped afterwards
    yield Backend("postgres", PG_URL, schema=schema)
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_backend(tmp_path) -> Backend:  # type: ignore[no-untyped-def]
    return Backend("sqlite", f"sqlite:///{tmp_path / 'scale-review.db'}")


@pytest.fixture
def fake_github() -> Iterator:  # type: ignore[type-arg]
    from tests.support.fakegithub import FakeGitHub

    with FakeGitHub() as gh:
        gh.add_installation(wh.INSTALLATION, "octo")
        gh.add_repo(wh.REPO, {"README.md": "hi\n"}, installation_id=wh.INSTALLATION)
        gh.add_pull(wh.REPO, 7, PR_FILES, title="Orders endpoint")
        gh.set_permission(wh.REPO, "maintainer", "write")
        gh.set_permission(wh.REPO, "reader", "read")
        yield gh


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


def pytest_unconfigure(config: pytest.Config) -> None:
    """After the summary is printed: do not hang on DBOS threads that outlive their test (see
    bot.app.workflows.stuck_threads); end with pytest's own exit status instead."""
    import threading

    from bot.app.workflows import exit_now_if_stuck

    status = config.stash.get(_EXIT_STATUS, 1)
    exit_now_if_stuck(status)
    # a thread that only turns up later still must not hang the interpreter: checked again at exit,
    # before concurrent.futures joins its workers (threading's exit hooks run last-registered first)
    threading._register_atexit(lambda: exit_now_if_stuck(status))  # type: ignore[attr-defined]


_EXIT_STATUS = pytest.StashKey[int]()
