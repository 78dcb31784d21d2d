"""Fixed findings close their threads, from signed `pull_request` POSTs to what GitHub (the fake) received.

The pull request (tests/conftest.py) has two findings in app/orders.py: a raw `SELECT *` (low) and an HTTP
call without a timeout (high). A push that adds the timeout fixes one: its thread is resolved with a reply
naming the commit; the other's thread stays open and is not posted again. A thread a person re-opened is
left open, and GitHub refusing the mutation leaves the review as it was, with the refusal in the summary.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.github.threads import NOT_ALLOWED as THREADS_NOT_ALLOWED
from bot.github.threads import RESOLVED_MARKER
from bot.render.comment import find_markers
from tests.conftest import ORDERS_HEAD
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

FIXED = ORDERS_HEAD.replace("requests.get(url).json()", "requests.get(url, timeout=5).json()")
REFUSAL = "Resource not accessible by integration"


def head(gh: Any) -> str:
    return str(gh.store.repos[wh.REPO].pulls[7].head_sha)


def push(client: Any, gh: Any, files: dict[str, str], delivery: str) -> tuple[str, dict[str, Any]]:
    before = head(gh)
    after = gh.push(wh.REPO, 7, files)
    deliver(client, "pull_request", wh.pull_request("synchronize", head=after, before=before), delivery=delivery)
    return after, wait_result(delivery)


def threads_by_finding(gh: Any) -> dict[str, int]:
    """finding id -> the id of the inline comment opening its thread."""
    return {next(iter(find_markers(c["body"]))): c["id"] for c in gh.review_comments(wh.REPO, 7)
            if not c["in_reply_to_id"] and find_markers(c["body"])}


def graphql_calls(gh: Any) -> list[str]:
    """Each GraphQL request since the last reset: `query:<first field under pullRequest or repository>` or
    `mutation:<its first field>`."""
    from graphql import FieldNode, OperationDefinitionNode, parse

    out = []
    for c in gh.calls_to("POST", r"/graphql$"):
        [op] = [d for d in parse(c.json["query"]).definitions if isinstance(d, OperationDefinitionNode)]
        node: Any = op.selection_set.selections[0]
        while op.operation.value == "query" and node.name.value in ("repository", "pullRequest"):
            node = node.selection_set.selections[0]
        assert isinstance(node, FieldNode)
        out.append(f"{op.operation.value}:{node.name.value}")
    return out


def summary_of(gh: Any, sha: str) -> str:
    [run] = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == sha]
    return str(run["output"]["summary"])


def open_and_fix(gh: Any, client: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery="th-open")
    first = wait_result("th-open")
    gh.reset_calls()
    fixed_sha, second = push(client, gh, {"app/orders.py": FIXED}, "th-fix")
    return first, fixed_sha, second


def test_a_push_that_fixes_a_finding_resolves_its_thread_and_names_the_commit(fake_github, sqlite_backend):
    gh = fake_github
    with running_app(app_settings(gh, sqlite_backend.url)) as enq, receiver(app_settings(gh, sqlite_backend.url),
                                                                           enq) as client:
        first, fixed_sha, second = open_and_fix(gh, client)
    threads = threads_by_finding(gh)
    [gone] = second["outdated"]
    [kept] = [i for i in first["findings"] if i != gone]
    assert set(threads) == set(first["findings"]) == {gone, kept}
    assert "without a timeout" in gh.thread_state(threads[gone])[1][0] and second["findings"] == [kept]

    resolved, bodies = gh.thread_state(threads[gone])
    assert resolved and len(bodies) == 2
    assert fixed_sha[:12] in bodies[1] and RESOLVED_MARKER.format(id=gone) in bodies[1]
    assert not find_markers(bodies[1])  # the reply is no finding: never read back as one
    still_open, kept_bodies = gh.thread_state(threads[kept])
    assert not still_open and len(kept_bodies) == 1  # the finding that stands: open, no reply
    assert len(gh.reviews(wh.REPO, 7)) == 1  # and not posted again
    assert second["threads"]["resolved"] == [gone] and (first["outcome"], second["outcome"]) == ("failure", "success")
    assert f"`{fixed_sha[:12]}`: {gone}" in summary_of(gh, fixed_sha)
    # one query for the threads, one mutation resolving, one replying: three calls for the push
    assert graphql_calls(gh)[-3:] == ["query:reviewThreads", "mutation:resolveReviewThread",
                                      "mutation:addPullRequestReviewThreadReply"]
    assert second["calls"] == len(gh.calls)
    # the reply is GitHub's GraphQL reply in the thread, authored by our App
    [reply] = [c for c in gh.review_comments(wh.REPO, 7) if c["in_reply_to_id"] == threads[gone]]
    assert reply["user"]["login"] == gh.bot_login


def test_a_thread_a_person_reopened_stays_open_and_gets_no_second_reply(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        _, _, second = open_and_fix(gh, client)
        [gone] = second["outdated"]
        root = threads_by_finding(gh)[gone]
        gh.set_thread_resolved(root, False, by="octocat")  # "not fixed for me"
        gh.add_thread_reply(root, "Still breaks on the batch path, re-opening.", user="octocat")
        later_sha, third = push(client, gh, {"README.md": "hello again\n"}, "th-later")
    resolved, bodies = gh.thread_state(root)
    assert not resolved and len(bodies) == 3  # ours, our resolution reply, the person's: nothing new
    assert third["threads"]["reopened"] == [gone] and third["threads"]["resolved"] == []
    assert gone in summary_of(gh, later_sha) and "re-opened" in summary_of(gh, later_sha)
    assert gh.count("POST", r"/graphql$") and not [c for c in gh.calls_to("POST", r"/graphql$")
                                                   if c.headers.get("x-github-delivery") == "th-later"
                                                   and "mutation" in c.json["query"]]


@pytest.mark.parametrize("shown", [False, True], ids=["mutation-refused", "viewer-cannot-resolve"])
def test_github_refusing_to_resolve_does_not_fail_the_review_and_is_noted(fake_github, sqlite_backend, shown):
    """Refused by the mutation (FORBIDDEN under its alias), or known from the query (`viewerCanResolve`:
    no mutation is sent at all)."""
    gh = fake_github
    gh.graphql_refuse = {"resolveReviewThread": REFUSAL}
    gh.refusal_shown_on_threads = shown
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first, fixed_sha, second = open_and_fix(gh, client)
    [gone] = second["outdated"]
    resolved, bodies = gh.thread_state(threads_by_finding(gh)[gone])
    assert not resolved and len(bodies) == 1  # no reply claiming a resolution that did not happen
    assert (first["outcome"], second["outcome"]) == ("failure", "success")  # the gate is what the findings say
    reason = THREADS_NOT_ALLOWED if shown else REFUSAL
    assert second["threads"]["refused"] == [gone] and reason in second["threads"]["reason"]
    summary = summary_of(gh, fixed_sha)
    assert "GitHub refused to resolve" in summary and reason in summary
    mutations = [c for c in gh.calls_to("POST", r"/graphql$") if c.json["query"].startswith("mutation")]
    assert len(mutations) == (0 if shown else 1)  # and never the reply
    [run] = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == fixed_sha]
    assert run["status"] == "completed" and run["conclusion"] == "success"


def test_a_push_that_fixes_nothing_asks_github_nothing_about_threads(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery="th-open2")
        wait_result("th-open2")
        gh.reset_calls()
        _, second = push(client, gh, {"README.md": "hello again\n"}, "th-readme")
    assert second["outdated"] == [] and second["threads"]["resolved"] == []
    assert not any("reviewThreads" in json.dumps(c.json) for c in gh.calls_to("POST", r"/graphql$"))


def test_the_threads_query_failing_leaves_the_review_whole_and_says_so(fake_github, sqlite_backend):
    from tests.support.faults_harness import Hooks

    gh = fake_github
    broken = {"errors": [{"message": "Something went wrong while executing your query."}]}
    Hooks(gh).fault_on("POST", r"/graphql$", lambda _h, body: b"reviewThreads" in body, status=200, body=broken)
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first, fixed_sha, second = open_and_fix(gh, client)
    [gone] = second["outdated"]
    assert (first["outcome"], second["outcome"]) == ("failure", "success")
    assert gh.thread_state(threads_by_finding(gh)[gone])[0] is False
    assert "could not be resolved: GitHub answered 400" in summary_of(gh, fixed_sha)
