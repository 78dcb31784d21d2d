"""`check_suite`: "Re-run all checks" (rerequested) and pushes to the repository (requested)."""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored, Job
from handlers.context import Delivery
from handlers.payloads import Envelope


def handle(delivery: Delivery, env: Envelope) -> Decision:
    suite = env.check_suite
    if env.action not in ("requested", "rerequested") or suite is None:
        return Ignored(f"check_suite action '{env.action}' needs no work")
    if not suite.pull_requests:
        return Ignored("check suite is not linked to a pull request")
    if not env.installation_id or not env.repo or not suite.head_sha:
        return Ignored("delivery has no installation, repository or head sha")
    return Job(
        kind="review",
        trigger="check_suite",
        delivery_id=delivery.delivery_id,
        installation_id=env.installation_id,
        repo=env.repo,
        number=suite.pull_requests[0].number,
        head_sha=suite.head_sha,
        # a push also sends pull_request.synchronize: whichever of the two comes first reviews the head,
        # incrementally from the head before the push
        before_sha=env.pushed_from if env.action == "requested" else "",
        only_if_new=env.action == "requested",
        actor=env.sender_login,
    )
