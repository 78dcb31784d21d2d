"""From a signed `pull_request` POST to what GitHub (the fake) received."""

from __future__ import annotations

from dbos import DBOS

from bot.render.comment import find_markers
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result


def head(gh):
    return gh.store.repos[wh.REPO].pulls[7].head_sha


def test_opened_pr_gets_a_completed_check_run_and_one_inline_review(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        r = deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery="pr-open-1")
        assert r.status_code == 202 and r.json()["status"] == "accepted"
        result = wait_result("pr-open-1")
    assert result["outcome"] == "failure"  # a query in a loop is high: the gate fails
    [run] = gh.check_runs(wh.REPO)
    assert run["name"] == "Scalability review" and run["status"] == "completed"
    assert run["conclusion"] == "failure" and run["head_sha"] == head(gh)
    assert "high" in run["output"]["title"]
    assert f"| GitHub API calls | {result['calls']} |" in run["output"]["summary"]
    assert result["calls"] == len(gh.calls)  # the count in the summary is what GitHub received
    assert len(gh.reviews(wh.REPO, 7)) == 1
    comments = gh.review_comments(wh.REPO, 7)
    assert comments and all(c["body"].rstrip().endswith("-->") for c in comments)
    assert set().union(*(find_markers(c["body"]) for c in comments)) == set(result["findings"])
    # every call the review made carried the delivery id
    assert all(c.headers.get("x-github-delivery") == "pr-open-1" for c in gh.calls)


def test_the_receiver_itself_makes_no_github_call(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings, worker=False) as enq, receiver(settings, enq) as client:
        assert deliver(client, "pull_request", wh.pull_request(head=head(gh)), delivery="pr-quiet").status_code == 202
        assert DBOS.retrieve_workflow("pr-quiet").get_status().status == "ENQUEUED"
    assert gh.calls == []


def test_redelivery_is_not_reviewed_twice(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    payload = wh.pull_request("synchronize", head=head(gh))
    with running_app(settings) as enq, receiver(settings, enq) as client:
        assert deliver(client, "pull_request", payload, delivery="pr-re-1").json()["status"] == "accepted"
        assert deliver(client, "pull_request", payload, delivery="pr-re-1").json()["status"] == "duplicate"
        wait_result("pr-re-1")
        again = deliver(client, "pull_request", payload, delivery="pr-re-1")
        assert again.status_code == 202 and again.json()["status"] == "duplicate"
    assert len(gh.reviews(wh.REPO, 7)) == 1
    assert gh.count("POST", r"/check-runs$") == 1


def test_a_second_delivery_for_the_same_head_posts_no_second_comment(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery="pr-a")
        wait_result("pr-a")
        deliver(client, "pull_request", wh.pull_request("reopened", head=head(gh)), delivery="pr-b")
        wait_result("pr-b")
    assert len(gh.reviews(wh.REPO, 7)) == 1  # the markers say every finding is already there
    runs = gh.check_runs(wh.REPO)
    assert len(runs) == 2 and all(r["status"] == "completed" for r in runs)


def test_draft_and_closed_prs_are_not_reviewed(fake_github, sqlite_backend):
    gh = fake_github
    gh.store.repos[wh.REPO].pulls[7].draft = True
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head(gh), draft=True), delivery="pr-draft")
        assert wait_result("pr-draft")["outcome"] == "skipped"
        closed = deliver(client, "pull_request", wh.pull_request("closed", head=head(gh)), delivery="pr-closed")
        assert closed.json()["status"] == "ignored"
    assert gh.check_runs(wh.REPO) == []


def test_drafts_are_reviewed_when_the_base_config_asks(fake_github, sqlite_backend):
    gh = fake_github
    gh.add_pull(wh.REPO, 8, {"app/orders.py": ("x = 1\n", "x = 2\n")}, draft=True,
                base_files={".github/scale-review.yml": "drafts: true\n"})
    settings = app_settings(gh, sqlite_backend.url)
    sha = gh.store.repos[wh.REPO].pulls[8].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", number=8, head=sha, draft=True), delivery="pr-d8")
        assert wait_result("pr-d8")["outcome"] == "success"
