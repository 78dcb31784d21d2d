"""The specialist inside the durable review: one step per model turn, findings validated and posted."""

from __future__ import annotations

from dbos import DBOS

from tests import webhooks as wh
from tests.fakemodel import Fail, FakeModel, Reply, tool
from tests.service import app_settings, review_job, running_app, wait_result

LOOP_LINE = 6  # `for i in ids:` in app/orders.py (tests/conftest.py)


def specialist_finding() -> dict:
    return {"category": "quadratic_loop", "severity": "medium", "path": "app/orders.py", "start_line": LOOP_LINE,
            "end_line": LOOP_LINE + 1, "title": "One query per id", "evidence": "app/orders.py loops over ids",
            "risk": "ids grow with the order size: one round trip each", "rollback": "revert",
            "monitoring": "queries per request"}


def test_each_model_turn_is_one_checkpointed_step_and_its_finding_is_posted(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel([
        Reply([tool("read_file", path="app/orders.py", start_line=1, end_line=12)]),
        Reply([tool("report_finding", **specialist_finding())]),
        Reply([tool("finish_review", summary="A loop of queries.")]),
    ])
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client()) as enq:
        enq.enqueue_now(review_job("spec-1", head))
        result = wait_result("spec-1")
        child = DBOS.list_workflows(parent_workflow_id="spec-1")[0].workflow_id
        steps = [s["function_name"] for s in DBOS.list_workflow_steps(child)]
    assert model.calls == 3
    assert sum(name.endswith("specialist_turn") for name in steps) == 3
    bodies = [c["body"] for c in gh.review_comments(wh.REPO, 7)]
    assert any("One query per id" in b and "specialist" in b for b in bodies)
    assert result["outcome"] == "failure"
    [run] = gh.check_runs(wh.REPO)
    assert "Static analysis only" not in run["output"]["summary"]


def test_model_overloaded_gives_a_static_review_that_says_so(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel([Fail(529, times=20)])
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client(max_retries=0)) as enq:
        enq.enqueue_now(review_job("spec-down", head))
        result = wait_result("spec-down", timeout=120)
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed"
    assert result["outcome"] in ("failure", "neutral")  # the static high finding still gates
    assert "model unavailable" in run["output"]["summary"]


def test_without_a_model_the_review_is_static_and_says_so(fake_github, sqlite_backend):
    gh = fake_github
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url)) as enq:
        enq.enqueue_now(review_job("static-1", head))
        wait_result("static-1")
    assert "Static analysis only" in gh.check_runs(wh.REPO)[0]["output"]["summary"]
