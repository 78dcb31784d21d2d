import json

import pytest
from fastapi.testclient import TestClient

from bot.app.server import BAD_SIGNATURE, ENQUEUE_FAILED, NOT_JSON, create_app
from bot.core.settings import Settings, SettingsError
from tests.support import webhooks as wh

SECRET = b"hook-secret"


class MemoryEnqueuer:
    """The durable queue's contract, in memory: same delivery id twice -> duplicate."""

    def __init__(self, fail=False):
        self.jobs = {}
        self.fail = fail
        self.is_ready = True

    async def enqueue(self, job):
        if self.fail:
            raise OSError("database is locked")
        if job.delivery_id in self.jobs:
            return "duplicate"
        self.jobs[job.delivery_id] = job
        return "accepted"

    async def ready(self):
        return self.is_ready


def make_client(enqueuer=None, secret="hook-secret", **overrides):
    settings = Settings(webhook_secrets=Settings.from_env({"GITHUB_WEBHOOK_SECRET": secret}).webhook_secrets,
                        github_app_id="1", **overrides)
    enq = enqueuer or MemoryEnqueuer()
    return TestClient(create_app(settings, enq)), enq


def post(client, event, payload, secret=SECRET, delivery=None, **header_overrides):
    body, headers = wh.signed(event, payload, secret, delivery=delivery)
    headers.update(header_overrides)
    return client.post("/webhook", content=body, headers=headers)


def test_a_signed_pull_request_is_enqueued_and_answered_202():
    client, enq = make_client()
    r = post(client, "pull_request", wh.pull_request(), delivery="g-1")
    assert r.status_code == 202 and r.json() == {"status": "accepted", "delivery": "g-1"}
    assert enq.jobs["g-1"].number == 7


def test_missing_or_wrong_signature_is_401_and_nothing_is_enqueued():
    client, enq = make_client()
    body, headers = wh.signed("pull_request", wh.pull_request(), b"wrong")
    assert client.post("/webhook", content=body, headers=headers).status_code == 401
    del headers["X-Hub-Signature-256"]
    r = client.post("/webhook", content=body, headers=headers)
    assert r.status_code == 401 and r.json()["reason"] == BAD_SIGNATURE
    assert enq.jobs == {}


def test_signature_is_checked_on_the_raw_bytes_not_reparsed_json():
    client, enq = make_client()
    raw = json.dumps(wh.pull_request(), indent=3).encode()
    body, headers = wh.signed("pull_request", raw, SECRET)
    assert client.post("/webhook", content=body, headers=headers).status_code == 202
    compact = json.dumps(json.loads(raw)).encode()
    assert client.post("/webhook", content=compact, headers=headers).status_code == 401


def test_rotating_secrets_accept_both():
    client, _ = make_client(secret="new-one,hook-secret")
    assert post(client, "pull_request", wh.pull_request(), secret=b"new-one").status_code == 202
    assert post(client, "pull_request", wh.pull_request(), secret=SECRET).status_code == 202


def test_oversized_body_is_413_by_content_length_and_by_counting():
    client, enq = make_client(max_webhook_bytes=1000)
    r = post(client, "pull_request", wh.pull_request(pad=5000))
    assert r.status_code == 413
    body, headers = wh.signed("pull_request", wh.pull_request(pad=5000), SECRET)

    def chunks():  # no Content-Length: streamed, must be counted
        for i in range(0, len(body), 256):
            yield body[i:i + 256]

    assert client.post("/webhook", content=chunks(), headers=headers).status_code == 413
    assert enq.jobs == {}


def test_lying_content_length_is_refused():
    client, _ = make_client(max_webhook_bytes=1000)
    r = post(client, "pull_request", wh.pull_request(), **{"Content-Length": "abc"})
    assert r.status_code in (400, 413)


def test_not_json_is_400():
    client, _ = make_client()
    for body in [b"payload=%7B%7D", b"[1,2]", b"{\"installation\": {\"id\": \"x\"}}", b"\xff\xfe"]:
        r = post(client, "pull_request", body)
        assert r.status_code == 400 and r.json()["reason"] == NOT_JSON


def test_unsubscribed_events_and_actions_are_202_with_a_reason():
    client, enq = make_client()
    r = post(client, "star", {"action": "created"})
    assert r.status_code == 202 and r.json()["status"] == "ignored" and "star" in r.json()["reason"]
    r = post(client, "pull_request", wh.pull_request("labeled"))
    assert r.status_code == 202 and "labeled" in r.json()["reason"]
    assert enq.jobs == {}


def test_redelivery_is_202_duplicate_and_not_enqueued_twice():
    client, enq = make_client()
    assert post(client, "pull_request", wh.pull_request(), delivery="g-2").json()["status"] == "accepted"
    r = post(client, "pull_request", wh.pull_request(), delivery="g-2")
    assert r.status_code == 202 and r.json()["status"] == "duplicate"
    assert list(enq.jobs) == ["g-2"]


def test_duplicate_known_only_to_the_durable_store_is_reported_as_duplicate():
    enq = MemoryEnqueuer()
    client_a, _ = make_client(enq)
    client_b, _ = make_client(enq)  # a second receiver process sharing the database
    post(client_a, "pull_request", wh.pull_request(), delivery="g-3")
    r = post(client_b, "pull_request", wh.pull_request(), delivery="g-3")
    assert r.status_code == 202 and r.json()["status"] == "duplicate"


def test_enqueue_failure_is_503_so_github_can_redeliver():
    client, _ = make_client(MemoryEnqueuer(fail=True))
    r = post(client, "pull_request", wh.pull_request(), delivery="g-4")
    assert r.status_code == 503 and r.json()["reason"] == ENQUEUE_FAILED


def test_failed_enqueue_is_not_remembered_as_seen():
    enq = MemoryEnqueuer(fail=True)
    client, _ = make_client(enq)
    assert post(client, "pull_request", wh.pull_request(), delivery="g-5").status_code == 503
    enq.fail = False
    assert post(client, "pull_request", wh.pull_request(), delivery="g-5").json()["status"] == "accepted"


def test_missing_delivery_id_or_event_is_400():
    client, _ = make_client()
    body, headers = wh.signed("pull_request", wh.pull_request(), SECRET)
    del headers["X-GitHub-Delivery"]
    assert client.post("/webhook", content=body, headers=headers).status_code == 400
    body, headers = wh.signed("pull_request", wh.pull_request(), SECRET)
    del headers["X-GitHub-Event"]
    assert client.post("/webhook", content=body, headers=headers).status_code == 400


def test_ping_is_answered_and_installation_logged():
    client, _ = make_client()
    r = post(client, "ping", wh.ping())
    assert r.status_code == 200 and r.json()["status"] == "pong"
    assert post(client, "installation", wh.installation()).json()["status"] == "logged"


def test_health_readiness_and_metrics():
    enq = MemoryEnqueuer()
    client, _ = make_client(enq)
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    enq.is_ready = False
    assert client.get("/readyz").status_code == 503
    post(client, "pull_request", wh.pull_request())
    post(client, "star", {})
    text = client.get("/metrics").text
    assert 'scale_review_webhook_deliveries_total{event="pull_request",status="accepted"} 1.0' in text
    assert 'status="ignored"' in text
    assert "scale_review_webhook_seconds_bucket" in text


def test_the_receiver_refuses_to_start_without_a_secret():
    with pytest.raises(SettingsError):
        create_app(Settings(), MemoryEnqueuer())
