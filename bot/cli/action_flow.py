"""The Action's published review: the workflow's event through the App's handlers and durable flows.

As `scale-review replay` does: the payload goes through `handlers.dispatch` (event files carry no
`installation`, so the workflow token's stands in), the decided Job runs on DBOS with the embedded
SQLite store in a fresh temp folder, and this process is both receiver and worker. Only the Runtime
differs from the App's: the workflow token, GitHub Actions as our identity, the inputs' config path
and cost ceiling, fork code kept from the model, and an observer that keeps the published Review.
"""

from __future__ import annotations

import json
import os
from typing import Any

from bot.cli.action import ACTION_INSTALLATION, WorkflowEnv, database_dir
from bot.cli.action_inputs import ActionInputs
from bot.core.model import Review
from bot.core.settings import Settings

QUEUE_POLLING_SECONDS = 0.1  # one job in one process: poll often, the job ends sooner


def action_settings(wf: WorkflowEnv, inputs: ActionInputs) -> Settings:
    """The environment's tuning (SCALE_REVIEW_*) with the workflow's GitHub, the inputs' key, a temp SQLite
    store, and no App credentials at all."""
    base = Settings.from_env(os.environ)
    key = inputs.anthropic_api_key
    from pydantic import SecretStr

    return base.model_copy(update={
        "github_app_id": "", "github_private_key": SecretStr(""), "webhook_secrets": (),
        "github_api_url": wf.api_url, "database_url": f"sqlite:///{database_dir(wf)}/scale-review.db",
        "anthropic_api_key": SecretStr(key) if key else None,
        "log_format": os.environ.get("SCALE_REVIEW_LOG_FORMAT", "console").lower() or "console",
        "queue_polling_seconds": QUEUE_POLLING_SECONDS if "SCALE_REVIEW_QUEUE_POLLING_SECONDS" not in os.environ
        else base.queue_polling_seconds,
        "worker_concurrency": 1,
    })


def with_installation(payload: dict[str, Any]) -> bytes:
    """The event file as the App's handlers expect a delivery: with an installation."""
    return json.dumps({**payload, "installation": {"id": ACTION_INSTALLATION}}).encode()


def run_through_app_flow(wf: WorkflowEnv, inputs: ActionInputs, event: str, payload: dict[str, Any],
                         delivery_id: str) -> tuple[dict[str, Any], Review | None]:
    """(the job's outcome as the App's workflow returns it, the published Review or None)."""
    import handlers
    from bot.app import workflows
    from bot.app.logging_setup import configure_logging, settings_secrets
    from bot.app.runtime import Runtime, install_runtime
    from bot.core.jobs import Ignored
    from bot.github.auth import WorkflowTokenCache
    from bot.github.identity import IdentityCache, WorkflowIdentity
    from bot.specialist.client import make_client
    from handlers.context import Delivery
    from handlers.payloads import Envelope

    decision = handlers.dispatch(Delivery(event, delivery_id, ""), Envelope.parse(with_installation(payload)))
    if isinstance(decision, Ignored):
        return {"outcome": "ignored", "detail": decision.reason, "calls": 0}, None
    settings = action_settings(wf, inputs)
    configure_logging(settings.log_level, settings.log_format, [*settings_secrets(settings), wf.token])
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    client = make_client(api_key=key, base_url=settings.anthropic_base_url) if key else None
    published: list[Review] = []
    install_runtime(Runtime(
        settings, model_client=client, token_cache=WorkflowTokenCache(wf.token),
        identity_cache=IdentityCache(WorkflowIdentity()), graphql_url=wf.graphql_url or None,
        config_path=inputs.config_path, max_cost_usd=inputs.max_cost_usd, model_on_forks=False,
        on_review=published.append,
    ))
    enqueuer = workflows.launch(settings, worker=True)
    try:
        enqueuer.enqueue_now(decision)
        from dbos import DBOS

        result: dict[str, Any] = DBOS.retrieve_workflow(delivery_id).get_result(
            polling_interval_sec=QUEUE_POLLING_SECONDS)
    except Exception as exc:  # a step GitHub refused for good (e.g. 403: the workflow lacks a permission)
        result = {"outcome": "error", "detail": " ".join(str(exc).split())[:500] or type(exc).__name__, "calls": 0}
    finally:
        workflows.shutdown()
    return result, (published[-1] if published else None)
