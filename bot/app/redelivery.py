"""Nothing lost while down: ask GitHub to redeliver the App's recent failed webhook deliveries.

GitHub does not retry a failed delivery by itself; it keeps every attempt for 3 days and lets the App
list them (`GET /app/hook/deliveries`, App JWT, newest first, cursor pages) and redeliver one
(`POST /app/hook/deliveries/{id}/attempts`). A GUID is redelivered when none of its attempts in the
window succeeded; the receiver's idempotency (workflow id = GUID) makes a second redelivery a
harmless `202 duplicate`.

    report = redeliver_failed(gateway_factory, since=time.time() - 3600, dry_run=False)
    report.lines(), report.ok

`run_periodically(...)` repeats it on a timer for the `serve` loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import structlog

from bot.github.retry import GitHubError
from bot.github.transport import next_link, split_link

log = structlog.get_logger("scale_review.redelivery")

WINDOW_SECONDS = 3 * 24 * 3600  # GitHub keeps deliveries for 3 days; older ones cannot be redelivered
MAX_PAGES = 50  # 5,000 attempts per run
MAX_REDELIVERIES = 500  # per run; the rest wait for the next run
PER_PAGE = 100
DELIVERIES_PATH = "/app/hook/deliveries"

LINE = "{outcome:<16} {guid}  {event}{action}  first failed {delivered_at} (HTTP {status})"
LINE_ERROR = "  {error}"
TOTAL = ("{verb} {count} of {failed} failed deliveries since {since} ({skipped} already delivered later, "
         "{errors} redelivery errors)")
TRUNCATED = "listing stopped after {pages} pages; run again for older deliveries"

Outcome = Literal["redelivered", "would redeliver", "failed", "over budget"]


class DeliveryGateway(Protocol):
    """What redelivery needs from the GitHub gateway (bot.github.client.GitHubGateway has all three)."""

    api_url: str

    def app_request(self, verb: str, path: str, **params: Any) -> tuple[dict[str, Any], Any]: ...

    def redeliver(self, delivery_id: int) -> None: ...


@dataclass(frozen=True)
class Attempt:
    id: int
    guid: str
    event: str
    action: str
    status_code: int
    delivered_at: str

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Attempt:
        return cls(int(d["id"]), str(d.get("guid") or ""), str(d.get("event") or ""), str(d.get("action") or ""),
                   int(d.get("status_code") or 0), str(d.get("delivered_at") or ""))


@dataclass(frozen=True)
class RedeliveryItem:
    attempt: Attempt  # the GUID's newest failed attempt (the one asked to be redelivered)
    outcome: Outcome
    error: str = ""

    def line(self) -> str:
        a = self.attempt
        text = LINE.format(outcome=self.outcome, guid=a.guid, event=a.event, action=f".{a.action}" if a.action else "",
                           delivered_at=a.delivered_at, status=a.status_code or "none")
        return text + ("\n" + LINE_ERROR.format(error=self.error) if self.error else "")


@dataclass
class RedeliveryReport:
    since: float
    dry_run: bool
    items: list[RedeliveryItem] = field(default_factory=list)
    scanned: int = 0  # attempts listed within the window
    skipped: int = 0  # GUIDs that failed once but were delivered by a later attempt
    truncated: bool = False  # the page budget ran out before the window's start

    @property
    def failures(self) -> list[RedeliveryItem]:
        return [i for i in self.items if i.outcome == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def total(self) -> str:
        done = sum(1 for i in self.items if i.outcome in ("redelivered", "would redeliver"))
        since = datetime.fromtimestamp(self.since).astimezone().strftime("%Y-%m-%d %H:%M %Z")
        return TOTAL.format(verb="would redeliver" if self.dry_run else "redelivered", count=done,
                            failed=len(self.items), since=since, skipped=self.skipped, errors=len(self.failures))

    def lines(self) -> list[str]:
        out = [i.line() for i in self.items]
        if self.truncated:
            out.append(TRUNCATED.format(pages=MAX_PAGES))
        return [*out, self.total()]


def _epoch(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def list_attempts(gateway: DeliveryGateway, since: float, max_pages: int = MAX_PAGES) -> tuple[list[Attempt], bool]:
    """Every delivery attempt newer than `since`, newest first; True when the page budget ran out."""
    attempts: list[Attempt] = []
    path: str | None = DELIVERIES_PATH
    params: dict[str, Any] = {"per_page": PER_PAGE}
    for _ in range(max_pages):
        headers, items = gateway.app_request("GET", path or DELIVERIES_PATH, **params)
        for raw in items or []:
            attempt = Attempt.from_api(raw)
            if _epoch(attempt.delivered_at) < since:
                return attempts, False
            attempts.append(attempt)
        path, params = split_link(next_link((headers or {}).get("link", ""), gateway.api_url))
        if path is None:
            return attempts, False
    return attempts, True


def to_redeliver(attempts: list[Attempt]) -> tuple[list[Attempt], int]:
    """The newest failed attempt of each GUID that no attempt delivered, oldest first; and how many GUIDs
    failed once but were delivered later (skipped)."""
    delivered = {a.guid for a in attempts if a.succeeded}
    newest_failed: dict[str, Attempt] = {}
    for a in attempts:  # newest first: the first failure seen per GUID is its newest
        if not a.succeeded and a.guid not in newest_failed:
            newest_failed[a.guid] = a
    pending = [a for guid, a in newest_failed.items() if guid not in delivered]
    skipped = len(newest_failed) - len(pending)
    return sorted(pending, key=lambda a: (_epoch(a.delivered_at), a.id)), skipped


def redeliver_failed(gateway_factory: Callable[[], DeliveryGateway], since: float, dry_run: bool = False, *,
                     now: Callable[[], float] = time.time, max_pages: int = MAX_PAGES,
                     max_redeliveries: int = MAX_REDELIVERIES) -> RedeliveryReport:
    """List failed deliveries since `since` (epoch seconds, clamped to GitHub's 3-day window) and ask
    GitHub to redeliver each GUID not delivered since. A listing failure raises GitHubError; a failed
    redelivery is reported in its item."""
    since = max(since, now() - WINDOW_SECONDS)
    gateway = gateway_factory()
    attempts, truncated = list_attempts(gateway, since, max_pages)
    pending, skipped = to_redeliver(attempts)
    report = RedeliveryReport(since, dry_run, scanned=len(attempts), skipped=skipped, truncated=truncated)
    for index, attempt in enumerate(pending):
        if dry_run:
            report.items.append(RedeliveryItem(attempt, "would redeliver"))
        elif index >= max_redeliveries:
            report.items.append(RedeliveryItem(attempt, "over budget"))
        else:
            report.items.append(_redeliver_one(gateway, attempt))
    log.info("redelivery.run", since=since, scanned=report.scanned, failed=len(pending), skipped=skipped,
             errors=len(report.failures), dry_run=dry_run)
    return report


def _redeliver_one(gateway: DeliveryGateway, attempt: Attempt) -> RedeliveryItem:
    try:
        gateway.redeliver(attempt.id)
    except GitHubError as exc:
        log.warning("redelivery.failed", guid=attempt.guid, delivery=attempt.id, error=str(exc))
        return RedeliveryItem(attempt, "failed", str(exc))
    log.info("redelivery.asked", guid=attempt.guid, delivery=attempt.id, github_event=attempt.event)
    return RedeliveryItem(attempt, "redelivered")


def run_periodically(gateway_factory: Callable[[], DeliveryGateway], stop: threading.Event, *,
                     every_seconds: float = 600, lookback_seconds: float = 3600, first_after_seconds: float = 30,
                     max_runs: int = 10**9, now: Callable[[], float] = time.time) -> int:
    """Redeliver soon after start (what failed while the App was down; `first_after_seconds` lets the
    receiver start listening first), then every `every_seconds`, until `stop` is set. For a thread inside
    `serve`; returns the runs made. Each run looks back `lookback_seconds` (longer than the period)."""
    runs = 0
    if stop.wait(first_after_seconds):
        return runs
    for _ in range(max_runs):
        try:
            redeliver_failed(gateway_factory, now() - lookback_seconds, now=now)
        except GitHubError as exc:  # GitHub unreachable or the key refused: try again next period
            log.warning("redelivery.listing_failed", error=str(exc))
        runs += 1
        if stop.wait(every_seconds):
            break
    return runs
