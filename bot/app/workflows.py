"""DBOS: the durable queues and workflows, and the enqueuer the receiver uses.

Two queues. Deliveries land on `PR_QUEUE`, partitioned by `owner/repo#number` with one running
at a time per partition (one review at a time per PR); workflow id = `X-GitHub-Delivery`, so a
redelivery never runs twice. Each delivery then runs its job as a child workflow on
`INSTALLATION_QUEUE`, partitioned by installation id with a rate limiter, so one busy
installation stays under GitHub's secondary limits. SQLite by default, PostgreSQL to scale out.
"""

from __future__ import annotations

import asyncio
import concurrent.futures.thread as futures_thread
import contextlib
import os
import socket
import sqlite3
import sys
import threading
from typing import Any

import sqlalchemy as sa
import structlog
from dbos import DBOS, DBOSClient, DBOSConfig, EnqueueOptions, SetEnqueueOptions, SetWorkflowID

from bot import __version__
from bot.app import tracing
from bot.app.command_flow import run_check_action, run_command
from bot.app.group_commit import GroupCommitter
from bot.app.logging_setup import review_context, route_dbos_logs
from bot.app.memory_store import MemoryStore
from bot.app.replay_guard import ReplayGuard
from bot.app.reply_flow import run_reply
from bot.app.review_flow import Outcome, run_review
from bot.app.review_steps import Counted, load_pull
from bot.app.runtime import current_runtime
from bot.app.server import Outcome as EnqueueOutcome
from bot.core.jobs import Job
from bot.core.settings import Settings

log = structlog.get_logger("scale_review.worker")

APP_NAME = "scale-review"
PR_QUEUE = "scale-review-pr"
INSTALLATION_QUEUE = "scale-review-installation"
DELIVERY_WORKFLOW = "scale_review.delivery"
JOB_WORKFLOW = "scale_review.job"
SQLITE_POOL_SIZE = 1
# SQLite durability, WAL mode. The receiver commits with FULL (fsync per commit: an accepted
# delivery survives a power cut). DBOS's own writes (dequeues, step checkpoints) use NORMAL: they
# survive a process crash; a power cut may lose the last few, which then simply run again (every
# step is idempotent on GitHub's side). A FULL commit also makes every earlier NORMAL one durable.
RECEIVER_SYNCHRONOUS = ("PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL")
WORKER_SYNCHRONOUS = "NORMAL"
MAX_QUEUED_SCAN = 500
# A delivery holds its PR's slot while its job waits for (and runs on) the installation queue, so
# many more deliveries than jobs may be in flight: a busy installation waiting out its rate limit
# must not occupy every slot and stall the other installations' PRs.
DELIVERIES_PER_WORKER = 16  # enqueued deliveries looked at when checking for a newer head


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def executor_id(settings: Settings) -> str:
    """Who owns (and after a restart recovers) pending workflows. One process on SQLite: "local".
    On PostgreSQL each process needs a stable id of its own: settings.executor_id
    (SCALE_REVIEW_EXECUTOR_ID, e.g. a StatefulSet pod name), else the host name."""
    if settings.executor_id:
        return settings.executor_id
    return "local" if is_sqlite(settings.database_url) else socket.gethostname()


def dbos_config(settings: Settings, *, executor: str = "local", schema: str | None = None,
                engine: sa.Engine | None = None) -> DBOSConfig:
    """DBOS configuration. On SQLite pass `engine` (sqlite_engine): SQLite has one writer and DBOS
    opens every transaction IMMEDIATE (a write lock, reads included); with several connections,
    waiters spin in SQLite's busy handler, which sleeps in steps of up to 100 ms (long tails for
    the receiver). One shared connection makes them queue in the pool instead, in order."""
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": settings.database_url,
        "application_version": __version__,  # recovery after a restart needs the same version
        "executor_id": executor,
        "log_level": "WARNING" if settings.log_level != "debug" else "DEBUG",
    }
    if schema:  # PostgreSQL only: several deployments (or test runs) in one database
        config["dbos_system_schema"] = schema
    if engine is not None:
        config["system_database_engine"] = engine
    return config


@DBOS.workflow(name=DELIVERY_WORKFLOW)
def delivery_workflow(job_data: dict[str, Any]) -> dict[str, Any]:
    """One webhook delivery, holding its PR's partition until the job has run."""
    job = Job.from_dict(job_data)
    queue = DBOS.retrieve_queue(INSTALLATION_QUEUE)
    assert queue is not None, "queues are registered at launch"
    with contextlib.ExitStack() as scope:
        scope.enter_context(SetEnqueueOptions(queue_partition_key=job.installation_key))
        if job.kind == "reply":  # a second delivery of the same reply joins the first one's job
            scope.enter_context(SetWorkflowID(job.reply_key))
        handle = queue.enqueue(job_workflow, job_data)
    result: dict[str, Any] = handle.get_result(polling_interval_sec=current_runtime().settings.queue_polling_seconds)
    return result


@DBOS.workflow(name=JOB_WORKFLOW)
def job_workflow(job_data: dict[str, Any]) -> dict[str, Any]:
    job = Job.from_dict(job_data)
    with review_context(job.delivery_id, job.repo, job.number, job.head_sha), \
            tracing.span("scale_review.job", kind=job.kind, trigger=job.trigger, delivery_id=job.delivery_id):
        return _run_job(job)


def _run_job(job: Job) -> dict[str, Any]:
    outcome: Outcome
    if job.kind == "command":
        outcome = run_command(job, newer_head)
    elif job.kind == "check_action":
        outcome = run_check_action(job, newer_head)
    elif job.kind == "reply":
        outcome = run_reply(job, newer_head)
    else:
        outcome = run_review(job, newer_head)
    current_runtime().metrics.record_job(outcome.outcome, outcome.calls)
    log.info("job.finished", delivery_id=job.delivery_id, repo=job.repo, pr=job.number, kind=job.kind,
             trigger=job.trigger, outcome=outcome.outcome, detail=outcome.detail[:300], github_calls=outcome.calls,
             check_run_id=outcome.check_run_id)
    return outcome.as_dict()


def _queued_heads(job: Job) -> list[str]:
    """Head shas of deliveries for the same PR that are waiting behind this one."""
    rows = DBOS.list_workflows(queue_name=PR_QUEUE, status="ENQUEUED", name=DELIVERY_WORKFLOW,
                               limit=MAX_QUEUED_SCAN, load_output=False)
    heads = []
    for row in rows:
        if row.queue_partition_key != job.partition_key or not row.input:
            continue
        args = row.input.get("args") or ()
        data = args[0] if args and isinstance(args[0], dict) else {}
        if data.get("head_sha"):
            heads.append(str(data["head_sha"]))
    return heads


@DBOS.step()
def newer_head(job: Job, head_sha: str) -> Counted[str | None]:
    """The PR's newer head sha when a delivery for another head waits behind this review.

    The check is local (the queue) and free; only when it finds something does GitHub confirm
    which head is current, so a late redelivery of an older push never stops the newer review."""
    if not any(h != head_sha for h in _queued_heads(job)):
        return Counted(None, 0)
    pr = load_pull(job)
    current = pr.value.head_sha
    return Counted(current if current != head_sha else None, pr.calls)


class DbosEnqueuer:
    """The receiver's durable enqueue: one DBOS workflow row per delivery, id = delivery id,
    written through group commit (bot.app.group_commit)."""

    def __init__(self, committer: GroupCommitter, database_url: str) -> None:
        self.committer = committer
        self.database_url = database_url

    def enqueue_now(self, job: Job) -> EnqueueOutcome:
        [result] = self.committer.write([job])
        if isinstance(result, Exception):
            raise result
        return result

    async def enqueue(self, job: Job) -> EnqueueOutcome:
        return await self.committer.enqueue(job)

    def ping(self) -> bool:
        with self.committer.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True

    async def ready(self) -> bool:
        return await asyncio.to_thread(self.ping)


def delivery_options(job: Job) -> EnqueueOptions:
    return {
        "workflow_name": DELIVERY_WORKFLOW, "queue_name": PR_QUEUE, "workflow_id": job.delivery_id,
        "workflow_id_reuse_policy": "reject", "queue_partition_key": job.partition_key, "app_version": __version__,
    }


def sqlite_engine(url: str) -> sa.Engine:
    """One pooled connection shared by DBOS and the receiver (see `dbos_config`), set up as DBOS
    sets up its own SQLite connections: IMMEDIATE transactions, a generous busy timeout."""
    engine = sa.create_engine(url, pool_size=SQLITE_POOL_SIZE, max_overflow=0, pool_timeout=60)

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = "IMMEDIATE"
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        dbapi_conn.execute(f"PRAGMA synchronous={WORKER_SYNCHRONOUS}")

    return engine


def sqlalchemy_url(url: str) -> str:
    """DATABASE_URL as SQLAlchemy wants it (psycopg 3 for PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def prepare_sqlite(url: str) -> None:
    """Put the SQLite system database in WAL mode (it persists in the file) before DBOS opens it.

    DBOS leaves SQLite in its default rollback-journal mode, where every commit syncs the journal,
    the database and the directory; in WAL mode a commit is one append and one fsync of the log
    (synchronous stays FULL: an accepted delivery survives a power cut). This halves the cost of
    the receiver's enqueue and lets the worker's reads proceed while it writes."""
    database = sa.make_url(url).database
    if not database or database == ":memory:":
        return
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def launch(settings: Settings, *, worker: bool = True, executor: str | None = None,
           schema: str | None = None) -> DbosEnqueuer:
    """Start DBOS (recovering this executor's interrupted workflows) and register the queues.

    `worker=False` (a receiver-only process) dequeues nothing."""
    route_dbos_logs()
    engine = None
    if is_sqlite(settings.database_url):
        prepare_sqlite(settings.database_url)
        engine = sqlite_engine(settings.database_url)
    DBOS(config=dbos_config(settings, executor=executor or executor_id(settings), schema=schema, engine=engine))
    if not worker:
        DBOS.listen_queues([])
    DBOS.launch()
    if engine is None:  # PostgreSQL: the receiver's own small pool; DBOS keeps its own
        # pre-ping: after a PostgreSQL restart a pooled connection is dead; the first delivery must not get 503
        engine = sa.create_engine(
            sqlalchemy_url(settings.database_url), pool_size=4, max_overflow=4, pool_pre_ping=True
        )
    client = DBOSClient(system_database_engine=engine, dbos_system_schema=schema or "dbos", application_name=APP_NAME)
    DBOS.register_queue(
        PR_QUEUE, partition_concurrency=1, worker_concurrency=settings.worker_concurrency * DELIVERIES_PER_WORKER,
        polling_interval_sec=settings.queue_polling_seconds, on_conflict="always_update",
    )
    DBOS.register_queue(
        INSTALLATION_QUEUE, partition_concurrency=settings.installation_concurrency,
        partition_limiter={"limit": settings.installation_reviews_per_minute, "period": 60.0},
        worker_concurrency=settings.worker_concurrency, polling_interval_sec=settings.queue_polling_seconds,
        on_conflict="always_update",
    )
    durable = RECEIVER_SYNCHRONOUS if is_sqlite(settings.database_url) else None
    guard = ReplayGuard(engine, schema or "dbos")
    guard.create()
    memory = MemoryStore(engine, schema or "dbos")
    memory.migrate()
    with contextlib.suppress(RuntimeError):  # a receiver-only process has no worker runtime
        current_runtime().memory_store = memory
    committer = GroupCommitter(engine, client, delivery_options, durable_sql=durable, guard=guard)
    return DbosEnqueuer(committer, settings.database_url)


def shutdown(wait_seconds: int = 0) -> None:
    DBOS.destroy(workflow_completion_timeout_sec=wait_seconds)


def stuck_threads() -> list[threading.Thread]:
    """Non-daemon threads still alive after shutdown.

    A delivery workflow waiting on its job (DBOS `get_result` polls without end) keeps its executor
    thread alive after `DBOS.destroy`, and the interpreter would wait for it forever at exit. Its
    state is checkpointed, so it is safe to leave: the workflow resumes on the next start.
    """
    main = threading.main_thread()
    pooled = set(getattr(futures_thread, "_threads_queues", {}))  # joined at exit even when daemon
    return [t for t in threading.enumerate() if t is not main and t.is_alive() and (not t.daemon or t in pooled)]


def exit_now_if_stuck(code: int) -> None:
    """End the process with `code` when shutdown left waiting workflow threads (see stuck_threads)."""
    if stuck_threads():
        with contextlib.suppress(Exception):  # logging may already be torn down; exiting matters more
            log.info("shutdown.exit", reason="workflows waiting on queued jobs resume on the next start")
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
