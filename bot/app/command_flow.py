"""`/scale-review` commands and the check run's "Accept risk" button, as workflow code.

Permission first, for every command, `help` and unreadable ones included (the repo config's
`commands.min_permission`, default write): a person without it gets one fixed sentence, never their
own text, and no paid work. A picked-up command gets 👀, then 🚀 or 😕.
"""

from __future__ import annotations

from bot.app import review_steps as steps
from bot.app.reply_steps import list_memory
from bot.app.review_flow import Context, Options, Outcome, SupersededBy, Tally, load_context, review, skip_reason
from bot.core.commands import HELP_TEXT, INVALID_TEXT, UNAUTHORISED_TEXT
from bot.core.jobs import Job
from bot.review.acceptances import permits
from bot.review.memory_text import render_memory_markdown

EYES, ROCKET, CONFUSED = "eyes", "rocket", "confused"
FINISHED = ("success", "failure", "neutral")
BUTTON_KIND = "accept (check run button)"


def _authorised(ctx: Context, what: str) -> Outcome | None:
    """None when the actor may do this; otherwise the one fixed sentence is posted and the outcome returned."""
    job = ctx.job
    have = ctx.tally.take(steps.permission(job, job.actor))
    needed = ctx.config.commands.min_permission
    if permits(have, needed):
        return None
    ctx.tally.take(steps.reply(job, UNAUTHORISED_TEXT.format(needed=needed)))
    return Outcome("unauthorised", f"@{job.actor} has {have}, needs {needed} for {what}", calls=ctx.tally.calls)


def run_command(job: Job, superseded_by: SupersededBy) -> Outcome:
    cmd = job.command
    kind = cmd.kind if cmd is not None else "invalid"
    tally = Tally()
    ctx = load_context(job, tally, superseded_by, Options(full=kind == "full", focus=cmd.areas if cmd else (),
                                                               reuse=kind in ("run", "accept")))
    refused = _authorised(ctx, kind)
    if refused is not None:
        return refused
    if cmd is None or cmd.kind == "invalid":
        error = cmd.error if cmd else "no command"
        tally.take(steps.reply(job, INVALID_TEXT.format(login=job.actor, error=error)))
        return Outcome("invalid", error, calls=tally.calls)
    if cmd.kind == "memory":
        tally.take(steps.react(job, EYES))
        tally.take(steps.reply(job, render_memory_markdown(job.repo, list_memory(job))))
        tally.take(steps.react(job, ROCKET))
        return Outcome("memory", calls=tally.calls)
    if cmd.kind == "help":
        tally.take(steps.react(job, EYES))
        tally.take(steps.reply(job, HELP_TEXT))
        tally.take(steps.react(job, ROCKET))
        return Outcome("help", calls=tally.calls)
    tally.take(steps.react(job, EYES))
    outcome = Outcome("error", "not finished", calls=tally.calls)
    try:
        reason = skip_reason(ctx)
        outcome = Outcome("skipped", reason, calls=tally.calls) if reason else review(ctx)
        return outcome
    finally:
        tally.take(steps.react(job, ROCKET if outcome.outcome in FINISHED else CONFUSED))


def run_check_action(job: Job, superseded_by: SupersededBy) -> Outcome:
    """The "Accept risk" button: every open finding of the current head is accepted by the clicker."""
    tally = Tally()
    ctx = load_context(job, tally, superseded_by, Options(accept_all=True, reuse=True))
    refused = _authorised(ctx, BUTTON_KIND)
    if refused is not None:
        return refused
    reason = skip_reason(ctx)
    if reason is not None:
        return Outcome("skipped", reason, calls=tally.calls)
    return review(ctx)
