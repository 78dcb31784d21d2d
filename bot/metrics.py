"""Prometheus metrics for the receiver and the worker, on a registry owned by the process (not global)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.deliveries = Counter(
            "scale_review_webhook_deliveries_total",
            "Webhook deliveries by event and outcome (accepted, duplicate, ignored, rejected, error, ...).",
            ["event", "status"],
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "scale_review_webhook_seconds",
            "Time to answer a webhook delivery.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.reviews = Counter(
            "scale_review_reviews_total",
            "Finished review workflows by outcome (success, failure, neutral, superseded, skipped, error).",
            ["outcome"],
            registry=self.registry,
        )
        self.github_calls = Counter(
            "scale_review_github_calls_total", "GitHub API calls made by reviews.", registry=self.registry
        )

    @contextmanager
    def time_delivery(self) -> Iterator[Callable[[str, str], None]]:
        start = time.perf_counter()
        labels: list[tuple[str, str]] = []

        def record(event: str, status: str) -> None:
            labels.append((event if event.isidentifier() else "other", status))

        try:
            yield record
        finally:
            self.delivery_seconds.observe(time.perf_counter() - start)
            for event, status in labels:
                self.deliveries.labels(event=event[:40], status=status).inc()
