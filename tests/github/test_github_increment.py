"""Finding the base of an incremental review on GitHub (the fake): the previous head's memory and the
commits since, or the reason a full review is needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.diff import parse_diff
from bot.core.model import Category, Conclusion, Finding, Review, Severity
from bot.github.checks import complete_check_run, start_check_run
from bot.github.client import GitHubGateway
from bot.github.increment import find_increment, only_files
from bot.specialist.memory import ReviewMemory, current_prompts, encode
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/shop"
MODEL = "claude-sonnet-4-6"
BASE = "".join(f"v{i} = {i}\n" for i in range(1, 41))
HEAD = BASE.replace("v3 = 3\n", "v3 = 33\n")
PR_PATHS = {"app.py", "lib.py"}


@pytest.fixture()
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, {"README.md": "hi\n"})
        fake.add_pull(REPO, 7, {"app.py": (BASE, HEAD), "lib.py": (None, "x = 1\n")})
        yield fake


def earlier() -> Finding:
    return Finding(id="SR-00000000aa", category=Category.n_plus_one, severity=Severity.high, path="app.py",
                   start_line=3, end_line=3, title="t", evidence="e", risk="r", rollback="", monitoring="",
                   source="specialist")


def reviewed(gw: GitHubGateway, sha: str, *, model: str = MODEL, memory: bool = True, finish: bool = True) -> None:
    """Our check run on `sha`, completed with (or without) a memory of a finished specialist review."""
    run = start_check_run(gw, REPO, sha, external_id=f"{REPO}#7@{sha}", summary="reviewing")
    if not finish:
        return
    text = encode(ReviewMemory(head_sha=sha, model=model, prompts=current_prompts(), findings=[earlier()]))
    review = Review(conclusion=Conclusion.failure, verdict="v", findings=[earlier()])
    complete_check_run(gw, REPO, run, review, summary_md="done", title="done", text=text if memory else None)


def test_after_a_reviewed_head_only_the_commits_since_are_reviewed(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    first = gh.store.repos[REPO].pulls[7].head_sha
    reviewed(gw, first)
    second = gh.push(REPO, 7, {"lib.py": "x = 2\n", "unrelated.py": "y = 1\n"})  # e.g. merged from the base
    before = gw.calls
    inc = find_increment(gw, REPO, first, second, model=MODEL, prompts=current_prompts(), pr_paths=PR_PATHS)
    assert gw.calls - before == 2  # our runs on the previous head, then one compare
    assert inc.since == first and not inc.why_full
    assert parse_diff(inc.diff).paths == ["lib.py"]  # not the file the pull request does not change
    assert [f.id for f in inc.previous] == [earlier().id]


def test_a_rerun_of_the_reviewed_head_reuses_it_without_comparing(gh: FakeGitHub) -> None:
    gw = make_gateway(gh)
    first = gh.store.repos[REPO].pulls[7].head_sha
    reviewed(gw, first)
    reviewed(gw, first, finish=False)  # the re-run's own run, in progress: not what we build on
    inc = find_increment(gw, REPO, first, first, model=MODEL, prompts=current_prompts(), pr_paths=PR_PATHS)
    assert inc.since == first and inc.diff == "" and len(inc.previous) == 1
    assert not [c for c in gh.calls if "/compare/" in c.path]


@pytest.mark.parametrize("case, why", [
    ("never reviewed", "has no completed review of ours"),
    ("still running", "has no completed review of ours"),
    ("static only", "did not finish with the specialist"),
    ("other model", "the model changed (claude-opus-4-1 -> claude-sonnet-4-6)"),
    ("force push", "the push rewrote history"),
    ("patch missing", "did not show every file changed since"),
])
def test_a_full_review_when_the_previous_one_cannot_be_built_upon(gh: FakeGitHub, case: str, why: str) -> None:
    gw = make_gateway(gh)
    pr = gh.store.repos[REPO].pulls[7]
    first = pr.head_sha
    if case != "never reviewed":
        reviewed(gw, first, finish=case != "still running", memory=case != "static only",
                 model="claude-opus-4-1" if case == "other model" else MODEL)
    second = gh.push(REPO, 7, {"lib.py": "x = 2\n"}, onto=pr.base_sha if case == "force push" else None)
    if case == "patch missing":
        gh.compare_no_patch.add("lib.py")
    inc = find_increment(gw, REPO, first, second, model=MODEL, prompts=current_prompts(), pr_paths=PR_PATHS)
    assert inc.since is None and inc.previous == [] and why in inc.why_full


def test_only_files_keeps_the_sections_of_the_named_paths() -> None:
    diff = ("diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x\n+y\n"
            "diff --git a/old.py b/new.py\nrename from old.py\nrename to new.py\n"
            "diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1 +1 @@\n-x\n+z\n")
    assert parse_diff(only_files(diff, {"a.py", "new.py"})).paths == ["a.py", "new.py"]
    assert only_files(diff, set()) == ""
