"""Group commit for the receiver's durable enqueue, through DBOS's own `enqueue_in_transaction`.

A DBOS enqueue is two inserts and a commit; on SQLite the commit (an fsync) is most of its cost.
Deliveries that arrive while a commit is in flight are enqueued together in the next transaction,
so a burst pays one fsync per batch instead of one per delivery. One delivery alone is committed
at once (no waiting for company). Each delivery still gets its own DBOS workflow row with id =
delivery id; a redelivery is detected by DBOS (reuse policy "reject") inside the same transaction,
and a replay (the same event and body under a new delivery id) by the replay guard, in it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

import sqlalchemy as sa
from dbos import DBOSClient, EnqueueOptions
from dbos._error import DBOSWorkflowIDInUseError

from bot.app.replay_guard import ReplayGuard
from bot.core.jobs import Job

Outcome = Literal["accepted", "duplicate", "replay"]
MAX_BATCH = 256


class GroupCommitter:
    def __init__(self, engine: sa.Engine, client: DBOSClient, options_for: Callable[[Job], EnqueueOptions],
                 max_batch: int = MAX_BATCH, durable_sql: tuple[str, str] | None = None,
                 guard: ReplayGuard | None = None) -> None:
        """`durable_sql`: statements run around each batch on the same connection (before, after),
        e.g. SQLite's `PRAGMA synchronous` raised to FULL for the receiver's commits only.
        `guard`: refuses a job whose `body_key` another delivery stored within its window."""
        self.engine = engine
        self.guard = guard
        self.durable_sql = durable_sql
        self.client = client
        self.options_for = options_for
        self.max_batch = max_batch
        self._pending: list[tuple[Job, asyncio.Future[Outcome]]] = []
        self._flushing = False

    def write(self, jobs: list[Job]) -> list[Outcome | Exception]:
        """Enqueue `jobs` in one transaction; if it fails, one transaction each (a bad one fails alone)."""
        try:
            with self.engine.connect() as conn:
                self._run(conn, 0)
                try:
                    results: list[Outcome | Exception] = [self._enqueue(conn, job) for job in jobs]
                    conn.commit()
                    return results
                except Exception:
                    conn.rollback()
                    raise
                finally:
                    self._run(conn, 1)
        except Exception as exc:
            if len(jobs) == 1:
                return [exc]
        return [self.write([job])[0] for job in jobs]

    def _run(self, conn: sa.Connection, which: int) -> None:
        if self.durable_sql:
            conn.exec_driver_sql(self.durable_sql[which])
            conn.commit()

    def _enqueue(self, conn: sa.Connection, job: Job) -> Outcome:
        if self.guard is not None and job.body_key:
            claim = self.guard.claim(conn, job.body_key, job.delivery_id)
            if claim != "new":
                return claim
        try:
            self.client.enqueue_in_transaction(conn, self.options_for(job), job.to_dict())
        except DBOSWorkflowIDInUseError:
            return "duplicate"
        return "accepted"

    async def enqueue(self, job: Job) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append((job, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                try:
                    results = await asyncio.to_thread(self.write, [job for job, _ in batch])
                except Exception as exc:  # the thread itself failed: every waiter hears it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._flushing = False
