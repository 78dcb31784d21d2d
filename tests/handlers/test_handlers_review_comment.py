"""`pull_request_review_comment`: only new human replies in a thread become a reply job."""

from __future__ import annotations

import json

import handlers
from bot.core.jobs import Ignored, Job
from handlers.context import Delivery
from handlers.payloads import Envelope
from tests.support import webhooks as wh

US = Delivery("pull_request_review_comment", "d-1", "4242")


def decide(**kw):
    body = kw.pop("body", "/scale-review dismiss capped")
    payload = wh.pull_request_review_comment(body, comment_id=77, **{"in_reply_to": 55, **kw})
    return handlers.dispatch(US, Envelope.parse(json.dumps(payload).encode()))


def test_a_human_reply_becomes_a_reply_job_carrying_ids_and_the_bounded_text():
    job = decide(body="why?" * 5000)
    assert isinstance(job, Job) and job.kind == "reply" and job.partition_key == f"{wh.REPO}#7"
    assert (job.reply_to, job.comment_id, job.actor, job.head_sha) == (55, 77, "maintainer", "a" * 40)
    assert len(job.reply_text) == 4000 and job.reply_key == f"reply:{wh.REPO}:77"
    assert Job.from_dict(job.to_dict()) == job


def test_edits_thread_starters_and_bots_are_ignored_with_a_reason():
    cases = {"is not a new reply": decide(action="edited"), "starts a thread": decide(in_reply_to=None),
             "from a bot": decide(user_type="Bot"), "from a bot ": decide(via_app=4242)}
    for reason, decision in cases.items():
        assert isinstance(decision, Ignored) and reason.strip() in decision.reason
