"""Hostile: nobody can grow /metrics from the outside, and /metrics can leave the public listener.

An unsigned request's headers are the attacker's: its event name must never become a label. Every
label set of bot/app/metrics.py is closed, whatever value reaches it.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from bot.app.metrics import DELIVERY_STATUSES, EVENTS, REVIEW_OUTCOMES, STAGES, Metrics
from bot.app.server import create_app
from bot.core.model import Category, Severity
from bot.core.settings import BAD_METRICS_PATH, Settings, SettingsError
from tests.support import webhooks as wh

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"hook-secret"
ALWAYS_SENT = {"ping", "installation", "installation_repositories"}  # GitHub sends these to every App


class Memory:
    def __init__(self) -> None:
        self.jobs: dict[str, object] = {}

    async def enqueue(self, job: object) -> str:
        self.jobs[getattr(job, "delivery_id")] = job
        return "accepted"

    async def ready(self) -> bool:
        return True


def _settings(**overrides: object) -> Settings:
    return Settings(webhook_secrets=Settings.from_env({"GITHUB_WEBHOOK_SECRET": SECRET.decode()}).webhook_secrets,
                    github_app_id="1", **overrides)  # type: ignore[arg-type]


def _series(metrics: Metrics, name: str) -> list[dict[str, str]]:
    return [s.labels for family in metrics.registry.collect() for s in family.samples if s.name == name]


def _random_event(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase + "_") for _ in range(rng.randint(3, 30)))


def test_three_thousand_unsigned_posts_with_random_events_add_no_series() -> None:
    metrics = Metrics(CollectorRegistry())
    rng = random.Random(14)
    with TestClient(create_app(_settings(), Memory(), metrics=metrics)) as client:
        for n in range(3000):
            body, headers = wh.signed("pull_request", wh.pull_request(), b"not-the-secret", delivery=f"u-{n}")
            headers["X-GitHub-Event"] = _random_event(rng) if n % 3 else "pull_request"
            assert client.post("/webhook", content=body, headers=headers).status_code == 401
    series = _series(metrics, "scale_review_webhook_deliveries_total")
    assert series == [{"event": "other", "status": "rejected"}]
    assert metrics.registry.get_sample_value("scale_review_webhook_deliveries_total",
                                             {"event": "other", "status": "rejected"}) == 3000


def test_signed_deliveries_of_unsubscribed_events_share_one_series() -> None:
    metrics = Metrics(CollectorRegistry())
    rng = random.Random(7)
    with TestClient(create_app(_settings(), Memory(), metrics=metrics)) as client:
        for n in range(300):
            body, headers = wh.signed(_random_event(rng), {"zen": "x"}, SECRET, delivery=f"s-{n}")
            assert client.post("/webhook", content=body, headers=headers).status_code == 202
        body, headers = wh.signed("pull_request", wh.pull_request(), SECRET, delivery="real")
        assert client.post("/webhook", content=body, headers=headers).status_code == 202
    series = _series(metrics, "scale_review_webhook_deliveries_total")
    assert {"event": "other", "status": "ignored"} in series
    assert {"event": "pull_request", "status": "accepted"} in series
    assert len(series) == 2


def test_labelled_events_are_the_manifest_subscriptions_and_what_github_always_sends() -> None:
    manifest = yaml.safe_load((ROOT / "deploy" / "app-manifest.yml").read_text())
    assert set(EVENTS) == set(manifest["default_events"]) | ALWAYS_SENT


def test_every_label_set_is_closed_whatever_reaches_it() -> None:
    metrics = Metrics(CollectorRegistry())
    rng = random.Random(3)
    strays = [_random_event(rng) for _ in range(200)]
    for stray in strays:
        with metrics.time_delivery() as record:
            record(stray, stray, 202, True)
        with metrics.time_stage(stray):
            pass
        metrics.record_job(stray, 1)
        finding = type("F", (), {"category": stray, "severity": stray})()
        metrics.record_review([finding], {})
    assert {s["status"] for s in _series(metrics, "scale_review_webhook_deliveries_total")} <= DELIVERY_STATUSES | {
        "other"}
    assert {s["event"] for s in _series(metrics, "scale_review_webhook_deliveries_total")} == {"other"}
    assert {s["stage"] for s in _series(metrics, "scale_review_review_stage_seconds_count")} <= set(STAGES) | {"other"}
    assert {s["outcome"] for s in _series(metrics, "scale_review_reviews_total")} <= REVIEW_OUTCOMES | {"other"}
    findings = _series(metrics, "scale_review_findings_total")
    assert {s["category"] for s in findings} <= {c.value for c in Category} | {"other"}
    assert {s["severity"] for s in findings} <= {s.value for s in Severity} | {"unknown"}
    total_series = sum(len(list(f.samples)) for f in metrics.registry.collect())
    assert total_series < 120  # 200 distinct stray values each way, yet a fixed handful of series


def test_metrics_can_move_to_another_path_on_the_main_listener() -> None:
    settings = Settings.from_env({"GITHUB_WEBHOOK_SECRET": "s", "SCALE_REVIEW_METRICS_PATH": "/internal/prom"})
    with TestClient(create_app(settings, Memory())) as client:
        assert client.get("/metrics").status_code == 404
        assert "scale_review_webhook_seconds" in client.get("/internal/prom").text


def test_with_a_metrics_port_the_main_listener_serves_no_metrics() -> None:
    settings = Settings.from_env({"GITHUB_WEBHOOK_SECRET": "s", "SCALE_REVIEW_METRICS_PORT": "9102"})
    assert settings.metrics_port == 9102
    with TestClient(create_app(settings, Memory())) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/healthz").status_code == 200


def test_by_default_metrics_stay_where_the_contract_says() -> None:
    with TestClient(create_app(_settings(), Memory())) as client:
        assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("path", ["metrics", "/webhook", "/healthz/", "/a b", "/" + "x" * 200])
def test_a_metrics_path_that_would_shadow_or_break_a_route_is_refused(path: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"SCALE_REVIEW_METRICS_PATH": path})
    assert BAD_METRICS_PATH.split("=")[0] in str(err.value)


def test_serve_with_a_metrics_port_keeps_metrics_off_the_webhook_port(fake_github, tmp_path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    gh = fake_github
    web, metrics = free_port(), free_port()
    env = {**os.environ, "GITHUB_APP_ID": str(gh.app_id), "GITHUB_PRIVATE_KEY": gh.private_key_pem,
           "GITHUB_WEBHOOK_SECRET": "s", "GITHUB_API_URL": gh.url, "DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
           "SCALE_REVIEW_METRICS_PORT": str(metrics)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(web), "--no-worker",
                             "--no-redeliver", "--env-file", str(tmp_path / "none.env")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{web}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{web}/metrics", timeout=5).status_code == 404
        scraped = httpx.get(f"http://127.0.0.1:{metrics}/metrics", timeout=5)
        assert scraped.status_code == 200 and "scale_review_webhook_seconds" in scraped.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
