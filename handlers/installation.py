"""`installation` and `installation_repositories`: logged, nothing to run."""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored
from handlers.context import Delivery
from handlers.payloads import Envelope

MAX_LOGGED_REPOS = 50


def handle(delivery: Delivery, env: Envelope) -> Decision:
    account = env.installation.account.login if env.installation and env.installation.account else ""
    fields = {
        "installation_id": env.installation_id,
        "account": account,
        "sender": env.sender_login,
        "repositories_added": [r.full_name for r in env.repositories_added[:MAX_LOGGED_REPOS]],
        "repositories_removed": [r.full_name for r in env.repositories_removed[:MAX_LOGGED_REPOS]],
    }
    return Ignored(f"{delivery.event} {env.action or 'event'} logged", status="logged", fields=fields)
