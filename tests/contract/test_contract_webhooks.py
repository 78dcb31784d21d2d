"""GitHub's own published webhook examples (`@octokit/webhooks-examples`), signed and POSTed to the receiver.

Every example of every event the App receives gets a 2xx and the decision design.md promises: a job
on the durable queue, or an answer saying why not. The examples are repo-hook captures (several lack
`installation`, no comment is on a PR, no check run is ours), so patched copies exercise the paths
that do work: a PR comment with `/scale-review`, our check run's buttons, a fork's check run.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

import handlers
from bot.app.server import Outcome, create_app
from bot.core.jobs import Job
from bot.core.settings import Settings, parse_secrets
from tests.support import webhooks as wh
from tests.support.contract import EXAMPLES_FILE, ROOT, example_events, examples, require_octokit

SECRET = b"contract-secret"
APP_ID = 31337
CHECK_NAME = "Scalability review"
REVIEW_ACTIONS = {"opened", "synchronize", "reopened", "ready_for_review"}
ALWAYS_SENT = {"installation", "installation_repositories", "ping"}  # sent to every App, no subscription
MANIFEST = ROOT / "deploy" / "app-manifest.yml"
# every event the App receives (pull_request_review_comment: replies under the bot's inline comments)
EVENTS = ("pull_request", "issue_comment", "check_run", "check_suite", "installation",
          "installation_repositories", "ping", "pull_request_review_comment")
INSTALLATION = {"id": 777, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNzc3"}


class RecordingEnqueuer:
    """The durable queue's contract in memory: the same delivery id twice is a duplicate."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}

    async def enqueue(self, job: Job) -> Outcome:
        if job.delivery_id in self.jobs:
            return "duplicate"
        self.jobs[job.delivery_id] = job
        return "accepted"

    async def ready(self) -> bool:
        return True


@pytest.fixture(scope="module")
def receiver() -> Any:
    require_octokit(EXAMPLES_FILE)
    enqueuer = RecordingEnqueuer()
    settings = Settings(webhook_secrets=parse_secrets(SECRET.decode()), github_app_id=str(APP_ID))
    with TestClient(create_app(settings, enqueuer)) as client:
        yield client, enqueuer


def post(receiver: Any, event: str, payload: dict[str, Any]) -> tuple[Any, Job | None]:
    """POST the exact signed bytes GitHub would send; the answer and the job it enqueued, if any."""
    client, enqueuer = receiver
    delivery = str(uuid.uuid4())
    body, headers = wh.signed(event, json.dumps(payload, indent=2).encode(), SECRET, delivery=delivery)
    answer = client.post("/webhook", content=body, headers=headers)
    assert 200 <= answer.status_code < 300, (event, payload.get("action"), answer.status_code, answer.text)
    return answer, enqueuer.jobs.get(delivery)


def cases() -> list[Any]:
    out = []
    for event in EVENTS:
        for index, payload in enumerate(examples(event)):
            out.append(pytest.param(event, index, id=f"{event}-{index}-{payload.get('action', 'event')}"))
    return out


def promised(event: str, p: dict[str, Any]) -> tuple[str, str]:
    """(status, reason fragment) design.md and the handlers promise for an unpatched example."""
    action = p.get("action", "")
    if event == "ping":
        return "pong", "pong"
    if event in ("installation", "installation_repositories"):
        return "logged", f"{event} {action}"
    if event == "pull_request_review_comment":
        return _promised_reply(p)
    if event == "pull_request":
        if action not in REVIEW_ACTIONS:
            return "ignored", f"'{action}' is not reviewed"
        return ("accepted", "") if p.get("installation") else ("ignored", "no installation")
    if event == "issue_comment":
        return "ignored", ("not a pull request" if action == "created" else "not a new command")
    if event == "check_run":
        if action not in ("rerequested", "requested_action"):
            return "ignored", "needs no work"
        return "ignored", "is not ours"
    # check_suite
    if action not in ("requested", "rerequested"):
        return "ignored", "needs no work"
    if not p["check_suite"]["pull_requests"]:
        return "ignored", "not linked to a pull request"
    return ("accepted", "") if p.get("installation") else ("ignored", "no installation")


def _promised_reply(p: dict[str, Any]) -> tuple[str, str]:
    comment = p.get("comment") or {}
    if p.get("action") != "created":
        return "ignored", "is not a new reply"
    if not comment.get("in_reply_to_id"):
        return "ignored", "starts a thread"
    if (comment.get("user") or {}).get("type") == "Bot":
        return "ignored", "from a bot"
    if (p.get("pull_request") or {}).get("state") != "open":
        return "ignored", "closed"
    return ("accepted", "") if p.get("installation") else ("ignored", "no installation")


def test_the_examples_of_every_event_the_app_receives_are_installed() -> None:
    require_octokit(EXAMPLES_FILE)
    counts = {event: len(examples(event)) for event in EVENTS}
    assert counts["pull_request"] >= 29 and counts["issue_comment"] >= 9 and counts["check_run"] >= 9
    assert all(counts.values()), counts
    assert set(EVENTS) <= set(example_events())


def test_the_receiver_handles_exactly_the_manifest_events_plus_those_sent_to_every_app() -> None:
    subscribed = set(yaml.safe_load(Path(MANIFEST).read_text())["default_events"])
    assert {e for e in EVENTS if handlers.is_subscribed(e)} == subscribed | ALWAYS_SENT
    assert "pull_request_review_comment" in subscribed  # replies under the bot's inline comments


@pytest.mark.parametrize(("event", "index"), cases())
def test_every_published_example_gets_a_2xx_and_the_promised_decision(receiver: Any, event: str,
                                                                      index: int) -> None:
    payload = examples(event)[index]
    status, reason = promised(event, payload)
    answer, job = post(receiver, event, payload)
    assert answer.json()["status"] == status, answer.json()
    assert reason in answer.json().get("reason", ""), answer.json()
    assert answer.status_code == (200 if status == "pong" else 202)
    if status != "accepted":
        assert job is None
        return
    assert job is not None and job.kind == "review" and job.repo == payload["repository"]["full_name"]
    assert job.installation_id == payload["installation"]["id"]


def with_installation(p: dict[str, Any]) -> dict[str, Any]:
    p.setdefault("installation", INSTALLATION)
    return p


@pytest.mark.parametrize("action", sorted(REVIEW_ACTIONS))
def test_pull_request_examples_that_open_or_move_a_pr_enqueue_its_review_at_its_head(receiver: Any,
                                                                                     action: str) -> None:
    found = [with_installation(p) for p in examples("pull_request") if p["action"] == action]
    assert found, f"no published pull_request.{action} example"
    for payload in found:
        _, job = post(receiver, "pull_request", payload)
        pr = payload["pull_request"]
        assert job is not None, (action, payload.get("installation"))
        assert (job.kind, job.trigger, job.number, job.head_sha) == ("review", "pull_request", pr["number"],
                                                                     pr["head"]["sha"])
        assert job.repo == "Codertocat/Hello-World" and job.actor == payload["sender"]["login"]


def test_an_opened_draft_is_enqueued_flagged_draft_and_a_closed_pr_is_never_reviewed(receiver: Any) -> None:
    opened = with_installation(next(p for p in examples("pull_request") if p["action"] == "opened"))
    opened["pull_request"]["draft"] = True
    _, job = post(receiver, "pull_request", opened)
    assert job is not None and job.draft is True  # `drafts: false` (the default) is applied by the worker
    pushed_but_closed = with_installation(next(p for p in examples("pull_request") if p["action"] == "closed"))
    pushed_but_closed["action"] = "synchronize"
    answer, job = post(receiver, "pull_request", pushed_but_closed)
    assert job is None and answer.json() == {"status": "ignored", "reason": "pull request is closed"}


def on_pr(payload: dict[str, Any], body: str) -> dict[str, Any]:
    number = payload["issue"]["number"]
    payload["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/Codertocat/Hello-World/pulls/{number}"}
    payload["comment"]["body"] = body
    return with_installation(payload)


@pytest.mark.parametrize("body", ["/scale-review", "/scale-review full", "/scale-review focus db,cache",
                                  "/scale-review help", "Thanks!\n\n/scale-review"])
def test_issue_comment_examples_moved_onto_a_pr_with_a_command_enqueue_the_command(receiver: Any,
                                                                                  body: str) -> None:
    for payload in [on_pr(p, body) for p in examples("issue_comment") if p["action"] == "created"]:
        _, job = post(receiver, "issue_comment", payload)
        assert job is not None, body
        assert (job.kind, job.trigger, job.number) == ("command", "issue_comment", payload["issue"]["number"])
        assert job.comment_id == payload["comment"]["id"] and job.actor == payload["comment"]["user"]["login"]
        assert job.command is not None


def test_pr_comments_that_are_not_new_commands_or_come_from_bots_are_ignored_with_a_reason(receiver: Any) -> None:
    created = [p for p in examples("issue_comment") if p["action"] == "created"]
    plain = on_pr(json.loads(json.dumps(created[0])), "LGTM, ship it")
    by_bot = on_pr(json.loads(json.dumps(created[0])), "/scale-review")
    by_bot["comment"]["user"]["type"] = "Bot"
    by_us = on_pr(json.loads(json.dumps(created[0])), "/scale-review full")
    by_us["comment"]["performed_via_github_app"] = {"id": APP_ID, "slug": "scale-review"}
    edited = on_pr(next(p for p in examples("issue_comment") if p["action"] == "edited"), "/scale-review")
    expected = [(plain, "no /scale-review command"), (by_bot, "from a bot"), (by_us, "from a bot"),
                (edited, "not a new command")]
    for payload, reason in expected:
        answer, job = post(receiver, "issue_comment", payload)
        assert job is None and answer.status_code == 202 and reason in answer.json()["reason"], answer.json()


def ours(payload: dict[str, Any], **run: Any) -> dict[str, Any]:
    """A published check_run example made into one of ours: our name, and GitHub's `app` object naming us."""
    payload["check_run"]["name"] = CHECK_NAME
    payload["check_run"]["app"] = {**(payload["check_run"].get("app") or {}), "id": APP_ID}
    payload["check_run"].update(run)
    return with_installation(payload)


def test_rerun_of_our_check_run_from_the_published_examples_enqueues_a_review(receiver: Any) -> None:
    for payload in [p for p in examples("check_run") if p["action"] == "rerequested"]:
        run = payload["check_run"]
        linked = ours(json.loads(json.dumps(payload)), pull_requests=[{"number": 12, "head": {"sha": run["head_sha"]}}])
        _, job = post(receiver, "check_run", linked)
        assert job is not None and (job.kind, job.number, job.head_sha) == ("review", 12, run["head_sha"])
        assert job.check_run_id == run["id"]
        # a fork PR: GitHub leaves pull_requests empty; our external_id `repo#n@sha` links it
        fork = ours(payload, pull_requests=[], external_id=f"{payload['repository']['full_name']}#5@{run['head_sha']}")
        _, job = post(receiver, "check_run", fork)
        assert job is not None and job.number == 5
        unlinked = ours(json.loads(json.dumps(payload)), pull_requests=[], external_id="")
        answer, job = post(receiver, "check_run", unlinked)
        assert job is None and "not linked to a pull request" in answer.json()["reason"]


@pytest.mark.parametrize(("identifier", "kind"), [("accept", "check_action"), ("rerun", "review"),
                                                  ("lgtm|26764", None)])
def test_our_check_run_buttons_from_the_published_requested_action_example(receiver: Any, identifier: str,
                                                                           kind: str | None) -> None:
    [payload] = [p for p in examples("check_run") if p["action"] == "requested_action"]
    payload = ours(payload)
    payload["requested_action"] = {"identifier": identifier}
    answer, job = post(receiver, "check_run", payload)
    if kind is None:
        assert job is None and "unknown check run button" in answer.json()["reason"]
        return
    assert job is not None and (job.kind, job.action) == (kind, identifier)
    assert job.number == payload["check_run"]["pull_requests"][0]["number"] and job.actor == payload["sender"]["login"]


@pytest.mark.parametrize(("action", "only_if_new"), [("requested", True), ("rerequested", False)])
def test_check_suite_examples_linked_to_a_pr_enqueue_a_review(receiver: Any, action: str, only_if_new: bool) -> None:
    for payload in [with_installation(p) for p in examples("check_suite") if p["action"] == action]:
        suite = payload["check_suite"]
        suite["pull_requests"] = suite["pull_requests"] or [{"number": 9, "head": {"sha": suite["head_sha"]}}]
        _, job = post(receiver, "check_suite", payload)
        assert job is not None and (job.kind, job.head_sha) == ("review", suite["head_sha"])
        assert job.only_if_new is only_if_new  # a push's `requested` only fills a gap left by synchronize


def test_a_published_check_run_of_another_app_is_not_ours(receiver: Any) -> None:
    """The examples' runs belong to another App: a button or a re-run on them never starts our work."""
    for payload in [p for p in examples("check_run") if p["action"] in ("rerequested", "requested_action")]:
        payload = json.loads(json.dumps(payload))
        payload["check_run"]["name"] = CHECK_NAME  # our name is not enough
        answer, job = post(receiver, "check_run", with_installation(payload))
        assert job is None and "created by another App" in answer.json()["reason"]


def test_review_comment_examples_made_replies_enqueue_a_reply_job_at_the_prs_head(receiver: Any) -> None:
    created = [p for p in examples("pull_request_review_comment") if p["action"] == "created"]
    assert created
    for example in created:
        payload = json.loads(json.dumps(example))
        payload["comment"]["in_reply_to_id"] = 4242
        payload["comment"]["user"]["type"] = "User"
        payload["pull_request"]["state"] = "open"
        payload["installation"] = INSTALLATION
        _, job = post(receiver, "pull_request_review_comment", payload)
        assert job is not None
        assert (job.kind, job.trigger, job.reply_to) == ("reply", "pull_request_review_comment", 4242)
        assert job.head_sha == payload["pull_request"]["head"]["sha"]
        assert job.base_sha == payload["pull_request"]["base"]["sha"]
        assert job.comment_id == payload["comment"]["id"] and job.reply_text == payload["comment"]["body"]
