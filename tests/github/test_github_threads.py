"""Resolving the threads of fixed findings, against the fake GitHub's GraphQL: which threads are ours, which
are closed, the replies, the partial answers of a batched mutation, the bounds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.core.diff import parse_diff
from bot.core.model import Category, Finding, Review, Severity
from bot.github import threads
from bot.github.client import GitHubGateway
from bot.github.publish import post_review
from bot.github.threads import RESOLVED_MARKER, close_fixed_threads, our_thread
from bot.render.comment import marker
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway

REPO = "acme/shop"
NEW = "".join(f"row_{i} = load({i})\n" for i in range(1, 21))


def finding(n: int) -> Finding:
    return Finding(id=f"SR-{n:010x}", category=Category.n_plus_one, severity=Severity.high, path="new.py",
                   start_line=n, end_line=n, title=f"Query in a loop #{n}", evidence="seen", risk="grows",
                   rollback="revert", monitoring="db qps", source="test-rule")


@pytest.fixture()
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO, {"README.md": "hi\n"})
        fake.add_pull(REPO, 7, {"new.py": (None, NEW)})
        yield fake


@pytest.fixture()
def gw(gh: FakeGitHub) -> GitHubGateway:
    return make_gateway(gh)


def posted(gh: FakeGitHub, gw: GitHubGateway, *ns: int) -> dict[str, int]:
    """Post our review with findings `ns` inline; finding id -> the comment opening its thread."""
    pr = gh.store.repos[REPO].pulls[7]
    post_review(gw, REPO, 7, pr.head_sha, Review(findings=[finding(n) for n in ns]), parse_diff(gh.pull_diff(REPO, 7)))
    return {f"SR-{n:010x}": c["id"] for n in ns for c in gh.review_comments(REPO, 7)
            if marker(f"SR-{n:010x}") in c["body"]}


def test_only_the_fixed_findings_threads_are_resolved_each_with_a_reply_naming_the_commit(gh, gw) -> None:
    roots = posted(gh, gw, 1, 2, 3)
    gh.reset_calls()
    before = gw.calls
    result = close_fixed_threads(gw, REPO, 7, "f" * 40, ["SR-0000000001", "SR-0000000003", "SR-00000000ff"])
    assert result.resolved == ["SR-0000000001", "SR-0000000003"] and not result.refused
    for fid, root in roots.items():
        resolved, bodies = gh.thread_state(root)
        assert resolved == (fid != "SR-0000000002")
        if resolved:
            assert "Fixed in ffffffffffff" in bodies[-1] and RESOLVED_MARKER.format(id=fid) in bodies[-1]
    # the threads query, one resolve batch, one reply batch
    assert gh.count("POST", r"/graphql$") == len(gh.calls) == 3 == gw.calls - before
    again = close_fixed_threads(gw, REPO, 7, "e" * 40, ["SR-0000000001"])  # already resolved: nothing to do
    assert again.resolved == [] and gh.count("POST", r"/graphql$") == 4
    assert len(gh.thread_state(roots["SR-0000000001"])[1]) == 2


def test_nothing_fixed_costs_no_call(gh, gw) -> None:
    assert close_fixed_threads(gw, REPO, 7, "f" * 40, []) == threads.ThreadsResult()
    assert gh.calls == []


def test_a_thread_reopened_after_our_resolution_is_left_alone_but_a_copied_marker_fools_nobody(gh, gw) -> None:
    roots = posted(gh, gw, 1, 2)
    close_fixed_threads(gw, REPO, 7, "f" * 40, ["SR-0000000001"])
    gh.set_thread_resolved(roots["SR-0000000001"], False)
    # someone pastes our resolution marker into the other thread: it is not our reply, so not our resolution
    gh.add_thread_reply(roots["SR-0000000002"], "nope " + RESOLVED_MARKER.format(id="SR-0000000002"))
    result = close_fixed_threads(gw, REPO, 7, "e" * 40, ["SR-0000000001", "SR-0000000002"])
    assert result.reopened == ["SR-0000000001"] and result.resolved == ["SR-0000000002"]
    assert gh.thread_state(roots["SR-0000000001"])[0] is False


def test_threads_not_opened_by_our_app_are_never_touched(gh, gw) -> None:
    roots = posted(gh, gw, 1)
    with gh.lock:  # another author's thread carrying a copy of our finding marker
        gh.store.review_comments[roots["SR-0000000001"]]["user"] = {"login": "mallory", "type": "User"}
    result = close_fixed_threads(gw, REPO, 7, "f" * 40, ["SR-0000000001"])
    assert result == threads.ThreadsResult() and gh.thread_state(roots["SR-0000000001"])[0] is False
    node: dict[str, Any] = {"id": "T", "isResolved": False,
                            "opening": {"nodes": [{"body": marker("SR-1") + marker("SR-2"), "viewerDidAuthor": True}]}}
    assert our_thread(node) is None  # two markers: not one finding's thread


def test_a_batch_answered_in_part_resolves_and_replies_only_where_github_did(gh, gw, monkeypatch) -> None:
    roots = posted(gh, gw, 1, 2)
    listed = threads.list_threads(gw, REPO, 7)
    gone = next(t for t in listed if t.finding_id == "SR-0000000002")
    with gh.lock:  # deleted between the query and the mutation: GitHub answers NOT_FOUND under that alias
        gh.store.review_comments.pop(roots["SR-0000000002"])
    monkeypatch.setattr(threads, "list_threads", lambda *_: listed)
    result = close_fixed_threads(gw, REPO, 7, "f" * 40, ["SR-0000000001", "SR-0000000002"])
    assert result.resolved == ["SR-0000000001"] and result.refused == [gone.finding_id]
    assert "Could not resolve to a node" in result.reason
    assert len(gh.thread_state(roots["SR-0000000001"])[1]) == 2


def test_at_most_max_resolve_per_push_the_rest_deferred(gh, gw, monkeypatch) -> None:
    posted(gh, gw, 1, 2, 3)
    monkeypatch.setattr(threads, "MAX_RESOLVE", 2)
    result = close_fixed_threads(gw, REPO, 7, "f" * 40, ["SR-0000000001", "SR-0000000002", "SR-0000000003"])
    assert len(result.resolved) == 2 and len(result.deferred) == 1


def test_threads_are_read_page_by_page(gh, gw, monkeypatch) -> None:
    roots = posted(gh, gw, *range(1, 8))
    monkeypatch.setattr(threads, "THREADS_PER_PAGE", 3)
    gh.reset_calls()
    assert len(threads.list_threads(gw, REPO, 7)) == len(roots) == 7
    assert gh.count("POST", r"/graphql$") == 3
