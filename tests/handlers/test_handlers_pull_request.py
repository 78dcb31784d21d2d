import json

from bot.core.jobs import Ignored, Job
from handlers import dispatch
from handlers.context import Delivery
from handlers.payloads import Envelope
from tests.support import webhooks as wh


def decide(payload):
    return dispatch(Delivery("pull_request", "d-9", "1"), Envelope.parse(json.dumps(payload).encode()))


def test_reviewed_actions_make_a_review_job_with_ids_only():
    for action in ["opened", "synchronize", "reopened", "ready_for_review"]:
        job = decide(wh.pull_request(action, number=12, head="c" * 40))
        assert isinstance(job, Job)
        assert (job.kind, job.repo, job.number, job.head_sha, job.installation_id, job.delivery_id) == (
            "review", wh.REPO, 12, "c" * 40, wh.INSTALLATION, "d-9")
        assert job.partition_key == f"{wh.REPO}#12"


def test_other_actions_and_closed_prs_are_ignored():
    for action in ["closed", "labeled", "edited", "assigned", "converted_to_draft"]:
        assert isinstance(decide(wh.pull_request(action)), Ignored)
    d = decide(wh.pull_request("reopened", state="closed"))
    assert isinstance(d, Ignored) and "closed" in d.reason


def test_drafts_are_flagged_for_the_worker_to_decide():
    job = decide(wh.pull_request("opened", draft=True))
    assert isinstance(job, Job) and job.draft


def test_a_payload_without_installation_or_head_is_ignored():
    p = wh.pull_request()
    del p["installation"]
    assert isinstance(decide(p), Ignored)
    p = wh.pull_request()
    p["pull_request"]["head"]["sha"] = ""
    assert isinstance(decide(p), Ignored)


def test_a_push_carries_the_head_before_it_for_an_incremental_review():
    job = decide(wh.pull_request("synchronize", head="c" * 40, before="d" * 40))
    assert isinstance(job, Job) and job.before_sha == "d" * 40
    assert job.only_if_new  # the push's check_suite.requested may have reviewed this head already
    assert not decide(wh.pull_request("opened", head="c" * 40)).only_if_new
    assert Job.from_dict(job.to_dict()) == job  # crosses the durable queue intact
    # only a push has a "before"; a malformed one (not a 40-hex sha) is ignored: the review is full
    assert decide(wh.pull_request("opened", head="c" * 40, before="d" * 40)).before_sha == ""
    for bad in ["0" * 39, "0" * 40, "../../etc", "D" * 40, ""]:
        assert decide(wh.pull_request("synchronize", head="c" * 40, before=bad)).before_sha == ""
