"""A reply under one of our inline comments, as workflow code: accept or dismiss that finding, or answer it.

In order, each step durable: the repository config (from the base, like a review's), the comment answered
(ours, with a finding marker, else the reply is ignored), the author's permission (`commands.min_permission`;
below it the reply is ignored and nothing is posted). Then:
- `accept <reason>` / `dismiss <reason>`: recorded in the repository memory for that finding's code, answered
  in the thread, and the check run re-published at once with the recomputed gate (who and why in its summary);
- `explain` or free text: with a model, the specialist answers in the thread and may withdraw that one finding
  (recorded like a dismissal, then the check is re-published the same way); without one, a one-line answer
  lists the commands.
Runs on the PR's queue partition, so it never races a review; its job's workflow id is the reply's comment
(bot.app.workflows), so a second delivery of the same reply is not answered twice.
"""

from __future__ import annotations

import dataclasses

from bot.app import reply_steps as rsteps
from bot.app import review_steps as steps
from bot.app.review_flow import Context, Options, Outcome, SupersededBy, Tally, review
from bot.app.runtime import current_runtime
from bot.core.jobs import Job
from bot.core.reply_words import INVALID_REPLY_TEXT, NO_MODEL_TEXT, ReplyAsk, parse_reply
from bot.core.repo_config import CONFIG_PATH, RepoConfig, load_repo_config
from bot.github.thread_replies import Thread
from bot.render.sanitize import neutralize_clipped, one_line
from bot.review.acceptances import permits
from bot.review.suppressions import MemoryKind
from bot.specialist.budget import Budget
from bot.specialist.reply import MAX_REPLY_TURNS, ReplyAnswer, ReplyRequest, reply_answer

ACCEPTED_REPLY = "Risk of `{id}` accepted by @{login}: {reason}. It no longer fails the `Scalability review` check."
DISMISSED_REPLY = ("`{id}` dismissed as a false positive by @{login}: {reason}. It no longer fails the check, and "
                   "later pull requests with the same code will not raise it.")
WITHDRAWN_NOTE = "I withdraw this finding: {reason}. It no longer fails the check."
KEPT_NOTE = "The finding stands: {reason}."
NO_ANSWER_REPLY = "I could not answer this time ({reason}). `/scale-review explain` asks again."
IGNORE_OFFER = ("To keep this decision as code, commit this to `{path}` on the default branch:\n\n"
                "```yaml\nignore:\n  - rule: {rule}\n    path: {file}\n    reason: {why}\n```")
MAX_ANSWER_CHARS = 6_000


def _config(job: Job, tally: Tally) -> tuple[RepoConfig, list[str]]:
    texts = tally.take(steps.load_configs(job, job.base_sha or job.head_sha))
    return load_repo_config(texts.repo, org_text=texts.org)


def run_reply(job: Job, superseded_by: SupersededBy) -> Outcome:
    tally = Tally()
    thread, why = tally.take(rsteps.load_thread(job))
    if thread is None:
        return Outcome("ignored", why, calls=tally.calls)
    config, errors = _config(job, tally)
    have = tally.take(steps.permission(job, job.actor))
    needed = config.commands.min_permission
    if not permits(have, needed):
        return Outcome("unauthorised", f"@{job.actor} has {have}, needs {needed} to act on a finding",
                       calls=tally.calls)
    ask = parse_reply(job.reply_text)
    if ask.kind == "invalid":
        tally.take(rsteps.answer(job, thread.comment_id, INVALID_REPLY_TEXT.format(error=ask.error)))
        return Outcome("invalid", ask.error, calls=tally.calls)
    if ask.changes_gate:
        kind: MemoryKind = "accept" if ask.kind == "accept" else "dismiss"
        return _decide(job, thread, config, errors, tally, superseded_by, kind, job.actor, ask.reason)
    use_model = current_runtime().model_client is not None and config.llm.enabled
    if not use_model:
        tally.take(rsteps.answer(job, thread.comment_id, NO_MODEL_TEXT))
        return Outcome("answered", "no model: commands listed", calls=tally.calls)
    return _discuss(job, thread, config, errors, tally, superseded_by, ask)


def _offer(thread: Thread, reason: str) -> str:
    why = one_line(reason, 200).replace('"', "'")
    return IGNORE_OFFER.format(path=CONFIG_PATH, rule=one_line(thread.rule, 80), file=one_line(thread.path, 300),
                               why=f'"{why}"')


def _decide(job: Job, thread: Thread, config: RepoConfig, errors: list[str], tally: Tally,
            superseded_by: SupersededBy, kind: MemoryKind, by: str, reason: str, said: str = "") -> Outcome:
    """Record the decision, answer in the thread, re-publish the check run with the recomputed gate."""
    file_text = tally.take(rsteps.read_finding_file(job, thread))
    entry, _ = rsteps.remember(job, thread, file_text, kind, by, reason)
    reason_md = neutralize_clipped(reason, 600)
    if kind == "accept":
        text = ACCEPTED_REPLY.format(id=thread.finding_id, login=by, reason=reason_md)
    elif kind == "dismiss":
        text = DISMISSED_REPLY.format(id=thread.finding_id, login=by, reason=reason_md)
        text += "\n\n" + _offer(thread, reason)
    else:
        text = said + "\n\n" + WITHDRAWN_NOTE.format(reason=reason_md) + "\n\n" + _offer(thread, reason)
    tally.take(rsteps.answer(job, thread.comment_id, text))
    pr = tally.take(steps.load_pull(job))
    if pr.state != "open":
        return Outcome(kind, f"{thread.finding_id}: pull request closed, check not re-published", calls=tally.calls)
    current = dataclasses.replace(job, head_sha=pr.head_sha)
    ctx = Context(current, pr, config, errors, tally, superseded_by, Options(reuse=True))
    published = review(ctx)
    published.extra.update(decision=kind, finding=thread.finding_id, memory_entry=entry.id)
    return published


def _discuss(job: Job, thread: Thread, config: RepoConfig, errors: list[str], tally: Tally,
             superseded_by: SupersededBy, ask: ReplyAsk) -> Outcome:
    """The specialist answers in the thread; a validated withdrawal is recorded like a dismissal."""
    model = config.llm.model or current_runtime().settings.model
    file_text = tally.take(rsteps.read_finding_file(job, thread))
    request = ReplyRequest(finding_id=thread.finding_id, rule=thread.rule, severity=thread.severity, path=thread.path,
                           start_line=thread.start_line, end_line=thread.end_line, finding=thread.body,
                           file_text=file_text, diff_hunk=thread.diff_hunk, reply=ask.text or "explain",
                           asker=job.actor, model=model, max_turns=min(MAX_REPLY_TURNS, config.llm.max_turns))
    budget = Budget.from_config(config.llm)
    budget = dataclasses.replace(budget, max_turns=request.max_turns)
    state = rsteps.reply_start(request)
    for _ in range(budget.max_turns + 1):
        if state["done"]:
            break
        state = tally.take(rsteps.reply_turn(job, job.head_sha, state, budget))
    result = reply_answer(state)
    current_runtime().metrics.record_review([], {"specialist": result.usage})  # tokens and cost, like a review's
    extra = _usage_extra(result)
    if not result.answered:
        tally.take(rsteps.answer(job, thread.comment_id, NO_ANSWER_REPLY.format(reason=one_line(result.reason, 200))))
        return Outcome("unanswered", result.reason, calls=tally.calls, extra=extra)
    said = neutralize_clipped(result.answer, MAX_ANSWER_CHARS)
    if result.decision == "withdraw":
        outcome = _decide(job, thread, config, errors, tally, superseded_by, "withdraw", "scale-review",
                          result.reason, said=said)
        outcome.extra.update(extra)
        return outcome
    text = said + "\n\n" + KEPT_NOTE.format(reason=neutralize_clipped(result.reason, 600))
    tally.take(rsteps.answer(job, thread.comment_id, text))
    return Outcome("answered", f"{thread.finding_id}: kept", calls=tally.calls, extra=extra)


def _usage_extra(result: ReplyAnswer) -> dict[str, object]:
    return {"model_turns": result.turns, "model_usage": result.usage, "prompts": result.prompts}
