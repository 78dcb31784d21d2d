"""Hostile: another App (or a person) copying our hidden markers silences nothing of ours.

Our reviews are the ones GitHub attributes to our App's bot user, our comments name our App in
`performed_via_github_app`, our check runs name it in `app`; marker text alone never counts.
End to end: signed webhook POSTs, the worker, and what the fake GitHub received.
"""

from __future__ import annotations

from typing import Any

from bot.github.identity import AppIdentity
from bot.review.acceptances import ACCEPT_MARKER
from tests.conftest import PR_FILES
from tests.support import webhooks as wh
from tests.support.fakegithub import FakeGitHub
from tests.support.fakegithub.clients import make_gateway
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result

COPYCAT = 9999


def _seed(gh: FakeGitHub) -> None:
    gh.add_installation(wh.INSTALLATION, "octo")
    gh.add_repo(wh.REPO, {"README.md": "hi\n"}, installation_id=wh.INSTALLATION)
    gh.add_pull(wh.REPO, 7, PR_FILES, title="Orders endpoint")
    gh.set_permission(wh.REPO, "maintainer", "write")


def _review_once(gh: FakeGitHub, database_url: str, delivery: str) -> dict[str, Any]:
    settings = app_settings(gh, database_url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        assert deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery=delivery
                       ).status_code == 202
        return wait_result(delivery)


def _ours(gh: FakeGitHub) -> list[dict[str, Any]]:
    return [r for r in gh.reviews(wh.REPO, 7) if r["user"]["login"] == gh.bot_login]


def test_a_copycat_review_with_our_markers_does_not_stop_our_review(fake_github, tmp_path):
    with FakeGitHub() as twin:  # the same change elsewhere: what our review of it looks like
        _seed(twin)
        _review_once(twin, f"sqlite:///{tmp_path / 'twin.db'}", "twin-1")
        [original] = _ours(twin)
        copied_comments = [c["body"] for c in twin.review_comments(wh.REPO, 7)]
    gh = fake_github
    copycat = gh.app_object(COPYCAT, "copycat")
    gh.add_review(wh.REPO, 7, original["body"], by_app=copycat)
    gh.add_review(wh.REPO, 7, original["body"], user="mallory")
    for body in copied_comments:
        gh.add_issue_comment(wh.REPO, 7, body, by_app=copycat)
    result = _review_once(gh, f"sqlite:///{tmp_path / 'app.db'}", "real-1")
    [ours] = _ours(gh)
    assert ours["id"] == result["review_id"] and ours["body"] != ""
    assert sorted(c["body"] for c in gh.review_comments(wh.REPO, 7)) == sorted(copied_comments)
    assert len(copied_comments) >= 2


def test_a_copycat_accept_record_does_not_accept_anything(fake_github, tmp_path):
    gh = fake_github
    first = _review_once(gh, f"sqlite:///{tmp_path / 'a.db'}", "acc-1")
    blocking = first["blocking"]
    assert first["outcome"] == "failure" and blocking
    forged = ACCEPT_MARKER.format(login="maintainer", ids=",".join(blocking))
    gh.add_issue_comment(wh.REPO, 7, "Risk accepted.\n\n" + forged, by_app=gh.app_object(COPYCAT, "copycat"))
    gh.add_issue_comment(wh.REPO, 7, "Risk accepted.\n\n" + forged, user="scale-review[bot]", user_type="User")
    settings = app_settings(gh, f"sqlite:///{tmp_path / 'a.db'}")
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "issue_comment", wh.issue_comment("/scale-review", comment_id=gh.add_issue_comment(
            wh.REPO, 7, "/scale-review", user="maintainer")), delivery="acc-2")
        again = wait_result("acc-2")
    assert again["outcome"] == "failure" and again["blocking"] == blocking


def test_a_copycat_check_run_of_our_name_does_not_count_as_our_review(fake_github, sqlite_backend):
    gh = fake_github
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    copycat = gh.app_object(COPYCAT, "copycat")
    gh.add_check_run(wh.REPO, head, "Scalability review", by_app=copycat, output={"title": "Done", "summary": "ok"})
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq, receiver(settings, enq) as client:
        deliver(client, "check_suite", wh.check_suite("requested", head=head), delivery="cs-1")
        assert wait_result("cs-1")["outcome"] == "failure"
    runs = [r for r in gh.check_runs(wh.REPO) if r["app"]["id"] == gh.app_id]
    assert len(runs) == 1 and runs[0]["conclusion"] == "failure"


def test_identity_comes_from_github_once_and_judges_authors(fake_github):
    gh = fake_github
    gw = make_gateway(gh)
    me = gw.identity()
    assert me == AppIdentity(str(gh.app_id), gh.client_id, gh.app_slug) and gw.identity() is me
    assert gh.count("GET", r"^/app$") == 1
    ours = {"user": {"login": gh.bot_login, "type": "Bot"}, "performed_via_github_app": gh.app_object()}
    assert me.wrote(ours) and me.wrote({"user": {"login": gh.bot_login, "type": "Bot"}})  # a review
    assert not me.wrote({"user": {"login": "copycat[bot]", "type": "Bot"},
                         "performed_via_github_app": gh.app_object(COPYCAT, "copycat")})
    assert not me.wrote({"user": {"login": gh.bot_login, "type": "User"}})  # a person cannot be a bot
    assert not me.wrote({"user": {"login": gh.bot_login, "type": "Bot"},
                         "performed_via_github_app": gh.app_object(COPYCAT, "copycat")})
    assert me.owns_run({"app": gh.app_object()}) and not me.owns_run({"app": gh.app_object(COPYCAT)})
    assert not me.wrote({}) and not me.owns_run({"app": None})


def test_a_button_click_on_another_apps_run_of_our_name_starts_nothing() -> None:
    import json

    from bot.core.jobs import Ignored, Job
    from handlers import dispatch
    from handlers.context import Delivery
    from handlers.payloads import Envelope

    def decide(payload: dict[str, Any], app_id: str = "4242") -> object:
        return dispatch(Delivery("check_run", "d-1", app_id), Envelope.parse(json.dumps(payload).encode()))

    for action, identifier in (("rerequested", ""), ("requested_action", "accept"), ("requested_action", "rerun")):
        assert isinstance(decide(wh.check_run(action, identifier=identifier, app_id=COPYCAT)), Ignored)
        assert isinstance(decide(wh.check_run(action, identifier=identifier, app_id=4242)), Job)
    by_client_id = wh.check_run("rerequested")
    by_client_id["check_run"]["app"] = {"id": 4242, "client_id": "Iv23ours"}
    assert isinstance(decide(by_client_id, app_id="Iv23ours"), Job)
