"""The base of an incremental review: what the previous head's review remembered, and the commits since.

On `synchronize` the payload names the head before the push. When our check run on that head
finished with the specialist (its memory, bot.specialist.memory), the same model and prompts are in
use, and the new head descends from it with every file's patch shown, the specialist reviews only
`before...head` and earlier findings are carried forward. Anything else is a full review, with the
reason said in the check summary: slower, never wrong.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.core.diff import git_sections
from bot.core.model import Finding
from bot.core.verdicts import Verdict
from bot.github.checks import our_check_runs
from bot.github.client import GitHubGateway
from bot.github.retry import GitHubError
from bot.specialist.memory import WHY_NO_MEMORY, WHY_NO_RUN, decode, reuse_problem

WHY_REWRITTEN = "the push rewrote history: {head} does not descend from {before} (compare: {status})"
WHY_INCOMPLETE = "GitHub did not show every file changed since {before} ({detail})"
WHY_UNREADABLE = "the commits since {before} could not be compared (GitHub answered {status})"


class Increment(BaseModel):
    """`since` set: review `diff` (the commits since) and carry `previous`; else `why_full` says why not."""

    since: str | None = None
    diff: str = ""
    previous: list[Finding] = Field(default_factory=list)
    previous_verdicts: list[Verdict] = Field(default_factory=list)  # on low-confidence analyzer findings
    why_full: str = ""


def only_files(diff: str, paths: set[str]) -> str:
    """The sections of a git diff whose old or new path is in `paths` (a push may bring in, e.g. through
    a merge of the base branch, files the pull request does not change)."""
    return "".join(section for pair, section in git_sections(diff) if pair and (pair[0] in paths or pair[1] in paths))


def find_increment(gw: GitHubGateway, repo: str, before_sha: str, head_sha: str, *, model: str,
                   prompts: dict[str, str], pr_paths: set[str]) -> Increment:
    """At most two calls: our check run on `before_sha`, then compare `before_sha...head_sha` (none when
    they are the same commit: a re-run of a reviewed head reuses its findings)."""
    finished = [r for r in our_check_runs(gw, repo, before_sha) if r.get("status") == "completed"]
    if not finished:
        return Increment(why_full=WHY_NO_RUN.format(sha=before_sha[:12]))
    # the newest run that remembers (a later re-run may have ended without the model, e.g. superseded)
    memory = next((m for m in (decode((r.get("output") or {}).get("text")) for r in finished) if m), None)
    if memory is None:
        return Increment(why_full=WHY_NO_MEMORY.format(sha=before_sha[:12]))
    problem = reuse_problem(memory, before_sha, model, prompts)
    if problem:
        return Increment(why_full=problem)
    if before_sha == head_sha:  # this very head was reviewed: nothing new for the specialist
        return Increment(since=before_sha, previous=memory.findings, previous_verdicts=memory.verdicts)
    try:
        comparison = gw.compare_commits(repo, before_sha, head_sha)
    except GitHubError as err:
        if err.retryable:
            raise
        # e.g. 404: the old head is gone after a force push, or no common ancestor
        return Increment(why_full=WHY_UNREADABLE.format(before=before_sha[:12], status=err.status))
    if comparison.status != "ahead":
        return Increment(why_full=WHY_REWRITTEN.format(head=head_sha[:12], before=before_sha[:12],
                                                       status=comparison.status))
    if not comparison.complete:
        detail = (f"{len(comparison.missing)} file(s) without a patch" if comparison.missing
                  else f"{comparison.files} files listed, the most it lists")
        return Increment(why_full=WHY_INCOMPLETE.format(before=before_sha[:12], detail=detail))
    return Increment(since=before_sha, diff=only_files(comparison.diff, pr_paths), previous=memory.findings,
                     previous_verdicts=memory.verdicts)
