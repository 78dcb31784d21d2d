"""A second idempotency key for the receiver's durable enqueue: a hash of event + body, kept 24 hours.

The delivery and event headers are outside GitHub's signature, so a captured signed body can be sent
again under a new delivery id; the workflow id (= delivery id) would not stop it. The guard keeps one
row per body hash in the DBOS system database (a table of our own, next to DBOS's on PostgreSQL),
written in the same transaction as the enqueue: a body seen within the window under another delivery
id is a replay, answered like a duplicate. Rows older than the window no longer count and are
deleted at most once a minute, so the table holds one window of deliveries at most.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

Claim = Literal["new", "duplicate", "replay"]

TABLE = "scale_review_seen_bodies"
WINDOW_SECONDS = 24 * 3600.0
PRUNE_EVERY_SECONDS = 60.0
MAX_DELIVERY_ID = 200


def body_key(event: str, body: bytes) -> str:
    """The replay key of a delivery: SHA-256 of the event name and the raw (signed) body."""
    return hashlib.sha256(event.encode("utf-8", "replace") + b"\n" + body).hexdigest()


class ReplayGuard:
    def __init__(self, engine: sa.Engine, schema: str | None = None, *, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        """`schema`: PostgreSQL only (the DBOS system schema); SQLite has none."""
        self.engine = engine
        self.window = window
        self.clock = clock
        self.metadata = sa.MetaData()
        self.table = sa.Table(
            TABLE, self.metadata,
            sa.Column("body_key", sa.String(64), primary_key=True),
            sa.Column("delivery_id", sa.String(MAX_DELIVERY_ID), nullable=False),
            sa.Column("seen_at", sa.Float, nullable=False, index=True),
            schema=None if engine.dialect.name == "sqlite" else schema,
        )
        self._pruned_at = 0.0
        # built once with bind parameters: constructing a statement per delivery would cost more than running it
        t = self.table
        insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(t).values(
            body_key=sa.bindparam("key"), delivery_id=sa.bindparam("delivery"), seen_at=sa.bindparam("now"))
        self._upsert = insert.on_conflict_do_update(  # an expired row is taken over, a live one left alone
            index_elements=[t.c.body_key],
            set_={"delivery_id": insert.excluded.delivery_id, "seen_at": insert.excluded.seen_at},
            where=t.c.seen_at < sa.bindparam("cutoff"),
        ).returning(t.c.body_key)  # rowcount is -1 on psycopg: a returned row says it was written
        self._holder = sa.select(t.c.delivery_id).where(t.c.body_key == sa.bindparam("key"))
        self._expired = sa.delete(t).where(t.c.seen_at < sa.bindparam("cutoff"))

    def create(self) -> None:
        self.metadata.create_all(self.engine, checkfirst=True)

    def claim(self, conn: sa.Connection, key: str, delivery_id: str) -> Claim:
        """Record `key` for `delivery_id` inside the caller's transaction: "new" when no live row
        had it, "duplicate" when the same delivery holds it, "replay" when another delivery does."""
        now = self.clock()
        self._prune(conn, now)
        delivery_id = delivery_id[:MAX_DELIVERY_ID]
        row = conn.execute(self._upsert, {"key": key, "delivery": delivery_id, "now": now,
                                          "cutoff": now - self.window}).first()
        if row is not None:
            return "new"
        holder = conn.execute(self._holder, {"key": key}).scalar()
        return "duplicate" if holder == delivery_id else "replay"

    def _prune(self, conn: sa.Connection, now: float) -> None:
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        conn.execute(self._expired, {"cutoff": now - self.window})

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(self.table)).scalar() or 0)
