import json

from bot.core.jobs import Ignored, Job
from handlers import dispatch
from handlers.context import Delivery
from handlers.payloads import Envelope
from tests.support import webhooks as wh


def decide(event, payload):
    return dispatch(Delivery(event, "d-5", "1"), Envelope.parse(json.dumps(payload).encode()))


def test_rerequested_check_run_reviews_its_head():
    job = decide("check_run", wh.check_run("rerequested", head="d" * 40))
    assert isinstance(job, Job) and job.kind == "review" and job.head_sha == "d" * 40 and job.check_run_id == 55


def test_buttons_rerun_and_accept():
    rerun = decide("check_run", wh.check_run("requested_action", identifier="rerun"))
    assert rerun.kind == "review" and rerun.action == "rerun"
    accept = decide("check_run", wh.check_run("requested_action", identifier="accept"))
    assert accept.kind == "check_action" and accept.actor == "maintainer"
    assert isinstance(decide("check_run", wh.check_run("requested_action", identifier="lgtm")), Ignored)


def test_fork_pr_run_is_found_through_external_id():
    job = decide("check_run", wh.check_run(number=None, external_id=f"{wh.REPO}#31@{'a' * 40}"))
    assert isinstance(job, Job) and job.number == 31
    assert isinstance(decide("check_run", wh.check_run(number=None, external_id="other/repo#31@x")), Ignored)


def test_other_apps_runs_and_actions_are_ignored():
    assert isinstance(decide("check_run", wh.check_run(name="CI")), Ignored)
    assert isinstance(decide("check_run", wh.check_run("created")), Ignored)


def test_check_suite_rerequested_and_requested():
    job = decide("check_suite", wh.check_suite("rerequested"))
    assert isinstance(job, Job) and not job.only_if_new
    pushed = decide("check_suite", wh.check_suite("requested"))
    assert pushed.only_if_new
    # a push's suite names the head before it: the review may be incremental, like synchronize's
    assert decide("check_suite", wh.check_suite("requested", before="d" * 40)).before_sha == "d" * 40
    assert decide("check_suite", wh.check_suite("requested", before="0" * 40)).before_sha == ""  # a new branch
    assert decide("check_suite", wh.check_suite("rerequested", before="d" * 40)).before_sha == ""  # "re-run all"
    assert isinstance(decide("check_suite", wh.check_suite("completed")), Ignored)
    assert isinstance(decide("check_suite", wh.check_suite(number=None)), Ignored)
