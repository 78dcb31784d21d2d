"""The durable steps of a reply under one of our inline comments (see bot.app.reply_flow).

Checkpointed like a review's steps: a finished step never runs again after a crash, and every write is
idempotent (the thread answer carries a marker naming the reply; a memory entry is unique per reply).
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from bot.app.review_steps import GITHUB_RETRY, Counted, _gw, _transient, honour_retry_after, model_turn
from bot.app.runtime import current_runtime
from bot.core.jobs import Job
from bot.core.model import Finding
from bot.core.repo import RepoAccessError
from bot.github.repo_view import GitHubRepo
from bot.github.thread_replies import Thread, read_thread, reply_in_thread
from bot.review.suppressions import MemoryEntry, MemoryKind, RepoMemory, code_fingerprint, rule_of
from bot.specialist.budget import Budget
from bot.specialist.reply import ReplyRequest, start_reply_state

NO_STORE = "the repository memory is not available in this process"


def _store() -> Any:
    store = current_runtime().memory_store
    if store is None:
        raise RuntimeError(NO_STORE)
    return store


def _file_text(repo: GitHubRepo, path: str) -> str:
    try:
        repo.prefetch([path])
        return repo.read_text(path)
    except RepoAccessError:
        return ""


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def load_thread(job: Job) -> Counted[tuple[Thread | None, str]]:
    gw = _gw(job)
    return Counted(read_thread(gw, job.repo, job.reply_to), gw.calls)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def read_finding_file(job: Job, thread: Thread) -> Counted[str]:
    """The finding's file at the commit it was posted on ("" when it cannot be read)."""
    gw = _gw(job)
    return Counted(_file_text(GitHubRepo(gw, job.repo, thread.commit_id or job.head_sha), thread.path), gw.calls)


@DBOS.step()
def remember(job: Job, thread: Thread, file_text: str, kind: MemoryKind, by: str, reason: str,
             ) -> tuple[MemoryEntry, bool]:
    """Record the decision for this finding's code in the repository memory (once per reply)."""
    fp = code_fingerprint(thread.rule, thread.path, file_text, thread.start_line, thread.end_line)
    entry, new = _store().record(repo=job.repo, rule=thread.rule, fingerprint=fp, finding_id=thread.finding_id,
                                 kind=kind, by=by, reason=reason, pr=job.number, comment_id=job.comment_id)
    return entry, new


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def answer(job: Job, thread_comment_id: int, text: str) -> Counted[int]:
    gw = _gw(job)
    return Counted(reply_in_thread(gw, job.repo, job.number, thread_comment_id, job.comment_id, text), gw.calls)


@DBOS.step()
def reply_start(request: ReplyRequest) -> dict[str, Any]:
    return start_reply_state(request)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def reply_turn(job: Job, head_sha: str, state: dict[str, Any], budget: Budget) -> Counted[dict[str, Any]]:
    """ONE model call and its tool runs, checkpointed (a finished turn is never paid for twice)."""
    return model_turn(job, head_sha, state, budget)


@DBOS.step(should_retry=_transient, **GITHUB_RETRY)
@honour_retry_after
def load_memory(job: Job, head_sha: str, findings: list[Finding]) -> Counted[RepoMemory]:
    """The repository's live memory, and the fingerprints of this review's findings that memory names
    (only their files are read: a review with nothing remembered costs no call)."""
    store = current_runtime().memory_store
    if store is None:
        return Counted(RepoMemory(), 0)
    entries = store.entries(job.repo)
    known = {e.finding_id for e in entries}
    rules = {e.rule for e in entries}
    wanted = [f for f in findings if f.id in known and rule_of(f) in rules]
    if not wanted:
        return Counted(RepoMemory(entries=entries), 0)
    gw = _gw(job)
    repo = GitHubRepo(gw, job.repo, head_sha)
    repo.prefetch(sorted({f.path for f in wanted}))
    fingerprints: dict[str, str] = {}
    for f in wanted:
        try:
            text = repo.read_text(f.path)
        except RepoAccessError:
            continue
        fingerprints[f.id] = code_fingerprint(rule_of(f), f.path, text, f.start_line, f.end_line)
    return Counted(RepoMemory(entries=entries, fingerprints=fingerprints), gw.calls)


@DBOS.step()
def list_memory(job: Job) -> list[MemoryEntry]:
    """The repository's live memory entries (`/scale-review memory`)."""
    result: list[MemoryEntry] = _store().entries(job.repo)
    return result
