"""The repository memory table: dismissals, accepted risks and withdrawals kept across pull requests.

A table of our own in the DBOS system database (next to DBOS's schema on PostgreSQL), created by a numbered
migration recorded in `scale_review_migrations`, so later versions can change it in order on SQLite and
PostgreSQL alike. One row per decision, unique per (repository, comment): the reply that made it, so a
redelivered reply never records twice. Revoking keeps the row (who and when) and stops it counting.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bot.review.suppressions import MemoryEntry, MemoryKind

TABLE = "scale_review_memory"
MIGRATIONS_TABLE = "scale_review_migrations"
MAX_REASON = 500


def _tables(metadata: sa.MetaData, schema: str | None) -> tuple[sa.Table, sa.Table]:
    migrations = sa.Table(
        MIGRATIONS_TABLE, metadata,
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("applied_at", sa.Float, nullable=False),
        schema=schema,
    )
    memory = sa.Table(
        TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("finding_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("by_login", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(MAX_REASON), nullable=False),
        sa.Column("pr", sa.Integer, nullable=False),
        sa.Column("comment_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("revoked_by", sa.String(100), nullable=True),
        sa.UniqueConstraint("repo", "comment_id", name="uq_scale_review_memory_comment"),
        sa.Index("ix_scale_review_memory_repo_fp", "repo", "fingerprint"),
        schema=schema,
    )
    return migrations, memory


def _create_memory(conn: sa.Connection, store: MemoryStore) -> None:
    store.memory.create(conn, checkfirst=True)


# (name, step) in order; a step runs once per database, in the same transaction as its record
MIGRATIONS: tuple[tuple[str, Callable[[sa.Connection, MemoryStore], None]], ...] = (
    ("0001_memory", _create_memory),
)


class MemoryStore:
    def __init__(self, engine: sa.Engine, schema: str | None = None, *, clock: Callable[[], float] = time.time):
        """`schema`: PostgreSQL only (the DBOS system schema); SQLite has none."""
        self.engine = engine
        self.clock = clock
        self.schema = None if engine.dialect.name == "sqlite" else schema
        self.metadata = sa.MetaData()
        self.migrations, self.memory = _tables(self.metadata, self.schema)

    def migrate(self) -> list[str]:
        """Apply the migrations this database has not had yet; returns their names."""
        with self.engine.begin() as conn:
            if self.schema:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            self.migrations.create(conn, checkfirst=True)
        applied: list[str] = []
        for name, step in MIGRATIONS:
            with self.engine.begin() as conn:
                done = conn.execute(sa.select(self.migrations.c.name).where(self.migrations.c.name == name)).first()
                if done is not None:
                    continue
                step(conn, self)
                conn.execute(sa.insert(self.migrations).values(name=name, applied_at=self.clock()))
                applied.append(name)
        return applied

    def applied(self) -> list[str]:
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(sa.select(self.migrations.c.name).order_by(self.migrations.c.name))]

    def record(self, *, repo: str, rule: str, fingerprint: str, finding_id: str, kind: MemoryKind, by: str,
               reason: str, pr: int, comment_id: int) -> tuple[MemoryEntry, bool]:
        """(the entry, whether it is new); the same comment recorded again returns the first entry."""
        t = self.memory
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t).where(t.c.repo == repo, t.c.comment_id == comment_id)).mappings().first()
            if row is not None:
                return _entry(row), False
            values = dict(repo=repo, rule=rule[:200], fingerprint=fingerprint, finding_id=finding_id[:128],
                          kind=kind, by_login=by[:100], reason=reason[:MAX_REASON], pr=pr, comment_id=comment_id,
                          created_at=self.clock())
            new_id = conn.execute(sa.insert(t).values(**values).returning(t.c.id)).scalar_one()
            return _entry({**values, "id": new_id, "revoked_at": None}), True

    def entries(self, repo: str, *, include_revoked: bool = False) -> list[MemoryEntry]:
        t = self.memory
        query = sa.select(t).where(t.c.repo == repo).order_by(t.c.id)
        if not include_revoked:
            query = query.where(t.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(query).mappings()]

    def revoke(self, repo: str, entry_id: int, by: str) -> bool:
        """Stop an entry counting; False when the repository has no such live entry."""
        t = self.memory
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(t).where(t.c.repo == repo, t.c.id == entry_id, t.c.revoked_at.is_(None))
                                .values(revoked_at=self.clock(), revoked_by=by[:100]).returning(t.c.id)).first()
        return done is not None


def _entry(row: Any) -> MemoryEntry:
    return MemoryEntry(id=int(row["id"]), repo=row["repo"], rule=row["rule"], fingerprint=row["fingerprint"],
                       finding_id=row["finding_id"], kind=row["kind"], by=row["by_login"], reason=row["reason"],
                       pr=int(row["pr"]), comment_id=int(row["comment_id"]), created_at=float(row["created_at"]),
                       revoked=row.get("revoked_at") is not None)


def store_for_url(database_url: str, schema: str | None = None) -> MemoryStore:
    """A store on its own small engine (the CLI): the same DATABASE_URL setting as the service."""
    from bot.app.workflows import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(database_url), pool_pre_ping=True)
    return MemoryStore(engine, schema if schema is not None else "dbos")
