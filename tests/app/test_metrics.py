"""/metrics after real deliveries and a real review through the fake GitHub: the numbers an operator alerts on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.app import workflows
from bot.app.metrics import Metrics, QueueStat, dbos_queue_reader
from bot.app.runtime import current_runtime
from bot.app.server import create_app
from bot.core.model import Category, Finding, Severity
from tests.support import webhooks as wh
from tests.support.fakemodel import FakeModel, Reply, tool
from tests.support.service import SECRET, app_settings, deliver, review_job, running_app, wait_result

QUEUES = (workflows.PR_QUEUE, workflows.INSTALLATION_QUEUE)


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@contextmanager
def app_with_metrics(settings: Any, **kwargs: Any) -> Iterator[tuple[Any, Any]]:
    """The App and its receiver sharing the worker runtime's metrics, as `serve` wires them."""
    with running_app(settings, **kwargs) as enq:
        metrics = current_runtime().metrics
        metrics.watch_queue(dbos_queue_reader(enq.committer.engine, kwargs.get("schema"), QUEUES))
        with TestClient(create_app(settings, enq, metrics=metrics)) as client:
            yield enq, client


def head_of(gh: Any) -> str:
    return gh.store.repos[wh.REPO].pulls[7].head_sha


def test_a_review_end_to_end_shows_in_metrics(fake_github, sqlite_backend):
    gh = fake_github
    model = FakeModel([Reply([tool("finish_review", summary="Nothing more.")])])
    settings = app_settings(gh, sqlite_backend.url)
    with app_with_metrics(settings, model_client=model.client()) as (_enq, client):
        payload = wh.pull_request("opened", head=head_of(gh))
        assert deliver(client, "pull_request", payload, delivery="m-1").status_code == 202
        assert deliver(client, "pull_request", payload, delivery="m-1").json()["status"] == "duplicate"
        bad_body, bad_headers = wh.signed("pull_request", payload, b"wrong-secret", delivery="m-bad")
        assert client.post("/webhook", content=bad_body, headers=bad_headers).status_code == 401
        assert deliver(client, "installation", wh.installation(), delivery="m-ign").status_code in (200, 202)
        result = wait_result("m-1")
        samples = scrape(client)
    assert value(samples, "scale_review_webhook_deliveries_total", event="pull_request", status="accepted") == 1
    assert value(samples, "scale_review_webhook_deliveries_total", event="pull_request", status="duplicate") == 1
    assert value(samples, "scale_review_webhook_deliveries_total", event="other", status="rejected") == 1  # unsigned
    assert value(samples, "scale_review_webhook_signature_failures_total") == 1
    assert value(samples, "scale_review_reviews_total", outcome=result["outcome"]) == 1
    assert value(samples, "scale_review_github_calls_total") == result["calls"] > 0
    # the fake's change holds a query in a loop and an HTTP call without a timeout
    findings = {labels: v for (name, labels), v in samples.items() if name == "scale_review_findings_total"}
    assert sum(findings.values()) == len(result["findings"]) >= 2
    assert value(samples, "scale_review_findings_total", category="missing_timeout", severity="medium") + value(
        samples, "scale_review_findings_total", category="missing_timeout", severity="high") >= 1
    for stage in ("load", "analyze", "specialist", "publish"):
        assert value(samples, "scale_review_review_stage_seconds_count", stage=stage) >= 1, stage
    remaining = value(samples, "scale_review_github_rate_limit_remaining")
    assert 0 < remaining < gh.rate_limit
    usage = {k: sum(u[k] for u in model.usages) for k in model.usages[0]}
    assert value(samples, "scale_review_model_tokens_total", kind="input") == usage["input_tokens"]
    assert value(samples, "scale_review_model_tokens_total", kind="output") == usage["output_tokens"] > 0
    assert value(samples, "scale_review_model_tokens_total", kind="cache_write") == usage["cache_creation_input_tokens"]
    assert value(samples, "scale_review_model_tokens_total", kind="cache_read") == usage["cache_read_input_tokens"]
    assert value(samples, "scale_review_model_cost_usd_total") > 0
    assert value(samples, "scale_review_queue_read_ok") == 1
    assert value(samples, "scale_review_queue_depth", queue=workflows.PR_QUEUE) == 0


def test_queue_depth_and_age_count_what_waits(fake_github, backend):
    gh = fake_github
    settings = app_settings(gh, backend.url)
    now = [0.0]
    with running_app(settings, schema=backend.schema, worker=False) as enq:
        for n in range(3):
            enq.enqueue_now(review_job(f"q-{n}", head_of(gh), number=7 + n))
        reader = dbos_queue_reader(enq.committer.engine, backend.schema, QUEUES, clock=lambda: now[0])
        import time

        now[0] = time.time() + 30
        stats = {s.queue: s for s in reader()}
    assert stats[workflows.PR_QUEUE].depth == 3
    assert 30 <= stats[workflows.PR_QUEUE].oldest_age_seconds < 90
    assert stats[workflows.INSTALLATION_QUEUE] == QueueStat(workflows.INSTALLATION_QUEUE, 0, 0.0)


def test_a_scrape_survives_an_unreadable_queue():
    metrics = Metrics(CollectorRegistry())

    def broken() -> list[QueueStat]:
        raise OSError("database is away")

    metrics.watch_queue(broken)
    from prometheus_client import generate_latest

    text = generate_latest(metrics.registry).decode()
    assert "scale_review_queue_read_ok 0.0" in text


def test_model_usage_and_findings_are_counted_with_bounded_labels():
    metrics = Metrics(CollectorRegistry())
    finding = Finding(id="SR1", category=Category.n_plus_one, severity=Severity.high, path="a.py",
                      start_line=1, end_line=1, title="t", evidence="e", risk="r", rollback="r", monitoring="m",
                      source="static")
    stats = {"specialist": {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 50,
                            "cache_write_tokens": 0, "cost_usd": 0.0125}}
    metrics.record_review([finding, finding], stats)
    metrics.record_review([], {"specialist": "not a dict"})
    from prometheus_client import generate_latest

    samples = {}
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert value(samples, "scale_review_findings_total", category="n_plus_one", severity="high") == 2
    assert value(samples, "scale_review_model_tokens_total", kind="input") == 1200
    assert value(samples, "scale_review_model_tokens_total", kind="cache_read") == 50
    assert ("scale_review_model_tokens_total", (("kind", "cache_write"),)) not in samples
    assert abs(value(samples, "scale_review_model_cost_usd_total") - 0.0125) < 1e-9


def test_each_metrics_object_has_its_own_registry():
    first, second = Metrics(), Metrics()
    first.signature_failures.inc()
    assert first.registry is not second.registry
    assert second.registry.get_sample_value("scale_review_webhook_signature_failures_total") == 0
    assert first.registry.get_sample_value("scale_review_webhook_signature_failures_total") == 1


def test_hostile_event_names_do_not_create_unbounded_labels():
    metrics = Metrics(CollectorRegistry())
    with metrics.time_delivery() as record:
        record("x" * 500, "ignored", 202, True)
    with metrics.time_delivery() as record:
        record("../../etc\n", "rejected", 401)
    assert metrics.registry.get_sample_value("scale_review_webhook_deliveries_total",
                                             {"event": "other", "status": "ignored"}) == 1
    assert metrics.registry.get_sample_value("scale_review_webhook_deliveries_total",
                                             {"event": "other", "status": "rejected"}) == 1
    assert SECRET not in str(metrics.registry.collect())


def test_a_worker_process_serves_its_metrics_when_asked(fake_github, tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    gh = fake_github
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GITHUB_APP_ID": str(gh.app_id), "GITHUB_PRIVATE_KEY": gh.private_key_pem,
           "GITHUB_API_URL": gh.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--metrics-port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        text = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "scale_review_review_stage_seconds" not in text:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except httpx.HTTPError:
                time.sleep(0.2)
        assert "# TYPE scale_review_review_stage_seconds histogram" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
