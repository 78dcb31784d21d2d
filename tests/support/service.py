"""The App under test: DBOS launched on a backend, the worker runtime pointed at a FakeGitHub.

`running_app(...)` is a context manager so every test tears DBOS down (it is a process singleton).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dbos import DBOS

from bot.app import workflows
from bot.app.runtime import Runtime, install_runtime
from bot.core.jobs import Job
from bot.core.settings import Settings, parse_secrets
from tests.support.fakegithub.clients import fast_retry

SECRET = "e2e-secret"


def app_settings(gh: Any, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        github_app_id=str(gh.app_id), github_private_key=gh.private_key_pem, webhook_secrets=parse_secrets(SECRET),
        github_api_url=gh.url, database_url=database_url, queue_polling_seconds=0.05, log_level="warning",
    )
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_app(settings: Settings, *, schema: str | None = None, model_client: Any = None,
                worker: bool = True) -> Iterator[workflows.DbosEnqueuer]:
    install_runtime(Runtime(settings, model_client=model_client, retry=fast_retry(),
                            seconds_between_writes=0, model_sleep=lambda _seconds: None))
    enqueuer = workflows.launch(settings, worker=worker, schema=schema)
    try:
        yield enqueuer
    finally:
        workflows.shutdown()


def wait_result(delivery_id: str, timeout: float = 60) -> dict[str, Any]:
    """The outcome of a delivery's workflow (its job's outcome)."""
    handle = DBOS.retrieve_workflow(delivery_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = handle.get_status().status
        if status in ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"):
            break
        time.sleep(0.05)
    result: dict[str, Any] = handle.get_result()
    return result


def review_job(delivery: str, head: str, **fields: Any) -> Job:
    from tests.support import webhooks as wh

    values: dict[str, Any] = {"installation_id": wh.INSTALLATION, "repo": wh.REPO, "number": 7, **fields}
    return Job(kind="review", trigger="pull_request", delivery_id=delivery, head_sha=head, **values)


@contextmanager
def receiver(settings: Settings, enqueuer: workflows.DbosEnqueuer) -> Iterator[Any]:
    """The real FastAPI app over the real enqueuer (TestClient)."""
    from fastapi.testclient import TestClient

    from bot.app.server import create_app

    with TestClient(create_app(settings, enqueuer)) as client:
        yield client


def deliver(client: Any, event: str, payload: dict[str, Any], delivery: str | None = None) -> Any:
    from tests.support import webhooks as wh

    body, headers = wh.signed(event, payload, SECRET.encode(), delivery=delivery)
    return client.post("/webhook", content=body, headers=headers)
