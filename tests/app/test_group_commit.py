"""Group commit: a burst shares transactions, each delivery keeps its own outcome, SQLite commits FULL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from dbos import DBOS

from bot.app.group_commit import GroupCommitter
from bot.app.workflows import delivery_options
from tests.support.service import app_settings, review_job, running_app


def test_a_burst_is_stored_in_fewer_transactions_and_every_delivery_gets_its_answer(fake_github, sqlite_backend):
    settings = app_settings(fake_github, sqlite_backend.url)
    with running_app(settings, worker=False) as enq:
        committer: GroupCommitter = enq.committer
        commits: list[int] = []
        sa.event.listen(committer.engine, "commit", lambda conn: commits.append(1))
        jobs = [review_job(f"burst-{i}", "a" * 40, number=i + 1) for i in range(40)]

        async def burst():
            return await asyncio.gather(*(enq.enqueue(j) for j in jobs), enq.enqueue(jobs[0]))

        outcomes = asyncio.run(burst())
        assert outcomes[:40] == ["accepted"] * 40 and outcomes[40] == "duplicate"
        assert 0 < len(commits) < 40 * 3  # 40 single commits would need 3 each (pragma, batch, pragma)
        statuses = {w.workflow_id: w.status for w in DBOS.list_workflows(workflow_id_prefix="burst-")}
        assert len(statuses) == 40 and set(statuses.values()) == {"ENQUEUED"}


def test_sqlite_receiver_commits_are_full_and_the_worker_stays_normal(fake_github, sqlite_backend):
    settings = app_settings(fake_github, sqlite_backend.url)
    with running_app(settings, worker=False) as enq:
        seen: list[str] = []
        sa.event.listen(enq.committer.engine, "before_cursor_execute",
                        lambda conn, cur, stmt, *a: seen.append(stmt.split()[0] + " " + stmt.split()[-1]))
        enq.enqueue_now(review_job("durable-1", "a" * 40))
        assert seen[0] == "PRAGMA synchronous=FULL" and seen[-1] == "PRAGMA synchronous=NORMAL"
        assert any(s.startswith("INSERT") for s in seen[1:-1])
        with enq.committer.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL for DBOS's own writes
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_one_failing_delivery_does_not_fail_the_others(fake_github, sqlite_backend):
    settings = app_settings(fake_github, sqlite_backend.url)
    with running_app(settings, worker=False) as enq:

        def options(job):
            if job.delivery_id == "bad":
                raise ValueError("cannot store this one")
            return delivery_options(job)

        committer = GroupCommitter(enq.committer.engine, enq.committer.client, options,
                                   durable_sql=enq.committer.durable_sql)
        good, bad = review_job("ok-1", "a" * 40), review_job("bad", "a" * 40)
        results = committer.write([good, bad, review_job("ok-2", "a" * 40)])
        assert results[0] == "accepted" and results[2] == "accepted"
        assert isinstance(results[1], Exception)
