"""`pull_request_review_comment`: a reply under an inline comment (accept, dismiss, or ask about that finding).

Only new replies (`created`, `in_reply_to_id` set) by people, not bots; edits are ignored. Whether the
comment answered is one of ours, and whether its author may act, is settled by the worker (the payload
does not carry the parent comment, and permissions are looked up, never trusted from the payload).
"""

from __future__ import annotations

from bot.core.jobs import Decision, Ignored, Job
from bot.core.reply_words import MAX_REPLY_CHARS
from handlers.context import Delivery
from handlers.payloads import Envelope


def handle(delivery: Delivery, env: Envelope) -> Decision:
    if env.action != "created":
        return Ignored(f"pull_request_review_comment action '{env.action}' is not a new reply")
    pr, comment = env.pull_request, env.comment
    if pr is None or comment is None or not pr.number:
        return Ignored("pull_request_review_comment payload has no pull request or comment")
    if not comment.in_reply_to_id:
        return Ignored("comment starts a thread; only replies under the bot's comments are answered")
    app = comment.performed_via_github_app
    if comment.user.type == "Bot" or (app is not None and delivery.is_our_app(app.id)):
        return Ignored("comment is from a bot")
    if pr.state != "open":
        return Ignored("pull request is closed")
    if not env.installation_id or not env.repo:
        return Ignored("delivery has no installation or repository")
    return Job(
        kind="reply",
        trigger="pull_request_review_comment",
        delivery_id=delivery.delivery_id,
        installation_id=env.installation_id,
        repo=env.repo,
        number=pr.number,
        head_sha=pr.head.sha,
        base_sha=pr.base.sha,
        actor=comment.user.login,
        comment_id=comment.id,
        reply_to=comment.in_reply_to_id,
        reply_text=(comment.body or "")[:MAX_REPLY_CHARS],
    )
