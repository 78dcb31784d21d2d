"""Hostile: a captured signed body sent again under new delivery ids runs nothing twice.

GitHub signs the body only; `X-GitHub-Delivery` and `X-GitHub-Event` are the sender's to choose.
The durable enqueue keeps a hash of event + body for 24 hours beside the delivery id.
"""

from __future__ import annotations

import asyncio
from typing import Any

from dbos import DBOS
from fastapi.testclient import TestClient

from bot.app.replay_guard import WINDOW_SECONDS, body_key
from bot.app.runtime import current_runtime
from bot.app.server import REPLAYED, create_app
from tests.support import webhooks as wh
from tests.support.service import SECRET, app_settings, deliver, review_job, running_app, wait_result


def _head(gh: Any) -> str:
    return str(gh.store.repos[wh.REPO].pulls[7].head_sha)


def _resend(client: Any, event: str, body: bytes, signature: str, delivery: str) -> Any:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": signature}
    return client.post("/webhook", content=body, headers=headers)


def test_a_replayed_body_under_new_delivery_ids_reaches_github_once(fake_github, sqlite_backend):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    with running_app(settings) as enq:
        metrics = current_runtime().metrics
        with TestClient(create_app(settings, enq, metrics=metrics)) as client:
            body, headers = wh.signed("pull_request", wh.pull_request("opened", head=_head(gh)), SECRET.encode(),
                                      delivery="orig-1")
            assert client.post("/webhook", content=body, headers=headers).json()["status"] == "accepted"
            for n in range(5):
                r = _resend(client, "pull_request", body, headers["X-Hub-Signature-256"], f"replay-{n}")
                assert r.status_code == 202 and r.json() == {"status": "replay", "reason": REPLAYED,
                                                              "delivery": f"replay-{n}"}
            assert _resend(client, "pull_request", body, headers["X-Hub-Signature-256"], "orig-1").json()[
                "status"] == "duplicate"
            wait_result("orig-1")
        assert DBOS.list_workflows(workflow_id_prefix="replay-") == []
    assert gh.count("POST", r"/check-runs$") == 1
    assert len(gh.reviews(wh.REPO, 7)) == 1
    assert metrics.registry.get_sample_value("scale_review_webhook_deliveries_total",
                                             {"event": "pull_request", "status": "replay"}) == 5


def test_the_same_body_under_another_event_name_is_a_replay_too(fake_github, sqlite_backend):
    settings = app_settings(fake_github, sqlite_backend.url)
    with running_app(settings, worker=False) as enq, TestClient(create_app(settings, enq)) as client:
        payload = wh.pull_request("opened", head=_head(fake_github))
        assert deliver(client, "pull_request", payload, delivery="e-1").json()["status"] == "accepted"
        assert deliver(client, "pull_request", payload, delivery="e-2").json()["status"] == "replay"
        other = wh.pull_request("synchronize", head=_head(fake_github))
        assert deliver(client, "pull_request", other, delivery="e-3").json()["status"] == "accepted"


def test_a_burst_of_one_body_under_many_ids_stores_one_workflow(fake_github, backend):
    settings = app_settings(fake_github, backend.url)
    with running_app(settings, schema=backend.schema, worker=False) as enq:
        key = body_key("pull_request", b'{"same": "body"}')
        jobs = [review_job(f"burst-{i}", "a" * 40, body_key=key) for i in range(30)]

        async def burst() -> list[str]:
            return list(await asyncio.gather(*(enq.enqueue(j) for j in jobs)))

        outcomes = asyncio.run(burst())
        assert sorted(outcomes) == ["accepted"] + ["replay"] * 29
        assert len(DBOS.list_workflows(workflow_id_prefix="burst-")) == 1


def test_the_window_expires_and_the_store_stays_bounded(fake_github, backend):
    settings = app_settings(fake_github, backend.url)
    with running_app(settings, schema=backend.schema, worker=False) as enq:
        guard = enq.committer.guard
        assert guard is not None
        now = [1_000_000.0]
        guard.clock = lambda: now[0]
        assert enq.enqueue_now(review_job("w-1", "a" * 40, body_key="k1")) == "accepted"
        now[0] += WINDOW_SECONDS - 1
        assert enq.enqueue_now(review_job("w-2", "a" * 40, body_key="k1")) == "replay"
        for i in range(20):
            enq.enqueue_now(review_job(f"fill-{i}", "a" * 40, body_key=f"f{i}"))
        now[0] += 2  # the first sighting is now older than the window
        assert enq.enqueue_now(review_job("w-3", "a" * 40, body_key="k1")) == "accepted"
        now[0] += WINDOW_SECONDS + 120  # everything expired; the next write prunes
        enq.enqueue_now(review_job("w-4", "a" * 40, body_key="k2"))
        assert guard.count() == 1
