"""The specialist inside the durable review: one step per model turn, findings validated and posted."""

from __future__ import annotations

from dbos import DBOS

from tests.support import webhooks as wh
from tests.support.fakemodel import Fail, FakeModel, Reply, tool
from tests.support.service import app_settings, review_job, running_app, wait_result

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
    summary = run["output"]["summary"]
    assert "Static analysis only" not in summary
    # what the model cost and which prompts it ran on are in the check summary
    assert "| Prompt version | scalability-architect.system@" in summary
    assert "| Model cost (USD) | $" in summary and "| Model | claude-sonnet-4-6 |" in summary
    assert f"| Model turns | {model.calls} |" in summary


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


def _progress_summaries(gh) -> list[str]:
    return [c.json["output"]["summary"] for c in gh.calls
            if c.method == "PATCH" and "/check-runs/" in c.path and (c.json or {}).get("status") == "in_progress"]


def test_the_specialists_plan_is_shown_live_in_the_in_progress_check_run(fake_github, sqlite_backend):
    gh = fake_github
    plan = [{"step": "read app/orders.py", "status": "in_progress"},
            {"step": "ping @octo-org/admins about #12 <img src=x>", "status": "pending"}]
    model = FakeModel([
        Reply([tool("update_plan", steps=plan), tool("read_file", path="app/orders.py")]),
        Reply([tool("read_file", path="README.md")]),  # the plan did not change: nothing sent
        Reply([tool("update_plan", steps=[{**plan[0], "status": "done"}, plan[1]]),
               tool("report_finding", **specialist_finding())]),
        Reply([tool("finish_review", summary="A loop of queries.")]),
    ])
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client()) as enq:
        enq.enqueue_now(review_job("plan-1", head))
        result = wait_result("plan-1")
    live = _progress_summaries(gh)
    assert len(live) == 2  # once per change of plan, not once per turn
    assert "turn 1 of at most 12" in live[0] and "- [ ] **read app/orders.py** (now)" in live[0]
    assert "- [x] read app/orders.py" in live[1] and "turn 3" in live[1]
    assert "@octo-org" not in live[0] and "<img" not in live[0] and "#12" not in live[0]  # model text neutralised
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed" and result["outcome"] == "failure"


def test_a_plan_github_refuses_to_show_does_not_stop_the_review(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel([
        Reply([tool("update_plan", steps=[{"step": "read the loop"}]), tool("read_file", path="app/orders.py")]),
        Reply([tool("report_finding", **specialist_finding()), tool("finish_review", summary="done")]),
    ])
    gh.fail("PATCH", r"/check-runs/\d+$", 422, times=1)  # the first PATCH is the live plan's
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(app_settings(gh, sqlite_backend.url), model_client=model.client()) as enq:
        enq.enqueue_now(review_job("plan-refused", head))
        result = wait_result("plan-refused")
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed" and result["outcome"] == "failure" and model.calls == 2
