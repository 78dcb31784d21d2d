"""The repository memory table on SQLite and PostgreSQL: its migration, idempotent records, revoking."""

from __future__ import annotations

import sqlalchemy as sa

from bot.app.memory_store import MIGRATIONS, TABLE, MemoryStore
from bot.app.workflows import sqlalchemy_url


def store_on(backend, clock=None):
    engine = sa.create_engine(sqlalchemy_url(backend.url))
    return MemoryStore(engine, backend.schema or "dbos_replies_test", **({"clock": clock} if clock else {}))


def record(store, comment_id, fp="MF-1", kind="dismiss", repo="o/r"):
    return store.record(repo=repo, rule="py-requests-no-timeout", fingerprint=fp, finding_id="SR-aaaaaaaaaa",
                        kind=kind, by="maintainer", reason="capped upstream", pr=7, comment_id=comment_id)


def test_the_migration_creates_the_table_once_and_records_itself(backend):
    store = store_on(backend)
    assert store.migrate() == [name for name, _ in MIGRATIONS]
    assert store.migrate() == []  # a second start applies nothing
    assert store_on(backend).migrate() == []  # nor does another process
    assert store.applied() == ["0001_memory"]
    inspector = sa.inspect(store.engine)
    columns = {c["name"] for c in inspector.get_columns(TABLE, schema=store.schema)}
    assert {"repo", "rule", "fingerprint", "kind", "by_login", "reason", "pr", "comment_id", "created_at",
            "revoked_at"} <= columns


def test_a_reply_is_recorded_once_and_revoking_keeps_the_row(backend):
    store = store_on(backend, clock=lambda: 1_700_000_000.0)
    store.migrate()
    first, new = record(store, 55)
    again, new_again = record(store, 55, fp="MF-other")  # the same reply redelivered
    assert new and not new_again and again.id == first.id and again.fingerprint == "MF-1"
    record(store, 56, fp="MF-2", kind="accept")
    record(store, 57, repo="o/other")
    assert [e.comment_id for e in store.entries("o/r")] == [55, 56]
    assert store.revoke("o/r", first.id, "admin") and not store.revoke("o/r", first.id, "admin")
    assert not store.revoke("o/other", first.id, "admin")  # another repository's id space
    assert [e.comment_id for e in store.entries("o/r")] == [56]
    assert [e.revoked for e in store.entries("o/r", include_revoked=True)] == [True, False]
