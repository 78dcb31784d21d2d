"""Fixed findings close their threads: when a push no longer has a finding we commented inline, its review
thread is resolved (GraphQL `resolveReviewThread`) with a short reply naming the commit that fixed it.

GitHub keeps the state, as for everything else the bot posted: a thread is ours when its first comment
is by our App (`viewerDidAuthor`: the installation token's viewer is our bot user) and carries a finding
marker; our resolution reply carries a resolution marker. A thread that carries that marker but is open
again was re-opened by a person after we resolved it, and is left alone from then on (GitHub does not
say who un-resolved a thread; the marker is what we can observe). Calls: one query for the PR's threads
(100 a page), one mutation resolving every thread to close (aliases), one mutation replying under those
GitHub did resolve. A refusal (e.g. the App lacks permission) is reported, never raised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from bot.github.client import GitHubGateway
from bot.github.retry import GitHubError
from bot.render.comment import find_markers
from bot.render.sanitize import MARKER_PREFIX

THREADS_PER_PAGE = 100
MAX_THREAD_PAGES = 5  # 500 threads: more than any review of ours leaves
LATEST_COMMENTS = 20  # the tail of each thread, where our resolution reply and later human replies are
MAX_RESOLVE = 50  # threads resolved per push; the rest wait for the next one (said in the summary)
RESOLVED_MARKER = MARKER_PREFIX + "resolved={id} -->"
_RESOLVED_RE = re.compile(re.escape(MARKER_PREFIX) + r"resolved=([A-Za-z0-9][A-Za-z0-9_.:-]{0,127}) -->")
RESOLVED_REPLY = ("Fixed in {sha}: this push no longer has this finding, so scale-review resolved the thread. "
                  "If it is not fixed, re-open the thread; scale-review will leave it open.\n\n" + RESOLVED_MARKER)
NOT_ALLOWED = "GitHub says the App may not resolve these threads (viewerCanResolve is false)"
REFUSED_NOTE = "GitHub refused to resolve the review threads of fixed findings ({ids}): {reason}"


def threads_query() -> str:
    """The PR's review threads: state, our opening comment, and the latest comments (one page)."""
    comment = "body viewerDidAuthor createdAt author { login }"
    return (
        "query($owner: String!, $name: String!, $number: Int!, $after: String) { "
        "repository(owner: $owner, name: $name) { pullRequest(number: $number) { "
        f"reviewThreads(first: {THREADS_PER_PAGE}, after: $after) {{ pageInfo {{ hasNextPage endCursor }} "
        "nodes { id isResolved viewerCanResolve "
        f"opening: comments(first: 1) {{ nodes {{ {comment} }} }} "
        f"latest: comments(last: {LATEST_COMMENTS}) {{ nodes {{ {comment} }} }} }} }} }} }} }}"
    )


def resolve_mutation(count: int) -> str:
    """Resolve `count` threads ($t0..) in one request, one alias each."""
    params = ", ".join(f"$t{i}: ID!" for i in range(count))
    fields = " ".join(f"r{i}: resolveReviewThread(input: {{threadId: $t{i}}}) {{ thread {{ id isResolved }} }}"
                      for i in range(count))
    return f"mutation({params}) {{ {fields} }}"


def reply_mutation(count: int) -> str:
    """Reply in `count` threads ($t0.., bodies $b0..) in one request."""
    params = ", ".join(f"$t{i}: ID!, $b{i}: String!" for i in range(count))
    fields = " ".join(f"c{i}: addPullRequestReviewThreadReply(input: {{pullRequestReviewThreadId: $t{i}, "
                      f"body: $b{i}}}) {{ comment {{ id }} }}" for i in range(count))
    return f"mutation({params}) {{ {fields} }}"


class Thread(BaseModel):
    """One of our review threads as GitHub shows it."""

    id: str
    finding_id: str
    resolved: bool
    resolved_by_us_before: bool  # our resolution reply is in it
    can_resolve: bool = True


class ThreadsResult(BaseModel):
    resolved: list[str] = Field(default_factory=list)  # finding ids whose threads this push resolved
    reopened: list[str] = Field(default_factory=list)  # fixed, but a person re-opened the thread: left open
    refused: list[str] = Field(default_factory=list)  # GitHub would not resolve these
    deferred: list[str] = Field(default_factory=list)  # over MAX_RESOLVE: the next push resolves them
    reason: str = ""  # why GitHub refused

    def note(self) -> str:
        if not self.refused:
            return ""
        return REFUSED_NOTE.format(ids=", ".join(self.refused), reason=self.reason or "no reason given")


def our_thread(node: dict[str, Any]) -> Thread | None:
    """A thread GitHub shows -> ours (opened by our App with a finding marker), or None."""
    opening = ((node.get("opening") or {}).get("nodes") or [None])[0] or {}
    ids = find_markers(str(opening.get("body") or "")) if opening.get("viewerDidAuthor") else set()
    if len(ids) != 1 or not isinstance(node.get("id"), str):
        return None
    latest = (node.get("latest") or {}).get("nodes") or []
    ours_resolved = any(c.get("viewerDidAuthor") and _RESOLVED_RE.search(str(c.get("body") or ""))
                        for c in latest if isinstance(c, dict))
    return Thread(id=node["id"], finding_id=next(iter(ids)), resolved=bool(node.get("isResolved")),
                  resolved_by_us_before=ours_resolved, can_resolve=node.get("viewerCanResolve") is not False)


def list_threads(gw: GitHubGateway, repo: str, number: int) -> list[Thread]:
    owner, name = repo.split("/", 1)
    out: list[Thread] = []
    after: str | None = None
    for _ in range(MAX_THREAD_PAGES):
        data = gw.graphql(threads_query(), {"owner": owner, "name": name, "number": number, "after": after})
        threads = (((data.get("repository") or {}).get("pullRequest") or {}).get("reviewThreads") or {})
        out += [t for n in threads.get("nodes") or [] if isinstance(n, dict) and (t := our_thread(n))]
        page = threads.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    return out


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))  # a finding commented twice has two threads; it is named once


def _errors_by_alias(errors: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in errors:
        path = e.get("path") or [""]
        out.setdefault(str(path[0]), str(e.get("message") or e.get("type") or "refused")[:300])
    return out


def _triage(found: list[Thread], fixed: set[str]) -> tuple[list[Thread], ThreadsResult]:
    """The open threads of fixed findings to resolve, and those left alone (re-opened, not ours to resolve)."""
    todo = [t for t in found if t.finding_id in fixed and not t.resolved]
    reopened = _unique(sorted(t.finding_id for t in todo if t.resolved_by_us_before))
    refused = _unique(t.finding_id for t in todo if not t.resolved_by_us_before and not t.can_resolve)
    todo = [t for t in todo if not t.resolved_by_us_before and t.can_resolve]
    return todo[:MAX_RESOLVE], ThreadsResult(reopened=reopened, refused=refused,
                                             deferred=[t.finding_id for t in todo[MAX_RESOLVE:]],
                                             reason=NOT_ALLOWED if refused else "")


def _resolve(gw: GitHubGateway, todo: list[Thread]) -> tuple[list[Thread], str]:
    """The threads GitHub resolved, and why it refused the others (one request, an alias each)."""
    try:
        data, errors = gw.graphql_answer(resolve_mutation(len(todo)), {f"t{i}": t.id for i, t in enumerate(todo)})
    except GitHubError as err:
        if err.retryable:
            raise
        return [], str(err)[:300]
    failed = _errors_by_alias(errors)
    done = [t for i, t in enumerate(todo)
            if f"r{i}" not in failed and ((data.get(f"r{i}") or {}).get("thread") or {}).get("isResolved")]
    return done, next(iter(failed.values()), "")


def _reply(gw: GitHubGateway, done: list[Thread], head_sha: str) -> None:
    """One reply per resolved thread naming the commit (one request). Sent once: a reply GitHub may have
    taken must not appear twice, and the threads are resolved whether or not it arrives."""
    variables: dict[str, Any] = {}
    for i, t in enumerate(done):
        variables[f"t{i}"] = t.id
        variables[f"b{i}"] = RESOLVED_REPLY.format(sha=head_sha[:12], id=t.finding_id)
    try:
        gw.graphql_answer(reply_mutation(len(done)), variables, once=True)
    except GitHubError:
        pass


def close_fixed_threads(gw: GitHubGateway, repo: str, number: int, head_sha: str, fixed: list[str]) -> ThreadsResult:
    """Resolve the open threads of `fixed` findings and reply naming `head_sha` (no call when none is fixed)."""
    if not fixed:
        return ThreadsResult()
    todo, result = _triage(list_threads(gw, repo, number), set(fixed))
    if not todo:
        return result
    done, why = _resolve(gw, todo)
    not_done = [t.finding_id for t in todo if t not in done]
    refused = _unique(result.refused + not_done)
    result = result.model_copy(update={"resolved": _unique(t.finding_id for t in done), "refused": refused,
                                       "reason": (why or result.reason) if refused else ""})
    if done:
        _reply(gw, done, head_sha)
    return result
