"""DBOS: the durable queues and workflows, and the enqueuer the receiver uses.

Two queues. Deliveries land on `PR_QUEUE`, partitioned by `owner/repo#number` with one running
at a time per partition (one review at a time per PR); workflow id = `X-GitHub-Delivery`, so a
redelivery never runs twice. Each delivery then runs its job as a child workflow on
`INSTALLATION_QUEUE`, partitioned by installation id with a rate limiter, so one busy
installation stays under GitHub's secondary limits. SQLite by default, PostgreSQL to scale out.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSConfig, Queue, SetEnqueueOptions, SetWorkflowID
from dbos._error import DBOSWorkflowIDInUseError

from bot import __version__
from bot.command_flow import run_check_action, run_command
from bot.jobs import Job
from bot.review_flow import Outcome, run_review
from bot.review_steps import Counted, load_pull
from bot.runtime import current_runtime
from bot.server import Outcome as EnqueueOutcome
from bot.settings import Settings

APP_NAME = "scale-review"
PR_QUEUE = "scale-review-pr"
INSTALLATION_QUEUE = "scale-review-installation"
DELIVERY_WORKFLOW = "scale_review.delivery"
JOB_WORKFLOW = "scale_review.job"
MAX_QUEUED_SCAN = 500  # enqueued deliveries looked at when checking for a newer head


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def executor_id(settings: Settings, environ: dict[str, str] | None = None) -> str:
    """Who owns (and after a restart recovers) pending workflows. One process on SQLite: "local".
    On PostgreSQL each process needs a stable id of its own (SCALE_REVIEW_EXECUTOR_ID, else the host name)."""
    env = os.environ if environ is None else environ
    if is_sqlite(settings.database_url):
        return env.get("SCALE_REVIEW_EXECUTOR_ID", "local")
    return env.get("SCALE_REVIEW_EXECUTOR_ID") or socket.gethostname()


def dbos_config(settings: Settings, *, executor: str = "local", schema: str | None = None) -> DBOSConfig:
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": settings.database_url,
        "application_version": __version__,  # recovery after a restart needs the same version
        "executor_id": executor,
        "log_level": "WARNING" if settings.log_level != "debug" else "DEBUG",
    }
    if schema:  # PostgreSQL only: several deployments (or test runs) in one database
        config["dbos_system_schema"] = schema
    return config


@DBOS.workflow(name=DELIVERY_WORKFLOW)
def delivery_workflow(job_data: dict[str, Any]) -> dict[str, Any]:
    """One webhook delivery, holding its PR's partition until the job has run."""
    job = Job.from_dict(job_data)
    queue = DBOS.retrieve_queue(INSTALLATION_QUEUE)
    assert queue is not None, "queues are registered at launch"
    with SetEnqueueOptions(queue_partition_key=job.installation_key):
        handle = queue.enqueue(job_workflow, job_data)
    result: dict[str, Any] = handle.get_result(polling_interval_sec=current_runtime().settings.queue_polling_seconds)
    return result


@DBOS.workflow(name=JOB_WORKFLOW)
def job_workflow(job_data: dict[str, Any]) -> dict[str, Any]:
    job = Job.from_dict(job_data)
    outcome: Outcome
    if job.kind == "command":
        outcome = run_command(job, newer_head)
    elif job.kind == "check_action":
        outcome = run_check_action(job, newer_head)
    else:
        outcome = run_review(job, newer_head)
    metrics = current_runtime().metrics
    metrics.reviews.labels(outcome=outcome.outcome).inc()
    metrics.github_calls.inc(outcome.calls)
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
    """The receiver's durable enqueue: one workflow row per delivery, id = delivery id."""

    def __init__(self, queue: Queue, database_url: str) -> None:
        self.queue = queue
        self.database_url = database_url

    def enqueue_now(self, job: Job) -> EnqueueOutcome:
        try:
            with SetWorkflowID(job.delivery_id, workflow_id_reuse_policy="reject"), \
                    SetEnqueueOptions(queue_partition_key=job.partition_key):
                self.queue.enqueue(delivery_workflow, job.to_dict())
        except DBOSWorkflowIDInUseError:
            return "duplicate"
        return "accepted"

    async def enqueue(self, job: Job) -> EnqueueOutcome:
        return await asyncio.to_thread(self.enqueue_now, job)

    def ping(self) -> bool:
        engine = sa.create_engine(sqlalchemy_url(self.database_url))
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        finally:
            engine.dispose()

    async def ready(self) -> bool:
        return await asyncio.to_thread(self.ping)


def sqlalchemy_url(url: str) -> str:
    """DATABASE_URL as SQLAlchemy wants it (psycopg 3 for PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def launch(settings: Settings, *, worker: bool = True, executor: str | None = None,
           schema: str | None = None) -> DbosEnqueuer:
    """Start DBOS (recovering this executor's interrupted workflows) and register the queues.

    `worker=False` (a receiver-only process) dequeues nothing."""
    DBOS(config=dbos_config(settings, executor=executor or executor_id(settings), schema=schema))
    if not worker:
        DBOS.listen_queues([])
    DBOS.launch()
    pr_queue = DBOS.register_queue(
        PR_QUEUE, partition_concurrency=1, worker_concurrency=settings.worker_concurrency,
        polling_interval_sec=settings.queue_polling_seconds, on_conflict="always_update",
    )
    DBOS.register_queue(
        INSTALLATION_QUEUE, partition_concurrency=settings.installation_concurrency,
        partition_limiter={"limit": settings.installation_reviews_per_minute, "period": 60.0},
        worker_concurrency=settings.worker_concurrency, polling_interval_sec=settings.queue_polling_seconds,
        on_conflict="always_update",
    )
    return DbosEnqueuer(pr_queue, settings.database_url)


def shutdown(wait_seconds: int = 0) -> None:
    DBOS.destroy(workflow_completion_timeout_sec=wait_seconds)
