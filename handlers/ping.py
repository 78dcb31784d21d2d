"""`ping`: GitHub checks the hook is alive when the App is created."""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored
from handlers.context import Delivery
from handlers.payloads import Envelope


def handle(delivery: Delivery, env: Envelope) -> Decision:
    return Ignored("pong", status="pong", fields={"hook_id": env.hook_id, "zen": (env.zen or "")[:200]})
