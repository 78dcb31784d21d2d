"""The webhook receiver (FastAPI): verify, decide, durably enqueue, answer 202. No outbound calls.

`create_app(settings, enqueuer)` builds the app; the enqueuer (bot.app.workflows.DbosEnqueuer in
production) is passed in so tests and benchmarks can swap the durable store.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

import handlers
from bot.app import tracing
from bot.app.metrics import Metrics
from bot.app.replay_guard import body_key
from bot.core.jobs import Ignored, Job
from bot.core.security import verify_signature
from bot.core.settings import Settings, SettingsError
from handlers.context import Delivery
from handlers.payloads import Envelope

log = structlog.get_logger("scale_review.receiver")

Outcome = Literal["accepted", "duplicate", "replay"]

BAD_SIGNATURE = "missing or invalid X-Hub-Signature-256"
TOO_LARGE = "payload is over the {limit:,}-byte limit"
NOT_JSON = "body is not a JSON webhook payload"
NO_DELIVERY_ID = "missing X-GitHub-Delivery"
NO_EVENT = "missing X-GitHub-Event"
ENQUEUE_FAILED = "could not store the delivery durably; redeliver it later"
REPLAYED = "this event and body were already received under another delivery id"
DUPLICATE = "delivery already received"
SEEN_CACHE_SIZE = 10_000
MAX_DELIVERY_ID = 200


class Enqueuer(Protocol):
    """The durable queue as the receiver sees it."""

    async def enqueue(self, job: Job) -> Outcome: ...

    async def ready(self) -> bool: ...


class _BodyTooLarge(Exception):
    pass


@dataclass
class _SeenDeliveries:
    """Delivery ids this process stored recently: a redelivery is answered without a database write.

    The durable store stays the authority (another process may have stored the id): this is only a
    fast path for the common case of GitHub's "Redeliver" hitting the same process.
    """

    capacity: int = SEEN_CACHE_SIZE

    def __post_init__(self) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, delivery_id: str) -> bool:
        return delivery_id in self._ids

    def add(self, delivery_id: str) -> None:
        self._ids[delivery_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


@dataclass(frozen=True)
class Answer:
    code: int
    status: str
    reason: str = ""
    delivery: str = ""
    verified: bool = False  # the signature matched: only then may the event name a metrics series

    def response(self) -> JSONResponse:
        body = {"status": self.status}
        if self.reason:
            body["reason"] = self.reason
        if self.delivery:
            body["delivery"] = self.delivery
        return JSONResponse(body, status_code=self.code)


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes whatever Content-Length claimed."""
    declared = request.headers.get("content-length")
    if declared is not None and (not (declared.isascii() and declared.isdigit()) or int(declared) > limit):
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class Receiver:
    """POST /webhook: verify, decide, enqueue. Holds the secrets, the enqueuer and the seen-ids cache."""

    def __init__(self, settings: Settings, enqueuer: Enqueuer, metrics: Metrics) -> None:
        self.secrets = settings.secret_bytes()
        if not self.secrets:
            raise SettingsError(["GITHUB_WEBHOOK_SECRET is not set (the receiver refuses unsigned deliveries)"])
        self.app_id = settings.github_app_id
        self.limit = settings.max_webhook_bytes
        self.enqueuer = enqueuer
        self.metrics = metrics
        self.seen = _SeenDeliveries()

    async def receive(self, request: Request) -> Answer:
        try:
            body = await _read_body(request, self.limit)
        except _BodyTooLarge:
            return Answer(413, "rejected", TOO_LARGE.format(limit=self.limit))
        if not verify_signature(body, request.headers.get("x-hub-signature-256"), self.secrets):
            return Answer(401, "rejected", BAD_SIGNATURE)
        return replace(await self.receive_verified(request, body), verified=True)

    async def receive_verified(self, request: Request, body: bytes) -> Answer:
        event = request.headers.get("x-github-event", "")
        delivery_id = request.headers.get("x-github-delivery", "")
        if not event:
            return Answer(400, "rejected", NO_EVENT)
        if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID:
            return Answer(400, "rejected", NO_DELIVERY_ID)
        if delivery_id in self.seen:  # a redelivery this process stored: no need to parse it again
            return Answer(202, "duplicate", DUPLICATE, delivery=delivery_id)
        if not handlers.is_subscribed(event):
            return Answer(202, "ignored", f"event '{event[:60]}' is not handled")
        try:
            envelope = Envelope.parse(body)
        except ValidationError:
            return Answer(400, "rejected", NOT_JSON)
        decision = handlers.dispatch(Delivery(event, delivery_id, self.app_id), envelope)
        if isinstance(decision, Ignored):
            if decision.status != "ignored":
                log.info("webhook." + decision.status, delivery_id=delivery_id, github_event=event, **decision.fields)
            return Answer(200 if decision.status == "pong" else 202, decision.status, decision.reason)
        return await self.enqueue(replace(decision, body_key=body_key(event, body)), event)

    async def enqueue(self, job: Job, event: str) -> Answer:
        if job.delivery_id in self.seen:
            return Answer(202, "duplicate", DUPLICATE, delivery=job.delivery_id)
        try:
            outcome = await self.enqueuer.enqueue(job)
        except Exception as exc:  # any storage failure: GitHub shows the delivery failed; redeliver later
            log.error("webhook.enqueue_failed", delivery_id=job.delivery_id, error=type(exc).__name__)
            return Answer(503, "error", ENQUEUE_FAILED)
        if outcome != "replay":
            self.seen.add(job.delivery_id)
        log.info("webhook." + outcome, delivery_id=job.delivery_id, github_event=event, repo=job.repo,
                 pr=job.number, kind=job.kind)
        reason = {"duplicate": DUPLICATE, "replay": REPLAYED}.get(outcome, "")
        return Answer(202, outcome, reason, delivery=job.delivery_id)


def create_app(settings: Settings, enqueuer: Enqueuer, *, metrics: Metrics | None = None) -> FastAPI:
    """The receiver app. Refuses to build without a webhook secret."""
    meter = metrics or Metrics()
    receiver = Receiver(settings, enqueuer, meter)
    app = FastAPI(title="scale-review", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/webhook")
    async def webhook(request: Request) -> JSONResponse:
        event = request.headers.get("x-github-event", "")
        with meter.time_delivery() as record, tracing.span("webhook", github_event=event[:40]) as current:
            answer = await receiver.receive(request)
            record(event, answer.status, answer.code, answer.verified)
            if current is not None:
                current.set_attribute("http.status_code", answer.code)
                current.set_attribute("scale_review.status", answer.status)
        return answer.response()

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return Answer(200, "ok").response()

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            ok = await enqueuer.ready()
        except Exception:
            ok = False
        answer = Answer(200, "ready") if ok else Answer(503, "unavailable", "database unreachable")
        return answer.response()

    if settings.metrics_port is None:  # else only on their own port (`serve` starts it)
        @app.get(settings.metrics_path)
        async def metrics_endpoint() -> PlainTextResponse:
            return PlainTextResponse(generate_latest(meter.registry), media_type=CONTENT_TYPE_LATEST)

    return app
