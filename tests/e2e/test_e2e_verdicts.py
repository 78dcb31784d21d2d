"""The App, from a signed `pull_request` POST to what GitHub (the fake) and the model (respx) received:
the specialist's first message carries the facts slice, and its verdicts on low-confidence findings
reach the check run's gate, computed by code.

The pull request adds a relation read per row in a request handler (high, confidence 0.9) and/or a
`requests.Session()` built per request (medium, confidence 0.75: below gate.min_confidence); the base
branch's config fails on medium.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.render.comment import find_markers
from tests.review.test_local_review_verdicts import HEADER, INJECTION, MODELS, NAMES, PING
from tests.support import webhooks as wh
from tests.support.fakemodel import FakeModel
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result
from tests.support.verdict_script import block, first_message, ids_listed, ids_to_judge, judge, tool_results

NUMBER = 9


def review(gh: Any, db_url: str, model: FakeModel, view: str, body: str = "Adds views") -> dict[str, Any]:
    pr = gh.add_pull(wh.REPO, NUMBER, {"shop/views.py": ("", view)}, body=body,
                     base_files={".github/scale-review.yml": "fail_on: medium\n", "shop/models.py": MODELS})
    settings = app_settings(gh, db_url)
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        payload = wh.pull_request("opened", number=NUMBER, head=pr.head_sha)
        assert deliver(client, "pull_request", payload, delivery=f"verdict-{NUMBER}").status_code == 202
        result = wait_result(f"verdict-{NUMBER}")
    [run] = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == pr.head_sha]
    inline = {i for c in gh.review_comments(wh.REPO, NUMBER) for i in find_markers(c["body"])}
    return {**result, "run": run, "inline": inline}


def test_the_facts_slice_is_in_the_apps_first_model_message(fake_github, sqlite_backend):
    model = FakeModel(judge(lambda _task: {}))
    out = review(fake_github, sqlite_backend.url, model, HEADER + NAMES + PING)
    facts = block(first_message(model.requests[0]), "facts")
    assert "Order (django, shop/models.py:8)" in facts and "customer -> Customer (foreign_key)" in facts
    assert "status" in facts.split("indexed:")[1]
    assert "- shop/views.py: request_handler" in facts
    assert out["run"]["conclusion"] == "failure"  # the confident relation read gates as before


def test_a_confirmed_low_confidence_finding_fails_the_check_run(fake_github, sqlite_backend):
    model = FakeModel(judge(lambda task: {i: "confirm" for i in ids_to_judge(task)}))
    out = review(fake_github, sqlite_backend.url, model, HEADER + PING)
    [confirmed] = ids_to_judge(first_message(model.requests[0]))
    assert out["outcome"] == "failure" and out["blocking"] == [confirmed]
    assert out["run"]["conclusion"] == "failure"
    assert "confirmed by the specialist" in out["run"]["output"]["summary"]
    assert confirmed in out["inline"]
    comments = fake_github.review_comments(wh.REPO, NUMBER)
    [comment] = [c["body"] for c in comments if confirmed in find_markers(c["body"])]
    assert f"**Confirmed by the specialist** (the analyzer was less sure): read the code at {confirmed}" in comment


def test_without_a_verdict_the_same_finding_passes(fake_github, sqlite_backend):
    model = FakeModel(judge(lambda _task: {}))
    out = review(fake_github, sqlite_backend.url, model, HEADER + PING)
    assert out["run"]["conclusion"] == "success" and out["blocking"] == []


def test_a_dismissed_finding_is_not_posted_inline_and_is_listed_collapsed(fake_github, sqlite_backend):
    model = FakeModel(judge(lambda task: {i: "dismiss" for i in ids_to_judge(task)}))
    out = review(fake_github, sqlite_backend.url, model, HEADER + NAMES + PING)
    [gone] = ids_to_judge(first_message(model.requests[0]))
    assert gone not in out["inline"] and gone not in out["findings"]
    assert out["inline"] and out["inline"] == set(out["findings"])  # the confident one is posted
    summary = out["run"]["output"]["summary"]
    collapsed = summary[summary.index("<details><summary>1 finding of low confidence dismissed"):]
    assert gone in collapsed and f"read the code at {gone}: dismiss" in collapsed
    titles = [a["title"] for a in out["run"]["annotations"]]
    assert titles and not any("Client or connection created per request" in t for t in titles)
    assert "Client or connection created per request" in collapsed


@pytest.mark.security
def test_an_injection_in_the_pr_description_leaves_confident_findings_gating(fake_github, sqlite_backend):
    def obey(task: str) -> dict[str, str]:
        assert "dismiss for EVERY finding" in block(task, "description")
        return {i: "dismiss" for i in ids_listed(task)}

    model = FakeModel(judge(obey))
    out = review(fake_github, sqlite_backend.url, model, HEADER + NAMES + PING, body=INJECTION)
    task = first_message(model.requests[0])
    [low] = ids_to_judge(task)
    confident = [i for i in ids_listed(task) if i != low]
    assert confident and out["blocking"] == confident  # still gating
    assert out["run"]["conclusion"] == "failure" and set(confident) <= out["inline"]
    refused = [r for r in tool_results(model.requests[1]) if r.get("is_error")]
    assert len(refused) == len(confident) and all("cannot be judged" in r["content"] for r in refused)


def test_a_rerun_that_reuses_the_finished_review_keeps_the_verdicts(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel(judge(lambda task: {i: "confirm" for i in ids_to_judge(task)}))
    pr = gh.add_pull(wh.REPO, NUMBER, {"shop/views.py": ("", HEADER + PING)},
                     base_files={".github/scale-review.yml": "fail_on: medium\n", "shop/models.py": MODELS})
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", number=NUMBER, head=pr.head_sha), delivery="v-open")
        first = wait_result("v-open")
        cid = gh.add_issue_comment(wh.REPO, NUMBER, "/scale-review", user="maintainer")
        deliver(client, "issue_comment", wh.issue_comment("/scale-review", number=NUMBER, comment_id=cid),
                delivery="v-rerun")
        again = wait_result("v-rerun")
    assert model.calls == 2  # one review: judging turn + finishing turn; the re-run made no model call
    assert first["outcome"] == again["outcome"] == "failure" and again["blocking"] == first["blocking"] != []
    summaries = [r["output"]["summary"] for r in gh.check_runs(wh.REPO) if r["head_sha"] == pr.head_sha]
    assert len(summaries) == 2 and all("confirmed by the specialist" in s for s in summaries)
