"""`issue_comment`: `/scale-review` commands on a pull request's conversation."""

from __future__ import annotations

from bot.core.commands import parse_command
from bot.core.jobs import Decision, Ignored, Job
from handlers.context import Delivery
from handlers.payloads import Envelope


def handle(delivery: Delivery, env: Envelope) -> Decision:
    if env.action != "created":
        return Ignored(f"issue_comment action '{env.action}' is not a new command")
    issue, comment = env.issue, env.comment
    if issue is None or comment is None:
        return Ignored("issue_comment payload has no issue or comment")
    if issue.pull_request is None:
        return Ignored("comment is on an issue, not a pull request")
    app = comment.performed_via_github_app
    if comment.user.type == "Bot" or (app is not None and delivery.is_our_app(app.id)):
        return Ignored("comment is from a bot")
    command = parse_command(comment.body or "")
    if command is None:
        return Ignored("comment holds no /scale-review command")
    if not env.installation_id or not env.repo:
        return Ignored("delivery has no installation or repository")
    return Job(
        kind="command",
        trigger="issue_comment",
        delivery_id=delivery.delivery_id,
        installation_id=env.installation_id,
        repo=env.repo,
        number=issue.number,
        actor=comment.user.login,
        comment_id=comment.id,
        command=command,
    )
