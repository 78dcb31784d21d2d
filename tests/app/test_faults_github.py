"""End to end under GitHub and model faults: signed webhook POST -> durable review -> what GitHub received.

Every case ends the same way: the delivery's workflow succeeded (nothing lost), exactly one review
and one completed check run for the head sha, no finding marker posted twice.
"""

from __future__ import annotations

from typing import Any

import pytest
from dbos import DBOS

from tests.support import webhooks as wh
from tests.support.fakemodel import Fail, FakeModel, Reply, tool
from tests.support.faults_harness import (
    Hooks,
    assert_reviewed_once,
    diff_media,
    fault_app,
    graphql_config,
    graphql_files,
    json_media,
)
from tests.support.service import app_settings, deliver, receiver, wait_result

CALLS = {  # each kind of call a review makes: (method, path regex, which requests of that route)
    "pr-read": ("GET", r"/pulls/7$", json_media),
    "diff": ("GET", r"/pulls/7$", diff_media),
    "file-reads-graphql": ("POST", r"/graphql$", graphql_files),
    "config-graphql": ("POST", r"/graphql$", graphql_config),
    "check-run-lookup": ("GET", r"/commits/[0-9a-f]+/check-runs$", None),
    "check-run-create": ("POST", r"/check-runs$", None),
    "existing-comments": ("GET", r"/issues/7/comments$", None),
    "existing-reviews": ("GET", r"/pulls/7/reviews$", None),
    "review-post": ("POST", r"/pulls/7/reviews$", None),
    "check-run-read": ("GET", r"/check-runs/\d+$", None),
    "check-run-update": ("PATCH", r"/check-runs/\d+$", None),
}
WRITES = ["check-run-create", "review-post", "check-run-update"]


def head(gh: Any) -> str:
    return str(gh.store.repos[wh.REPO].pulls[7].head_sha)


def inject(gh: Any, kind: str, **fault: Any) -> Hooks:
    method, path, when = CALLS[kind]
    hooks = Hooks(gh)
    if when is None:
        gh.fail(method, path, **fault)
    else:
        times = fault.pop("times", 1)
        hooks.fault_on(method, path, when, times=times, **fault)
    return hooks


def review_through_webhook(gh: Any, url: str, delivery: str, *, timeout: float = 1.0,
                           model_client: Any = None) -> dict[str, Any]:
    settings = app_settings(gh, url)
    with fault_app(settings, timeout=timeout, model_client=model_client) as enq, receiver(settings, enq) as client:
        r = deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery=delivery)
        assert r.status_code == 202 and r.json()["status"] == "accepted", r.text
        result = wait_result(delivery, timeout=90)
        status = DBOS.retrieve_workflow(delivery).get_status().status
    assert status == "SUCCESS", (status, result)
    return result


def assert_complete_review(gh: Any, result: dict[str, Any], hooks: Hooks) -> None:
    assert not gh.faults and not hooks.hooks, "the injected fault was never reached"
    assert result["outcome"] == "failure", result  # the query in a loop still gates the merge
    assert_reviewed_once(gh, 7, [head(gh)])
    [run] = gh.check_runs(wh.REPO)
    assert run["conclusion"] == "failure" and "high" in run["output"]["title"]
    assert set(result["findings"]) <= {i for c in gh.review_comments(wh.REPO, 7) for i in _markers(c)}


def _markers(comment: dict[str, Any]) -> set[str]:
    from bot.render.comment import find_markers

    return find_markers(comment["body"])


@pytest.mark.parametrize("kind", list(CALLS))
def test_502s_on_each_kind_of_call(fake_github, sqlite_backend, kind):
    hooks = inject(fake_github, kind, status=502, times=2)
    result = review_through_webhook(fake_github, sqlite_backend.url, f"f502-{kind}")
    assert_complete_review(fake_github, result, hooks)


@pytest.mark.parametrize("kind", list(CALLS))
def test_a_timeout_on_each_kind_of_call(fake_github, sqlite_backend, kind):
    # the answer comes 1.3 s late; the client gives up after 1 s (a write still lands, late)
    hooks = inject(fake_github, kind, status=None, delay=1.3, times=1)
    result = review_through_webhook(fake_github, sqlite_backend.url, f"fslow-{kind}", timeout=1.0)
    assert_complete_review(fake_github, result, hooks)


@pytest.mark.parametrize("kind", WRITES)
def test_a_write_whose_answer_is_lost_is_not_repeated(fake_github, sqlite_backend, kind):
    hooks = inject(fake_github, kind, status=502, apply=True, times=1)  # GitHub did it, the answer was a 502
    result = review_through_webhook(fake_github, sqlite_backend.url, f"flost-{kind}")
    assert_complete_review(fake_github, result, hooks)


@pytest.mark.parametrize("kind", ["pr-read", "file-reads-graphql", "check-run-create", "review-post"])
def test_secondary_rate_limit_is_waited_out(fake_github, sqlite_backend, kind):
    gh = fake_github
    method, path, when = CALLS[kind]
    hooks = Hooks(gh)
    if when is None:
        gh.secondary_rate_limit(method, path, retry_after=1, times=1)
    else:
        hooks.on(method, path, lambda: gh.secondary_rate_limit(method, path, retry_after=1), when=when)
    result = review_through_webhook(gh, sqlite_backend.url, f"flimit-{kind}")
    limited = [c for c in gh.calls if c.status == 403]
    assert len(limited) == 1 and limited[0].method == method
    assert_complete_review(gh, result, hooks)


def test_an_installation_token_expiring_mid_review_is_replaced(fake_github, sqlite_backend):
    gh = fake_github
    hooks = Hooks(gh)
    hooks.on("POST", r"/check-runs$", gh.expire_tokens, after=True)  # every token dies once the run exists
    result = review_through_webhook(gh, sqlite_backend.url, "ftoken")
    assert_complete_review(gh, result, hooks)
    assert gh.count("POST", r"/access_tokens$") == 2  # one new token, not one per call
    assert [c.status for c in gh.calls].count(401) == 1


def specialist_finding() -> dict[str, Any]:
    return {"category": "quadratic_loop", "severity": "medium", "path": "app/orders.py", "start_line": 6,
            "end_line": 7, "title": "One query per id", "evidence": "app/orders.py loops over ids",
            "risk": "ids grow with the order size: one round trip each", "rollback": "revert",
            "monitoring": "queries per request"}


def test_model_overloaded_for_a_while_then_the_specialist_finishes(fake_github, sqlite_backend):
    gh = fake_github
    # five 529s: the SDK's own retry (max_retries=1) and the product's attempts both see failures
    model = FakeModel([Fail(529, times=5), Reply([tool("report_finding", **specialist_finding())]),
                       Reply([tool("finish_review", summary="A loop of queries.")])])
    result = review_through_webhook(gh, sqlite_backend.url, "fmodel", model_client=model.client(max_retries=1))
    assert_complete_review(gh, result, Hooks(gh))
    assert model.calls == 7  # five 529s, then the two scripted turns
    [run] = gh.check_runs(wh.REPO)
    assert "model unavailable" not in run["output"]["summary"]
    assert any("One query per id" in c["body"] for c in gh.review_comments(wh.REPO, 7))
