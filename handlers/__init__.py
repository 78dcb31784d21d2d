"""Route a verified delivery to its event's handler: (event, payload) -> Job | Ignored."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.jobs import Decision, Ignored
from handlers import (
    check_run,
    check_suite,
    installation,
    issue_comment,
    ping,
    pull_request,
    pull_request_review_comment,
)
from handlers.context import Delivery
from handlers.payloads import Envelope

Handler = Callable[[Delivery, Envelope], Decision]

HANDLERS: dict[str, Handler] = {
    "pull_request": pull_request.handle,
    "issue_comment": issue_comment.handle,
    "pull_request_review_comment": pull_request_review_comment.handle,
    "check_run": check_run.handle,
    "check_suite": check_suite.handle,
    "installation": installation.handle,
    "installation_repositories": installation.handle,
    "ping": ping.handle,
}


def is_subscribed(event: str) -> bool:
    return event in HANDLERS


def dispatch(delivery: Delivery, env: Envelope) -> Decision:
    handler = HANDLERS.get(delivery.event)
    if handler is None:
        return Ignored(f"event '{delivery.event[:60]}' is not handled")
    return handler(delivery, env)
