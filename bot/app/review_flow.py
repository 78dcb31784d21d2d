"""The review of one pull request head, as workflow code: deterministic glue between durable steps.

Runs inside a DBOS workflow (bot.app.workflows). Whatever happens after the check run is started, the
run ends `completed`: a failure concludes it `neutral` with the reason, a newer head concludes it
`neutral` "superseded by <sha>" before anything is published.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dbos._error import DBOSMaxStepRetriesExceeded

from bot.analyzers.engine import AnalysisResult
from bot.analyzers.repo_rules import RuleFiles
from bot.app import reply_steps
from bot.app import review_steps as steps
from bot.app.runtime import current_runtime
from bot.core.diff import ChangeSet, parse_diff, without_files
from bot.core.jobs import Job
from bot.core.model import Acceptance, Finding, Review
from bot.core.repo_config import RepoConfig, load_repo_config
from bot.github.checks import ANNOTATIONS_PER_REQUEST, FAILED_TITLE, MAX_ANNOTATIONS
from bot.github.increment import Increment
from bot.github.publish import outdated_findings
from bot.github.retry import GitHubError
from bot.github.threads import MAX_RESOLVE, ThreadsResult
from bot.github.values import PullInfo
from bot.render.markdown import render_summary, render_title
from bot.render.progress import render_progress
from bot.review.acceptances import BUTTON_REASON
from bot.review.pipeline import BaseReads, assemble_review
from bot.specialist.budget import Budget
from bot.specialist.loop import SpecialistRequest
from bot.specialist.memory import current_prompts, encode, remember
from bot.specialist.outcome import SpecialistResult

T = TypeVar("T")
SupersededBy = Callable[[Job, str], "steps.Counted[str | None]"]

PLAN_SUMMARY = (
    "Reviewing `{sha}`:\n\n1. read the diff and the changed files\n2. run the static analyzers\n"
    "3. {specialist}\n4. post new findings inline and conclude this check"
)
PLAN_SPECIALIST = "let the scalability specialist (model) look at the change, one turn at a time"
PLAN_STATIC = "no model configured: static analysis only"
FAILED_SUMMARY = (
    "The review of `{sha}` stopped before it could finish: {error}.\n\n"
    "Nothing was gated. Re-run it from this check run, or comment `/scale-review`."
)
STATIC_ONLY_NOTE = "Static analysis only: no model is configured for this App."
FORK_STATIC_NOTE = ("Static analysis only: this pull request comes from a fork, and code from a fork is never "
                    "given to the model by a workflow that holds the repository's secrets.")
INCREMENTAL_NOTE = ("Incremental review: the specialist read only the commits since the last reviewed head "
                    "`{since}` ({files} file(s)); comment `/scale-review full` for a full review.")
REUSED_NOTE = ("The specialist already finished reviewing `{sha}`: its findings are reused, no model call made; "
               "comment `/scale-review full` to have it review again.")
FULL_NOTE = "Full review: {why}."
UNREADABLE_MEMORY = "the previous review could not be read from GitHub (it answered {status})"
OUTDATED_NOTE = "Fixed by a later push (their earlier comments are outdated): {ids}."
THREADS_RESOLVED_NOTE = "Resolved the review threads of fixed findings, with a reply naming `{sha}`: {ids}."
THREADS_REOPENED_NOTE = "Left open, as a person re-opened their threads after scale-review resolved them: {ids}."
THREADS_DEFERRED_NOTE = "Threads of fixed findings left for the next push (at most {n} are resolved per push): {ids}."
THREADS_UNREADABLE_NOTE = "The review threads of fixed findings could not be resolved: GitHub answered {status}."
THREADS_PARTIAL_NOTE = "Review threads of findings not seen again are left open: this review was partial."
PARTIAL_PREFIX = "Partial review:"  # bot.review.pipeline's note for a review that could not run fully


@dataclass
class Tally:
    """GitHub calls made so far by this review (reported in the check summary)."""

    calls: int = 0

    def take(self, counted: steps.Counted[T]) -> T:
        self.calls += counted.calls
        return counted.value


@dataclass(frozen=True)
class Options:
    full: bool = False
    focus: tuple[str, ...] = ()
    reuse: bool = False  # a re-run of a head the specialist already finished: reuse its findings
    accept_all: bool = False  # the check run's "Accept risk" button


@dataclass
class Outcome:
    outcome: str  # success | failure | neutral | superseded | skipped | error | unauthorised | help | invalid
    detail: str = ""
    check_run_id: int | None = None
    review_id: int | None = None
    calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "detail": self.detail, "check_run_id": self.check_run_id,
                "review_id": self.review_id, "calls": self.calls, **self.extra}


@dataclass
class Context:
    job: Job
    pr: PullInfo
    config: RepoConfig
    config_errors: list[str]
    tally: Tally
    superseded_by: SupersededBy
    options: Options
    base_reads: BaseReads | None = None  # the team's rules and .gitattributes, read with the config


def load_context(job: Job, tally: Tally, superseded_by: SupersededBy, options: Options) -> Context:
    pr = tally.take(steps.load_pull(job))
    texts = tally.take(steps.load_configs(job, pr.base_sha))
    config, errors = load_repo_config(texts.repo, org_text=texts.org)
    rules = RuleFiles(repo=tuple(texts.repo_rules), org=tuple(texts.org_rules), errors=tuple(texts.rule_errors))
    return Context(job, pr, config, errors, tally, superseded_by, options, BaseReads(rules, texts.gitattributes))


def skip_reason(ctx: Context) -> str | None:
    """Why this delivery needs no review (closed, draft, moved on, switched off, already reviewed)."""
    job, pr, config = ctx.job, ctx.pr, ctx.config
    if pr.state != "open":
        return "pull request is closed"
    if job.head_sha and pr.head_sha != job.head_sha:
        return f"superseded: the head is now {pr.head_sha[:12]}"
    automatic = job.trigger in ("pull_request", "check_suite")
    if automatic and pr.draft and not config.drafts:
        return "draft pull request (set `drafts: true` to review drafts)"
    if automatic and not config.auto_review:
        return "auto_review is off in the repository config"
    if job.only_if_new and ctx.tally.take(steps.find_run(job, pr.head_sha)) is not None:
        return "this commit already has a review (pushes send two events; one review answers both)"
    return None


def review(ctx: Context) -> Outcome:
    """Start the check run, review, publish; the run always ends completed."""
    head = ctx.pr.head_sha
    runtime = current_runtime()
    use_model = runtime.model_client is not None and ctx.config.llm.enabled and not _fork_barred(ctx)
    plan = PLAN_SUMMARY.format(sha=head[:12], specialist=PLAN_SPECIALIST if use_model else PLAN_STATIC)
    check_id = ctx.tally.take(steps.start_check(ctx.job, head, plan))
    finished = False
    try:
        outcome = _review_and_publish(ctx, check_id, use_model)
        finished = True
        return outcome
    finally:
        if not finished:
            summary = FAILED_SUMMARY.format(sha=head[:12], error="the workflow was interrupted")
            ctx.tally.take(steps.conclude(ctx.job, check_id, "neutral", FAILED_TITLE, summary))


def _fork_barred(ctx: Context) -> bool:
    """A fork's pull request where the runtime keeps fork code from the model (the GitHub Action)."""
    return ctx.pr.is_fork and not current_runtime().model_on_forks


def _superseded(ctx: Context, check_id: int) -> Outcome | None:
    newer = ctx.tally.take(ctx.superseded_by(ctx.job, ctx.pr.head_sha))
    if newer is None:
        return None
    ctx.tally.take(steps.conclude_superseded(ctx.job, check_id, newer))
    return Outcome("superseded", f"superseded by {newer[:12]}", check_run_id=check_id, calls=ctx.tally.calls)


def _review_and_publish(ctx: Context, check_id: int, use_model: bool) -> Outcome:
    job, head, tally = ctx.job, ctx.pr.head_sha, ctx.tally
    try:
        return _run_stages(ctx, check_id, use_model)
    except Exception as exc:
        summary = FAILED_SUMMARY.format(sha=head[:12], error=str(exc)[:500] or type(exc).__name__)
        tally.take(steps.conclude(job, check_id, "neutral", FAILED_TITLE, summary))
        return Outcome("error", str(exc)[:500], check_run_id=check_id, calls=tally.calls)


def _run_stages(ctx: Context, check_id: int, use_model: bool) -> Outcome:
    job, head, tally, config = ctx.job, ctx.pr.head_sha, ctx.tally, ctx.config
    diff = tally.take(steps.fetch_diff(job))
    analysis = tally.take(
        steps.analyze(job, head, diff.text, config, ctx.pr.base_sha, ctx.base_reads, facts=use_model)
    )
    if (stop := _superseded(ctx, check_id)) is not None:
        return stop
    changes = parse_diff(diff.text)
    specialist = _specialist(ctx, check_id, diff.text, changes, analysis) if use_model else None
    if (stop := _superseded(ctx, check_id)) is not None:
        return stop
    accepted = tally.take(steps.load_acceptances(job, config.commands.min_permission))
    degraded = diff.note if diff.missing else None
    notes = [] if use_model else [FORK_STATIC_NOTE if _fork_barred(ctx) else STATIC_ONLY_NOTE]
    incremental = specialist is not None and specialist.since is not None
    stats = {"head_sha": head, "trigger": job.trigger, "delivery": job.delivery_id,
             "mode": "full" if ctx.options.full else "incremental" if incremental else "standard",
             **(specialist.stats() if specialist is not None else {})}  # model, prompt versions, tokens, dollars

    raised = list(analysis.findings) + (list(specialist.findings) if specialist is not None else [])
    decisions = tally.take(reply_steps.load_memory(job, head, raised))  # what the repository decided before

    def assemble(acc: list[Acceptance]) -> Review:
        result = assemble_review(changes, config, analysis, specialist=specialist, config_errors=ctx.config_errors,
                                 accepted=acc, degraded=degraded, stats=stats, memory=decisions, pr=job.number)
        return result.model_copy(update={"notes": result.notes + notes})

    result = assemble(accepted)
    if ctx.options.accept_all:
        accepted = _accept_all(ctx, result, accepted)
        result = assemble(accepted)
    if (stop := _superseded(ctx, check_id)) is not None:
        return stop
    posted = tally.take(steps.post_review(job, head, result, diff.text, config.review_event))
    decided = {f.id for f in raised} - {f.id for f in result.findings}  # left out by memory or `ignore:`
    outdated = [i for i in outdated_findings(posted.existing_ids, result) if i not in decided]
    notes = result.notes + ([OUTDATED_NOTE.format(ids=", ".join(outdated))] if outdated else [])
    closed, thread_notes = _close_threads(ctx, result, outdated)
    notes += thread_notes
    calls = tally.calls + _completion_calls(result)
    result = result.model_copy(update={"notes": notes, "stats": {**result.stats, "github_calls": calls}})
    memory = remember(specialist, head)
    text = encode(memory) if memory is not None else None
    tally.take(steps.complete_check(job, check_id, result, render_summary(result), render_title(result), text))
    observer = current_runtime().on_review
    if observer is not None:
        observer(result)
    return Outcome(result.conclusion.value, result.verdict, check_run_id=check_id, review_id=posted.review_id,
                   calls=tally.calls, extra={"findings": [f.id for f in result.findings], "outdated": outdated,
                                             "blocking": _blocking(result), "threads": closed.model_dump()})


def _close_threads(ctx: Context, result: Review, outdated: list[str]) -> tuple[ThreadsResult, list[str]]:
    """Resolve the threads of fixed findings (no call when none is fixed); never fails the review."""
    if not outdated:
        return ThreadsResult(), []
    if any(n.startswith(PARTIAL_PREFIX) for n in result.notes):  # not seen is not fixed
        return ThreadsResult(), [THREADS_PARTIAL_NOTE]
    try:
        closed = ctx.tally.take(steps.close_threads(ctx.job, ctx.pr.head_sha, outdated))
    except (GitHubError, DBOSMaxStepRetriesExceeded) as err:
        return ThreadsResult(), [THREADS_UNREADABLE_NOTE.format(status=_status(err))]
    notes = []
    if closed.resolved:
        notes.append(THREADS_RESOLVED_NOTE.format(sha=ctx.pr.head_sha[:12], ids=", ".join(closed.resolved)))
    if closed.reopened:
        notes.append(THREADS_REOPENED_NOTE.format(ids=", ".join(closed.reopened)))
    if closed.deferred:
        notes.append(THREADS_DEFERRED_NOTE.format(n=MAX_RESOLVE, ids=", ".join(closed.deferred)))
    if closed.note():
        notes.append(closed.note())
    return closed, notes


def _blocking(result: Review) -> list[str]:
    """Ids of the findings that fail the gate (at or above fail_on, not accepted)."""
    accepted = {a.finding_id for a in result.accepted}
    return [f.id for f in result.findings if f.severity.at_least(result.fail_on) and f.id not in accepted
            and f.confidence >= result.min_confidence]


def _completion_calls(result: Review) -> int:
    """Calls `complete_check_run` makes: one read, then one PATCH per 50 annotations (at least one)."""
    annotations = min(len(result.findings), MAX_ANNOTATIONS)
    return 1 + max(1, -(-annotations // ANNOTATIONS_PER_REQUEST))


def _accept_all(ctx: Context, result: Review, accepted: list[Acceptance]) -> list[Acceptance]:
    known = {a.finding_id for a in accepted}
    ids = [f.id for f in result.findings if f.id not in known]
    if not ids:
        return accepted
    ctx.tally.take(steps.record_acceptance(ctx.job, ids))
    return accepted + [Acceptance(finding_id=i, by=ctx.job.actor, reason=BUTTON_REASON) for i in ids]


def _increment(ctx: Context, changes: ChangeSet, model: str) -> Increment:
    """The base of an incremental review, unless a full one was asked for: after a push, the head
    before it (`before_sha`); on a re-run that may reuse (`Options.reuse`), the current head itself."""
    before = ctx.job.before_sha or (ctx.pr.head_sha if ctx.options.reuse else "")
    if ctx.options.full or ctx.options.focus or not before:
        return Increment()
    paths = sorted({p for fc in changes.files for p in (fc.path, fc.old_path) if p})
    try:
        return ctx.tally.take(steps.load_increment(ctx.job, before, ctx.pr.head_sha, model, current_prompts(), paths))
    except (GitHubError, DBOSMaxStepRetriesExceeded) as err:  # still failing after the step's retries:
        return Increment(why_full=UNREADABLE_MEMORY.format(status=_status(err)))  # costs more, never less right


def _status(err: Exception) -> str:
    """The HTTP status behind a failed step (the last attempt's, when DBOS ran out of retries)."""
    if isinstance(err, DBOSMaxStepRetriesExceeded) and err.errors:
        err = err.errors[-1]
    return str(err.status) if isinstance(err, GitHubError) and err.status else "no answer"


def _in_diff(findings: list[Finding], changes: ChangeSet) -> list[Finding]:
    paths = set(changes.paths)
    return [f for f in findings if f.path in paths]


def _specialist(ctx: Context, check_id: int, diff_text: str, changes: ChangeSet,
                analysis: AnalysisResult) -> SpecialistResult | None:
    """The model loop, one durable step per turn; stops early when a newer head arrives. After a push
    whose previous head the specialist reviewed, it reads only the commits since (an increment). When
    the model changes its plan (`update_plan`), the in-progress check run shows it."""
    llm = ctx.config.llm
    model = llm.model or current_runtime().settings.model
    increment = _increment(ctx, changes, model)
    follow_up = parse_diff(increment.diff) if increment.since else None
    candidates = list(analysis.findings)
    request = SpecialistRequest(  # files left out as generated are not sent to the model either
        diff=without_files(increment.diff if increment.since else diff_text, set(analysis.generated)),
        pr_title=ctx.pr.title, pr_body=ctx.pr.body,
        candidates=_in_diff(candidates, follow_up) if follow_up is not None else candidates,
        since=increment.since, previous_findings=increment.previous, previous_verdicts=increment.previous_verdicts,
        focus=list(dict.fromkeys([*ctx.options.focus, *ctx.config.focus])), instructions=dict(ctx.config.instructions),
        model=model, max_turns=llm.max_turns, facts=analysis.facts, min_confidence=ctx.config.gate.min_confidence,
    )
    budget = Budget.from_config(llm)
    ceiling = current_runtime().max_cost_usd
    if ceiling is not None and ceiling < budget.max_cost_usd:
        budget = dataclasses.replace(budget, max_cost_usd=ceiling)
    state = steps.specialist_start(request)
    shown: list[dict[str, str]] = []
    for _ in range(budget.max_turns + 1):  # each turn calls the model once or stops
        if state["done"] or ctx.tally.take(ctx.superseded_by(ctx.job, ctx.pr.head_sha)) is not None:
            break
        state = ctx.tally.take(steps.specialist_turn(ctx.job, ctx.pr.head_sha, state, budget))
        if state["plan"] and state["plan"] != shown and not state["done"]:
            shown = state["plan"]
            summary = render_progress(ctx.pr.head_sha, shown, state["turns"], budget.max_turns)
            ctx.tally.take(steps.show_progress(ctx.job, check_id, summary))
    result = ctx.tally.take(steps.specialist_finish(ctx.job, ctx.pr.head_sha, state, diff_text, candidates,
                                                    increment.diff if increment.since else None))
    note = _scope_note(increment, follow_up, ctx.pr.head_sha)
    return result.model_copy(update={"notes": [note, *result.notes]}) if note else result


def _scope_note(increment: Increment, follow_up: ChangeSet | None, head_sha: str) -> str:
    """What the specialist was given, for the summary: the commits since, nothing new, or all (and why)."""
    if increment.since == head_sha:
        return REUSED_NOTE.format(sha=head_sha[:12])
    if increment.since and follow_up is not None:
        return INCREMENTAL_NOTE.format(since=increment.since[:12], files=len(follow_up.files))
    return FULL_NOTE.format(why=increment.why_full) if increment.why_full else ""


def run_review(job: Job, superseded_by: SupersededBy, options: Options | None = None) -> Outcome:
    """A review job (pull_request, check_run re-run, check_suite): skip when nothing is to be done."""
    tally = Tally()
    ctx = load_context(job, tally, superseded_by, options or Options())
    reason = skip_reason(ctx)
    if reason is not None:
        kind = "superseded" if reason.startswith("superseded") else "skipped"
        return Outcome(kind, reason, calls=tally.calls)
    return review(ctx)
