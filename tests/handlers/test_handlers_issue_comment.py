import json

from bot.core.jobs import Ignored, Job
from handlers import dispatch
from handlers.context import Delivery
from handlers.payloads import Envelope
from tests.support import webhooks as wh


def decide(payload, app_id="1"):
    return dispatch(Delivery("issue_comment", "d-3", app_id), Envelope.parse(json.dumps(payload).encode()))


def test_a_command_on_a_pr_becomes_a_command_job():
    job = decide(wh.issue_comment("/scale-review accept SR-0123456789 small table", login="bob"))
    assert isinstance(job, Job) and job.kind == "command"
    assert (job.actor, job.comment_id, job.number) == ("bob", 901, 7)
    assert job.command.kind == "accept" and job.command.finding_id == "SR-0123456789"
    assert job.head_sha == ""  # the worker reads the PR


def test_comments_without_a_command_or_on_issues_are_ignored():
    assert "no /scale-review" in decide(wh.issue_comment("nice work")).reason
    assert "issue" in decide(wh.issue_comment("/scale-review", on_pr=False)).reason


def test_bots_and_our_own_app_are_ignored():
    assert isinstance(decide(wh.issue_comment("/scale-review", login="ci[bot]", user_type="Bot")), Ignored)
    own = wh.issue_comment("/scale-review help", via_app=1)
    assert isinstance(decide(own, app_id="1"), Ignored)
    assert isinstance(decide(own, app_id="2"), Job)


def test_edited_and_deleted_comments_do_not_run_commands():
    for action in ["edited", "deleted"]:
        assert isinstance(decide(wh.issue_comment("/scale-review", action=action)), Ignored)


def test_null_body_is_not_a_crash():
    p = wh.issue_comment("x")
    p["comment"]["body"] = None
    assert isinstance(decide(p), Ignored)
