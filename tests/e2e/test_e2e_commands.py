"""From a signed `issue_comment` POST with a /scale-review command to what GitHub received."""

from __future__ import annotations

from bot.core.commands import HELP_TEXT, UNAUTHORISED_TEXT
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result


def comment(gh, body, login="maintainer"):
    cid = gh.add_issue_comment(wh.REPO, 7, body, user=login)
    return cid, wh.issue_comment(body, login=login, comment_id=cid)


def bot_replies(gh):
    return [c["body"] for c in gh.issue_comments(wh.REPO, 7) if c["user"]["login"] == gh.bot_login]


def test_run_command_reacts_and_reviews(fake_github, sqlite_backend):
    gh = fake_github
    cid, payload = comment(gh, "/scale-review")
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        assert deliver(client, "issue_comment", payload, delivery="c-run").json()["status"] == "accepted"
        assert wait_result("c-run")["outcome"] == "failure"
    assert gh.reactions(cid) == ["eyes", "rocket"]
    [run] = gh.check_runs(wh.REPO)
    assert run["status"] == "completed" and run["conclusion"] == "failure"


def test_unauthorised_command_gets_one_reply_and_no_paid_work(fake_github, sqlite_backend):
    gh = fake_github
    cid, payload = comment(gh, "/scale-review full", login="reader")
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "issue_comment", payload, delivery="c-deny")
        assert wait_result("c-deny")["outcome"] == "unauthorised"
    [reply] = bot_replies(gh)
    assert reply == UNAUTHORISED_TEXT.format(needed="write")
    assert gh.check_runs(wh.REPO) == [] and gh.reviews(wh.REPO, 7) == []
    assert gh.count("GET", r"/pulls/7$") == 1 and gh.count("POST", r"/graphql$") == 1  # PR + config only
    assert gh.reactions(cid) == []


def test_strangers_without_any_permission_are_refused(fake_github, sqlite_backend):
    gh = fake_github
    _, payload = comment(gh, "/scale-review", login="drive-by")  # no permission at all: 404 -> none
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "issue_comment", payload, delivery="c-stranger")
        assert wait_result("c-stranger")["outcome"] == "unauthorised"
    assert gh.check_runs(wh.REPO) == []


def test_help_is_answered(fake_github, sqlite_backend):
    gh = fake_github
    cid, payload = comment(gh, "/scale-review help")
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "issue_comment", payload, delivery="c-help")
        assert wait_result("c-help")["outcome"] == "help"
    assert bot_replies(gh) == [HELP_TEXT]
    assert gh.reactions(cid) == ["eyes", "rocket"]


def test_invalid_command_says_what_is_wrong(fake_github, sqlite_backend):
    gh = fake_github
    _, payload = comment(gh, "/scale-review accept nonsense")
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "issue_comment", payload, delivery="c-bad")
        assert wait_result("c-bad")["outcome"] == "invalid"
    [reply] = bot_replies(gh)
    assert "accept <finding-id> <reason>" in reply


def test_accept_turns_the_gate_green_and_records_who_and_why(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery="c-first")
        first = wait_result("c-first")
        assert first["outcome"] == "failure"
        [finding_id] = first["blocking"]
        _, payload = comment(gh, f"/scale-review accept {finding_id} the orders table holds 40 rows")
        deliver(client, "issue_comment", payload, delivery="c-accept")
        second = wait_result("c-accept")
    assert second["outcome"] == "success"
    latest = max(gh.check_runs(wh.REPO), key=lambda r: r["id"])
    assert latest["conclusion"] == "success"
    summary = latest["output"]["summary"]
    assert "maintainer" in summary and "40 rows" in summary  # who and why (mentions are neutralised)
    assert len(gh.reviews(wh.REPO, 7)) == 1  # nothing new to comment on


def test_accept_from_someone_without_write_access_changes_nothing(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery="c-f2")
        first = wait_result("c-f2")
        # seen by the next review, but its author may not accept risk
        gh.add_issue_comment(wh.REPO, 7, f"/scale-review accept {first['blocking'][0]} trust me", user="reader")
        _, payload = comment(gh, "/scale-review")
        deliver(client, "issue_comment", payload, delivery="c-rerun")
        assert wait_result("c-rerun")["outcome"] == "failure"

