"""`pull_request`: review a PR when it opens, gets new commits, reopens or leaves draft."""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored, Job
from handlers.context import Delivery
from handlers.payloads import Envelope

REVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})


def handle(delivery: Delivery, env: Envelope) -> Decision:
    if env.action not in REVIEW_ACTIONS:
        return Ignored(f"pull_request action '{env.action}' is not reviewed")
    pr = env.pull_request
    if pr is None or not pr.number or not pr.head.sha:
        return Ignored("pull_request payload has no pull request number or head sha")
    if pr.state != "open":
        return Ignored("pull request is closed")
    if not env.installation_id or not env.repo:
        return Ignored("delivery has no installation or repository")
    # drafts are decided by the worker: the repo config (base branch) may ask for them
    return Job(
        kind="review",
        trigger="pull_request",
        delivery_id=delivery.delivery_id,
        installation_id=env.installation_id,
        repo=env.repo,
        number=pr.number,
        head_sha=pr.head.sha,
        before_sha=env.pushed_from if env.action == "synchronize" else "",
        draft=bool(pr.draft),
        # a push also sends check_suite.requested: whichever of the two comes first reviews the head
        only_if_new=env.action == "synchronize",
        actor=env.sender_login,
    )
