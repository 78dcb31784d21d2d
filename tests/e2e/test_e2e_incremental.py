"""Incremental reviews, from signed webhook POSTs to what GitHub (the fake) and the model (respx) received.

A pushed commit is reviewed by the specialist alone when our check run on the head before the push
remembers a finished specialist review; earlier findings on lines the push did not change still count
in the gate and are never posted twice. Anything that makes the memory unusable means a full review
that says why.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.github.checks import FAILED_TITLE, SUPERSEDED_TITLE, review_stands
from bot.render.comment import find_markers
from bot.specialist.memory import decode
from tests.support import webhooks as wh
from tests.support.fakemodel import Fail, FakeModel, Reply, tool
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

LOOP = "+    for i in ids:"  # the changed line the scripted specialist reports on (app/orders.py:6)
REPORT_PY = "def report(rows):\n    return len(rows)\n"


def specialist(body: dict[str, Any]) -> Reply:
    """One turn per review: a finding when the diff it was sent shows the loop, then finish."""
    task = body["messages"][0]["content"][0]["text"]
    calls = []
    if LOOP in task:
        calls.append(tool("report_finding", category="quadratic_loop", severity="high", path="app/orders.py",
                          start_line=6, end_line=7, title="One query per id", evidence="app/orders.py:6-7",
                          risk="one round trip per id", rollback="revert", monitoring="queries per request"))
    return Reply([*calls, tool("finish_review", summary="reviewed")])


def head(gh: Any) -> str:
    return str(gh.store.repos[wh.REPO].pulls[7].head_sha)


def run_for(gh: Any, sha: str) -> dict[str, Any]:
    [run] = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == sha]
    return dict(run)


def task_of(model: FakeModel, index: int) -> str:
    return str(model.requests[index]["messages"][0]["content"][0]["text"])


def open_pr(client: Any, gh: Any, delivery: str) -> dict[str, Any]:
    """The pull request's `opened` delivery, reviewed in full."""
    deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery=delivery)
    return wait_result(delivery)


def push(client: Any, gh: Any, files: dict[str, str], delivery: str, **wait: Any) -> tuple[str, dict[str, Any]]:
    """A push to the pull request and its `synchronize` delivery: (new head, the review's outcome)."""
    before = head(gh)
    after = gh.push(wh.REPO, 7, files)
    deliver(client, "pull_request", wh.pull_request("synchronize", head=after, before=before), delivery=delivery)
    return after, wait_result(delivery, **wait)


def command(gh: Any, body: str) -> dict[str, Any]:
    cid = gh.add_issue_comment(wh.REPO, 7, body, user="maintainer")
    return wh.issue_comment(body, login="maintainer", comment_id=cid)


def marker_count(gh: Any, finding_id: str) -> int:
    """Inline comments carrying this finding's marker."""
    return sum(finding_id in find_markers(c["body"]) for c in gh.review_comments(wh.REPO, 7))


def test_a_push_is_reviewed_incrementally_and_earlier_findings_still_gate(fake_github, backend):
    gh = fake_github
    model = FakeModel(specialist)
    settings = app_settings(gh, backend.url)
    first = head(gh)
    with running_app(settings, schema=backend.schema, model_client=model.client()) as enq, \
            receiver(settings, enq) as client:
        opened = open_pr(client, gh, "inc-open")
        second, pushed = push(client, gh, {"app/report.py": REPORT_PY}, "inc-push")
    [spec_id] = [i for c in gh.review_comments(wh.REPO, 7) if "One query per id" in c["body"]
                 for i in find_markers(c["body"])]
    assert spec_id in opened["findings"]
    memory = decode(run_for(gh, first)["output"]["text"])
    assert memory is not None and memory.head_sha == first and [f.id for f in memory.findings] == [spec_id]
    # the push: the model is sent only the new commit, and the earlier finding is listed, not re-sent
    assert model.calls == 2
    follow_up = task_of(model, 1)
    assert "since the last reviewed head" in follow_up and first in follow_up
    assert "diff --git a/app/report.py" in follow_up and "diff --git a/app/orders.py" not in follow_up
    assert LOOP not in follow_up and "One query per id" in follow_up
    # ... and the earlier finding still stands in the gate, is not posted again, and the summary says so
    assert spec_id in pushed["findings"] and spec_id in pushed["blocking"]
    assert pushed["outcome"] == "failure"
    assert marker_count(gh, spec_id) == 1 and len(gh.reviews(wh.REPO, 7)) == 1  # nothing new to post
    summary = run_for(gh, second)["output"]["summary"]
    assert "Incremental review" in summary and first[:12] in summary
    assert "1 earlier specialist finding(s) kept" in summary
    assert len(model.requests[1]["messages"][0]["content"][0]["text"]) < len(task_of(model, 0))
    # the incremental review remembers too: the next push builds on it
    assert [f.id for f in decode(run_for(gh, second)["output"]["text"]).findings] == [spec_id]  # type: ignore[union-attr]


def test_scale_review_reuses_a_finished_review_and_full_pays_for_a_new_one(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel(specialist)
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        opened = open_pr(client, gh, "re-open")
        deliver(client, "issue_comment", command(gh, "/scale-review"), delivery="re-run")
        rerun = wait_result("re-run")
        assert model.calls == 1  # the head was already reviewed: its findings are reused
        deliver(client, "issue_comment", command(gh, "/scale-review full"), delivery="re-full")
        full = wait_result("re-full")
    assert model.calls == 2 and LOOP in task_of(model, 1) and "since the last reviewed head" not in task_of(model, 1)
    assert sorted(rerun["findings"]) == sorted(opened["findings"]) == sorted(full["findings"])
    assert all(marker_count(gh, i) == 1 for i in opened["findings"])
    summaries = [r["output"]["summary"] for r in gh.check_runs(wh.REPO)]
    assert any("already finished reviewing" in s for s in summaries)


def test_history_rewritten_by_a_force_push_gets_a_full_review_that_says_why(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel(specialist)
    settings = app_settings(gh, sqlite_backend.url)
    first = head(gh)
    base = gh.store.repos[wh.REPO].pulls[7].base_sha
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        open_pr(client, gh, "fp-open")
        rewritten = gh.push(wh.REPO, 7, {"app/report.py": REPORT_PY}, onto=base)
        payload = wh.pull_request("synchronize", head=rewritten, before=first)
        deliver(client, "pull_request", payload, delivery="fp-push")
        wait_result("fp-push")
    assert model.calls == 2 and LOOP in task_of(model, 1)  # the whole change again
    summary = run_for(gh, rewritten)["output"]["summary"]
    assert "Full review: the push rewrote history" in summary and "diverged" in summary


def test_a_push_after_a_review_the_model_could_not_finish_is_reviewed_in_full(fake_github, sqlite_backend):
    gh = fake_github
    down = {"now": True}
    model = FakeModel(lambda body: Fail(529) if down["now"] else specialist(body))
    settings = app_settings(gh, sqlite_backend.url)
    first = head(gh)
    with running_app(settings, model_client=model.client(max_retries=0)) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=first), delivery="down-open")
        wait_result("down-open", timeout=120)
        assert decode(run_for(gh, first)["output"].get("text")) is None  # nothing to build on
        down["now"] = False  # the model is back
        second, pushed = push(client, gh, {"app/report.py": REPORT_PY}, "down-push")
    assert LOOP in task_of(model, -1) and "since the last reviewed head" not in task_of(model, -1)
    assert "did not finish with the specialist" in run_for(gh, second)["output"]["summary"]
    assert pushed["outcome"] == "failure"


def test_when_github_cannot_give_the_previous_review_the_push_gets_a_full_one(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel(specialist)
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        open_pr(client, gh, "gone-open")
        gh.fail("GET", r"/compare/", 404, times=1)  # the old head was garbage-collected after a force push
        second, gone = push(client, gh, {"app/report.py": REPORT_PY}, "gone-1")
        gh.fail("GET", rf"/commits/{second}/check-runs", 502, times=1000)  # GitHub keeps failing there
        third, down = push(client, gh, {"app/report.py": REPORT_PY + "# more\n"}, "down-1", timeout=120)
    assert gone["outcome"] == down["outcome"] == "failure"  # both reviewed in full, both completed
    assert model.calls == 3 and all(LOOP in task_of(model, i) for i in (1, 2))
    assert "could not be compared (GitHub answered 404)" in run_for(gh, second)["output"]["summary"]
    assert "the previous review could not be read from GitHub (it answered 502)" in \
        run_for(gh, third)["output"]["summary"]
    assert all(r["status"] == "completed" for r in gh.check_runs(wh.REPO))


@pytest.mark.parametrize("first_event", ["pull_request", "check_suite"])
def test_a_push_sends_two_events_and_gets_one_incremental_review(fake_github, sqlite_backend, first_event):
    gh = fake_github
    model = FakeModel(specialist)
    settings = app_settings(gh, sqlite_backend.url)
    first = head(gh)
    with running_app(settings, model_client=model.client()) as enq, receiver(settings, enq) as client:
        open_pr(client, gh, "two-open")
        second = gh.push(wh.REPO, 7, {"app/report.py": REPORT_PY})
        events = [("pull_request", wh.pull_request("synchronize", head=second, before=first), "two-sync"),
                  ("check_suite", wh.check_suite("requested", head=second, before=first), "two-suite")]
        if first_event == "check_suite":
            events.reverse()
        for event, payload, delivery in events:
            assert deliver(client, event, payload, delivery=delivery).json()["status"] == "accepted"
        outcomes = {delivery: wait_result(delivery)["outcome"] for _, _, delivery in events}
    assert sorted(outcomes.values()) == ["failure", "skipped"]  # whichever ran first reviewed; the other skipped
    assert len([r for r in gh.check_runs(wh.REPO) if r["head_sha"] == second]) == 1
    assert model.calls == 2 and "since the last reviewed head" in task_of(model, 1)


def test_only_a_run_that_answers_for_its_commit_stops_a_second_review() -> None:
    assert review_stands({"status": "in_progress"})
    assert review_stands({"status": "completed", "conclusion": "failure", "output": {"title": "2 high"}})
    # a head pushed again after it was superseded, or whose review broke off, is reviewed again
    assert not review_stands({"status": "completed", "conclusion": "neutral", "output": {"title": SUPERSEDED_TITLE}})
    assert not review_stands({"status": "completed", "conclusion": "neutral", "output": {"title": FAILED_TITLE}})
