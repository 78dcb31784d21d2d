"""Prometheus metrics for the receiver and the worker, on a registry owned by the process (not global).

`Metrics(registry)` holds every metric; nothing registers on prometheus_client's default registry, so
tests build their own. Every label comes from a closed set, so no request can add series: `event` is
a subscribed event name only once the signature verified (`other` for anything else), `status`,
`outcome`, `stage`, `category`/`severity` and `kind` are fixed lists (`other` for a stray value),
`queue` is the queues the process registered, and there is no installation or repo label.
The queue gauges are read from DBOS's `workflow_status` table at scrape time (`watch_queue`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import handlers
from bot.core.model import Category, Severity

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
STAGES = ("load", "analyze", "specialist", "publish")
TOKEN_KINDS = {"input": "input_tokens", "output": "output_tokens", "cache_read": "cache_read_tokens",
               "cache_write": "cache_write_tokens"}
SIGNATURE_STATUS = 401
OTHER = "other"
# the events the App subscribes to (deploy/app-manifest.yml) and those GitHub sends every App
EVENTS = frozenset(handlers.HANDLERS)
DELIVERY_STATUSES = frozenset({"accepted", "duplicate", "replay", "ignored", "logged", "pong", "rejected", "error",
                               "unconfigured"})
REVIEW_OUTCOMES = frozenset({"success", "failure", "neutral", "superseded", "skipped", "error", "unauthorised",
                             "help", "invalid", "memory", "ignored", "answered", "unanswered", "accept", "dismiss",
                             "withdraw"})  # the last seven: replies under inline comments (bot.app.reply_flow)
QUEUE_SQL = "SELECT queue_name, COUNT(*), MIN(created_at) FROM {table} WHERE status = 'ENQUEUED' GROUP BY queue_name"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "scale_review_webhook_deliveries_total",
            "Webhook deliveries by event and outcome (accepted, duplicate, ignored, rejected, error, ...).",
            ["event", "status"], registry=r)
        self.signature_failures = Counter(
            "scale_review_webhook_signature_failures_total",
            "Deliveries refused because X-Hub-Signature-256 was missing or wrong.", registry=r)
        self.delivery_seconds = Histogram(
            "scale_review_webhook_seconds", "Time to answer a webhook delivery.", buckets=LATENCY_BUCKETS, registry=r)
        self.reviews = Counter(
            "scale_review_reviews_total",
            "Finished review workflows by outcome (success, failure, neutral, superseded, skipped, error).",
            ["outcome"], registry=r)
        self.stage_seconds = Histogram(
            "scale_review_review_stage_seconds", "Time spent in each stage of a review (load, analyze, specialist, "
            "publish), per durable step run.", ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.findings = Counter(
            "scale_review_findings_total", "Findings published in completed reviews, by category and severity.",
            ["category", "severity"], registry=r)
        self.github_calls = Counter(
            "scale_review_github_calls_total", "GitHub API calls made by reviews.", registry=r)
        self.rate_limit_remaining = Gauge(
            "scale_review_github_rate_limit_remaining",
            "x-ratelimit-remaining of the most recent GitHub response (any installation).", registry=r)
        self.model_tokens = Counter(
            "scale_review_model_tokens_total", "Model tokens used by the specialist, by kind "
            "(input, output, cache_read, cache_write).", ["kind"], registry=r)
        self.model_cost = Counter(
            "scale_review_model_cost_usd_total", "Estimated model spend in US dollars.", registry=r)

    @contextmanager
    def time_delivery(self) -> Iterator[Callable[..., None]]:
        """Times one delivery; call the yielded `record(event, status, code=None, verified=False)` once it
        is answered. The event names a series only when `verified` (the signature matched) and subscribed."""
        start = time.perf_counter()
        labels: list[tuple[str, str, int | None]] = []

        def record(event: str, status: str, code: int | None = None, verified: bool = False) -> None:
            labels.append((event if verified and event in EVENTS else OTHER, status, code))

        try:
            yield record
        finally:
            self.delivery_seconds.observe(time.perf_counter() - start)
            for event, status, code in labels:
                self.deliveries.labels(event=event, status=_bounded(status, DELIVERY_STATUSES)).inc()
                if code == SIGNATURE_STATUS:
                    self.signature_failures.inc()

    @contextmanager
    def time_stage(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds.labels(stage=_bounded(stage, STAGES)).observe(time.perf_counter() - start)

    def record_job(self, outcome: str, calls: int) -> None:
        """A finished job: its outcome (a closed set) and the GitHub calls it made."""
        self.reviews.labels(outcome=_bounded(outcome, REVIEW_OUTCOMES)).inc()
        if calls > 0:
            self.github_calls.inc(calls)

    def record_review(self, findings: Iterable[Any], stats: dict[str, Any]) -> None:
        """A completed review: its findings (objects with `.category`/`.severity`) and the model usage
        in `stats["specialist"]` (SpecialistResult.stats())."""
        categories = {c.value for c in Category}
        severities = {s.value for s in Severity}
        for finding in findings:
            category, severity = str(finding.category), str(finding.severity)
            self.findings.labels(category=_bounded(category, categories),
                                 severity=severity if severity in severities else "unknown").inc()
        usage = stats.get("specialist")
        if not isinstance(usage, dict):
            return
        for kind, key in TOKEN_KINDS.items():
            amount = usage.get(key)
            if isinstance(amount, int | float) and amount > 0:
                self.model_tokens.labels(kind=kind).inc(amount)
        cost = usage.get("cost_usd")
        if isinstance(cost, int | float) and cost > 0:
            self.model_cost.inc(cost)

    def record_rate_limit(self, remaining: int | None) -> None:
        if remaining is not None and remaining >= 0:
            self.rate_limit_remaining.set(remaining)

    def watch_queue(self, read: Callable[[], list[QueueStat]]) -> None:
        """Expose queue depth and the age of the oldest queued item, read at each scrape."""
        self.registry.register(_QueueCollector(read))


def _bounded(value: str, allowed: Iterable[str]) -> str:
    return value if value in allowed else OTHER


@dataclass(frozen=True)
class QueueStat:
    queue: str
    depth: int
    oldest_age_seconds: float


class _QueueCollector(Collector):
    def __init__(self, read: Callable[[], list[QueueStat]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("scale_review_queue_depth", "Workflows waiting in each DBOS queue.",
                                  labels=["queue"])
        age = GaugeMetricFamily("scale_review_queue_oldest_age_seconds",
                                "Age of the oldest workflow waiting in each DBOS queue.", labels=["queue"])
        up = GaugeMetricFamily("scale_review_queue_read_ok", "1 when the last scrape could read the queue table.")
        try:
            stats = self.read()
        except Exception:  # a scrape must never fail because the database is away
            stats = None
        up.add_metric([], 0.0 if stats is None else 1.0)
        for stat in stats or []:
            depth.add_metric([stat.queue], stat.depth)
            age.add_metric([stat.queue], stat.oldest_age_seconds)
        yield depth
        yield age
        yield up

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


def dbos_queue_reader(engine: sa.Engine, schema: str | None, queues: Iterable[str],
                      clock: Callable[[], float] = time.time) -> Callable[[], list[QueueStat]]:
    """One cheap grouped query on DBOS's workflow table (SQLite has no schema; PostgreSQL does)."""
    table = "workflow_status" if engine.dialect.name == "sqlite" else f'"{schema or "dbos"}".workflow_status'
    query = sa.text(QUEUE_SQL.format(table=table))
    names = tuple(queues)

    def read() -> list[QueueStat]:
        with engine.connect() as conn:
            rows = {str(q): (int(n), m) for q, n, m in conn.execute(query) if q}
        now_ms = clock() * 1000
        out = []
        for name in names:
            depth, oldest = rows.get(name, (0, None))
            out.append(QueueStat(name, depth, max(0.0, (now_ms - int(oldest)) / 1000) if oldest else 0.0))
        return out

    return read
