"""The durable steps of a review: each GitHub interaction and each analysis stage, checkpointed by DBOS.

A step that finished is never run again after a crash; one cut off runs again (so every write here
is idempotent on GitHub's side: see bot.github.checks/publish). Transient GitHub failures are
retried with backoff, waiting at least what `retry-after` asked for. Each step returns plain
values plus the number of GitHub calls it made (`Counted`), so the review can report the total.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

import structlog
from dbos import DBOS

from bot.analyzers.engine import AnalysisResult
from bot.analyzers.time_budget import AnalysisBudget
from bot.app import tracing
from bot.app.runtime import current_runtime
from bot.core.diff import parse_diff
from bot.core.jobs import Job
from bot.core.model import Acceptance, Finding, Review
from bot.core.repo_config import RepoConfig
from bot.github import checks, publish, threads
from bot.github.client import GitHubGateway
from bot.github.increment import Increment, find_increment
from bot.github.repo_view import GitHubRepo
from bot.github.retry import GitHubError
from bot.github.values import ConfigTexts, DiffResult, PullInfo
from bot.review.acceptances import Claimed, acceptance_comment, merge, permits, read_acceptances
from bot.review.pipeline import BaseReads, run_static
from bot.review.specialist_facts import specialist_facts
from bot.specialist.budget import Budget
from bot.specialist.loop import SpecialistRequest, finish, run_turn, start_state
from bot.specialist.outcome import SpecialistResult

log = structlog.get_logger("scale_review.review")
P = ParamSpec("P")
T = TypeVar("T")
MAX_RETRY_AFTER_WAIT = 120.0
MAX_PERMISSION_CHECKS = 10
GITHUB_RETRY: dict[str, Any] = dict(retries_allowed=True, max_attempts=4, interval_seconds=1.0, backoff_rate=2.0)
# the step that concludes a check run after a failure tries for longer: a run must not stay in_progress
FINAL_RETRY: dict[str, Any] = dict(retries_allowed=True, max_attempts=8, interval_seconds=2.0, backoff_rate=2.0)


@dataclass(frozen=True)
class Counted(Generic[T]):
    value: T
    calls: int


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, GitHubError) and exc.retryable


def honour_retry_after(fn: Callable[P, T]) -> Callable[P, T]:
    """Before a step's retry, wait what GitHub's `retry-after` asked for (capped, scaled in tests)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except GitHubError as err:
            if err.retryable and err.retry_after:
                scale = current_runtime().retry.wait_scale
                time.sleep(min(err.retry_after, MAX_RETRY_AFTER_WAIT) * scale)
            raise

    return wrapper


def _gw(job: Job) -> GitHubGateway:
    return tracing.note_gateway(current_runtime().gateway(job.installation_id, job.delivery_id))


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("load")
def load_pull(job: Job) -> Counted[PullInfo]:
    gw = _gw(job)
    return Counted(gw.get_pull(job.repo, job.number), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("load")
def load_configs(job: Job, base_sha: str) -> Counted[ConfigTexts]:
    """The repo's and the organisation's config and rules folders, from the BASE commit (a PR cannot change
    its gate), with the base's `.gitattributes`: one GraphQL call."""
    gw = _gw(job)
    return Counted(gw.get_configs(job.repo, base_sha, current_runtime().config_path), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def find_run(job: Job, head_sha: str) -> Counted[int | None]:
    """Our run that already answers for `head_sha` (see checks.review_stands), or None."""
    gw = _gw(job)
    run = checks.find_check_run(gw, job.repo, head_sha)
    return Counted(int(run["id"]) if run and checks.review_stands(run) else None, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def start_check(job: Job, head_sha: str, summary: str) -> Counted[int]:
    gw = _gw(job)
    external_id = f"{job.repo}#{job.number}@{head_sha}"
    return Counted(checks.start_check_run(gw, job.repo, head_sha, external_id=external_id, summary=summary), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("load")
def fetch_diff(job: Job) -> Counted[DiffResult]:
    """The unified diff; `missing`/`note` say what GitHub could not show."""
    gw = _gw(job)
    return Counted(gw.get_diff(job.repo, job.number), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("analyze")
def analyze(job: Job, head_sha: str, diff_text: str, config: RepoConfig, base_sha: str | None = None,
            base_reads: BaseReads | None = None, facts: bool = False) -> Counted[AnalysisResult]:
    """The static analyzers on the head version of the changed files and, given `base_sha`, on their base
    version too (problems already there are kept apart); the base side costs one batched read per 100
    files, counted with the rest. `base_reads`: the team's rules and `.gitattributes` from the config query.
    With `facts` (a model will review), `AnalysisResult.facts` carries the specialist's facts, read through
    the same head view (its file cache, the per-commit graph cache)."""
    gw = _gw(job)
    s = current_runtime().settings
    budget = AnalysisBudget(file_seconds=s.analyzer_file_seconds, review_seconds=s.analyzer_review_seconds)
    base = GitHubRepo(gw, job.repo, base_sha) if base_sha else None
    head = GitHubRepo(gw, job.repo, head_sha)
    changes = parse_diff(diff_text)
    result = run_static(changes, head, config, base_repo=base, budget=budget, base_reads=base_reads)
    if facts:
        result.facts = specialist_facts(head, changes, diff_text, frozenset(result.generated))
    return Counted(result, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("load")
def load_increment(job: Job, before_sha: str, head_sha: str, model: str, prompts: dict[str, str],
                   pr_paths: list[str]) -> Counted[Increment]:
    """What the review of the previous head remembered, and the commits since (incremental review)."""
    gw = _gw(job)
    found = find_increment(gw, job.repo, before_sha, head_sha, model=model, prompts=prompts, pr_paths=set(pr_paths))
    return Counted(found, gw.calls)


@DBOS.step()
def show_progress(job: Job, check_run_id: int, summary: str) -> Counted[bool]:
    """Best effort: the in-progress check run's summary (the specialist's plan). A failure is only
    logged; the review goes on (the final summary replaces this one anyway)."""
    gw = _gw(job)
    try:
        checks.update_check_progress(gw, job.repo, check_run_id, summary)
    except GitHubError as err:
        log.warning("progress.not_shown", status=err.status, error=str(err)[:200])
        return Counted(False, gw.calls)
    return Counted(True, gw.calls)


@DBOS.step()
def specialist_start(request: SpecialistRequest) -> dict[str, Any]:
    return start_state(request)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("specialist")
def specialist_turn(job: Job, head_sha: str, state: dict[str, Any], budget: Budget) -> Counted[dict[str, Any]]:
    """ONE model call and its tool runs: checkpointed, so a finished turn is never paid for twice."""
    return model_turn(job, head_sha, state, budget)


def model_turn(job: Job, head_sha: str, state: dict[str, Any], budget: Budget) -> Counted[dict[str, Any]]:
    """One turn of a model conversation (a review's or a reply's) with the read tools on `head_sha`; the
    caller is the checkpointed step."""
    gw = _gw(job)
    runtime = current_runtime()
    new_state = run_turn(state, client=runtime.model_client, repo=GitHubRepo(gw, job.repo, head_sha), budget=budget,
                         sleep=runtime.model_sleep)
    return Counted(new_state, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("specialist")
@tracing.records_review
def specialist_finish(job: Job, head_sha: str, state: dict[str, Any], diff_text: str,
                      candidates: list[Finding], follow_up_diff: str | None = None) -> Counted[SpecialistResult]:
    """Validate against the whole PR diff; `follow_up_diff` (incremental) carries earlier findings forward."""
    gw = _gw(job)
    follow_up = parse_diff(follow_up_diff) if follow_up_diff is not None else None
    result = finish(state, changes=parse_diff(diff_text), candidates=candidates,
                    repo=GitHubRepo(gw, job.repo, head_sha), follow_up=follow_up)
    return Counted(result, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def load_acceptances(job: Job, min_permission: str) -> Counted[list[Acceptance]]:
    """Accepted risks on this PR: our App's records, and accept commands from authorised people."""
    gw = _gw(job)
    comments = gw.paginate(f"/repos/{job.repo}/issues/{job.number}/comments", max_pages=10)
    trusted, claimed = read_acceptances(comments, gw.identity().wrote)
    verdicts: dict[str, bool] = {}
    allowed: list[Claimed] = []
    for claim in claimed:
        if claim.login not in verdicts and len(verdicts) < MAX_PERMISSION_CHECKS:
            verdicts[claim.login] = permits(gw.get_permission(job.repo, claim.login), min_permission)
        if verdicts.get(claim.login):
            allowed.append(claim)
    return Counted(merge(trusted, allowed), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def permission(job: Job, login: str) -> Counted[str]:
    gw = _gw(job)
    return Counted(gw.get_permission(job.repo, login), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("publish")
def post_review(job: Job, head_sha: str, review: Review, diff_text: str, event: str) -> Counted[publish.PostResult]:
    gw = _gw(job)
    result = publish.post_review(gw, job.repo, job.number, head_sha, review, parse_diff(diff_text), event=event)
    return Counted(result, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("publish")
def close_threads(job: Job, head_sha: str, fixed: list[str]) -> Counted[threads.ThreadsResult]:
    """Resolve the review threads of findings this head no longer has, replying with the commit."""
    gw = _gw(job)
    return Counted(threads.close_fixed_threads(gw, job.repo, job.number, head_sha, fixed), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
@tracing.stage("publish")
@tracing.records_review
def complete_check(job: Job, check_run_id: int, review: Review, summary_md: str, title: str,
                   text: str | None = None) -> Counted[None]:
    """`text`: the hidden memory the next push's incremental review starts from (bot.specialist.memory)."""
    gw = _gw(job)
    checks.complete_check_run(gw, job.repo, check_run_id, review, summary_md=summary_md, title=title, text=text)
    return Counted(None, gw.calls)


@DBOS.step(should_retry=_transient, **FINAL_RETRY)
@honour_retry_after
def conclude(job: Job, check_run_id: int, conclusion: str, title: str, summary: str) -> Counted[None]:
    gw = _gw(job)
    checks.conclude_check_run(gw, job.repo, check_run_id, conclusion, title, summary)
    return Counted(None, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def conclude_superseded(job: Job, check_run_id: int, newer_sha: str) -> Counted[None]:
    gw = _gw(job)
    checks.conclude_superseded(gw, job.repo, check_run_id, newer_sha)
    return Counted(None, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def react(job: Job, content: str) -> Counted[None]:
    gw = _gw(job)
    gw.add_reaction(job.repo, job.comment_id, content)
    return Counted(None, gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def reply(job: Job, body: str) -> Counted[int]:
    gw = _gw(job)
    return Counted(gw.post_issue_comment(job.repo, job.number, body), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def record_acceptance(job: Job, ids: list[str]) -> Counted[int]:
    gw = _gw(job)
    return Counted(gw.post_issue_comment(job.repo, job.number, acceptance_comment(job.actor, ids)), gw.calls)
