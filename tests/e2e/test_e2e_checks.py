"""From signed `check_run`, `check_suite`, `installation` and `ping` POSTs to what GitHub received."""

from __future__ import annotations

from bot.review.acceptances import ACCEPT_MARKER
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result


def head(gh):
    return gh.store.repos[wh.REPO].pulls[7].head_sha


def first_review(client, gh, delivery="k-first"):
    deliver(client, "pull_request", wh.pull_request("opened", head=head(gh)), delivery=delivery)
    return wait_result(delivery)


def test_rerequested_check_run_reviews_again_and_completes(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first = first_review(client, gh)
        payload = wh.check_run("rerequested", head=head(gh),
                               run_id=first["check_run_id"], app_id=gh.app_id)
        assert deliver(client, "check_run", payload, delivery="k-rerun").json()["status"] == "accepted"
        assert wait_result("k-rerun")["outcome"] == "failure"
    runs = gh.check_runs(wh.REPO)
    assert len(runs) == 2 and all(r["status"] == "completed" for r in runs)
    assert len(gh.reviews(wh.REPO, 7)) == 1


def test_rerun_button_reviews_again(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first = first_review(client, gh)
        payload = wh.check_run("requested_action", identifier="rerun", head=head(gh),
                               run_id=first["check_run_id"], app_id=gh.app_id)
        deliver(client, "check_run", payload, delivery="k-button")
        assert wait_result("k-button")["outcome"] == "failure"


def test_accept_risk_button_records_the_acceptance_and_passes_the_gate(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first = first_review(client, gh)
        payload = wh.check_run("requested_action", identifier="accept", head=head(gh),
                               run_id=first["check_run_id"], app_id=gh.app_id)
        deliver(client, "check_run", payload, delivery="k-accept")
        assert wait_result("k-accept")["outcome"] == "success"
        # a later review still sees the acceptance (it lives on the PR, not in our database)
        deliver(client, "check_suite", wh.check_suite("rerequested", head=head(gh)), delivery="k-later")
        assert wait_result("k-later")["outcome"] == "success"
    [record] = [c["body"] for c in gh.issue_comments(wh.REPO, 7) if c["user"]["login"] == gh.bot_login]
    assert ACCEPT_MARKER.split("{")[0] in record and "maintainer" in record
    latest = max(gh.check_runs(wh.REPO), key=lambda r: r["id"])
    assert latest["conclusion"] == "success" and "maintainer" in latest["output"]["summary"]


def test_accept_risk_button_needs_write_access(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        first = first_review(client, gh)
        payload = wh.check_run("requested_action", identifier="accept", head=head(gh),
                               run_id=first["check_run_id"], app_id=gh.app_id)
        payload["sender"] = {"login": "reader", "type": "User"}
        deliver(client, "check_run", payload, delivery="k-deny")
        assert wait_result("k-deny")["outcome"] == "unauthorised"
    assert len(gh.check_runs(wh.REPO)) == 1


def test_check_suite_rerequested_reviews_and_requested_fills_gaps_only(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "check_suite", wh.check_suite("requested", head=head(gh)), delivery="k-push")
        assert wait_result("k-push")["outcome"] == "failure"  # no run for this commit yet: review
        again = wh.check_suite("requested", head=head(gh))
        again["check_suite"]["id"] = 78  # GitHub's second event has a body of its own (an identical one is a replay)
        deliver(client, "check_suite", again, delivery="k-push-2")
        assert wait_result("k-push-2")["outcome"] == "skipped"  # already reviewed
        deliver(client, "check_suite", wh.check_suite("rerequested", head=head(gh)), delivery="k-again")
        assert wait_result("k-again")["outcome"] == "failure"
    assert len(gh.check_runs(wh.REPO)) == 2


def test_installation_and_ping_need_no_work(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        r = deliver(client, "installation", wh.installation("created"))
        assert r.status_code == 202 and r.json()["status"] == "logged"
        r = deliver(client, "installation_repositories", {"action": "added", "installation": {"id": 1}})
        assert r.json()["status"] == "logged"
        r = deliver(client, "ping", wh.ping())
        assert r.status_code == 200 and r.json()["status"] == "pong"
    assert gh.calls == []
