"""The webhook receiver under generated requests (hypothesis), driven as raw ASGI so that headers,
body chunks and a lying Content-Length are all ours to choose.

Promises: never a 5xx except the documented 503 when the durable store fails; nothing is enqueued
without a valid signature; a job is enqueued exactly when the answer says `accepted`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app.server import ENQUEUE_FAILED, create_app
from bot.core.jobs import Job
from bot.core.settings import Settings, parse_secrets
from handlers import HANDLERS
from tests.support import webhooks as wh

SECRET = b"fuzz-secret"
LIMIT = 4096
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EVENTS = sorted(HANDLERS)


class Store:
    """In-memory durable queue; `fail` makes every enqueue raise like a locked database."""

    def __init__(self, fail: bool = False) -> None:
        self.jobs: list[Job] = []
        self.fail = fail

    async def enqueue(self, job: Job) -> Any:
        if self.fail:
            raise OSError("database is locked")
        if any(j.delivery_id == job.delivery_id for j in self.jobs):
            return "duplicate"
        self.jobs.append(job)
        return "accepted"

    async def ready(self) -> bool:
        return True


def make(fail: bool = False) -> tuple[Any, Store]:
    store = Store(fail)
    conf = Settings(webhook_secrets=parse_secrets(SECRET.decode()), github_app_id="1", max_webhook_bytes=LIMIT)
    return create_app(conf, store), store


APP, STORE = make()
FAILING_APP, FAILING_STORE = make(fail=True)


def call(app: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, dict[str, Any]]:
    """One POST /webhook through the ASGI app; an exception escaping the app counts as a 500."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/webhook", "raw_path": b"/webhook", "query_string": b"", "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    incoming = incoming or [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        asyncio.run(app(scope, receive, send))
    except Exception:
        return 500, {}
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body) if body else {}


def sign(body: bytes, secret: bytes = SECRET) -> bytes:
    return b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode()


def header_bytes() -> st.SearchStrategy[bytes]:
    """Header values as bytes: ASCII, UTF-8 unicode, or arbitrary (no CR/LF, which no server passes on)."""
    text = st.text(max_size=80).map(lambda s: s.encode("utf-8"))
    raw = st.binary(max_size=80)
    return st.one_of(text, raw).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


ids = st.one_of(st.uuids().map(lambda u: str(u).encode()), header_bytes(), st.just(b""), st.just(b"x" * 300))
event_names = st.one_of(st.sampled_from(EVENTS).map(str.encode), header_bytes())
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False), st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=20)


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    """A real payload shape with fields replaced by anything: the handlers' typed edge is what is tested."""
    base = draw(st.sampled_from([
        wh.pull_request(draw(st.sampled_from(["opened", "synchronize", "closed", "labeled"]))),
        wh.issue_comment(draw(st.sampled_from(["/scale-review", "/scale-review accept F-1 ok", "hi"]))),
        wh.check_run(draw(st.sampled_from(["rerequested", "requested_action"])), identifier="accept"),
        wh.check_suite("requested"), wh.installation(), wh.ping(),
    ]))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.lists(st.sampled_from(["action", "number", "pull_request", "head", "sha", "installation",
                                             "id", "repository", "full_name", "issue", "comment", "body", "user",
                                             "type", "check_run", "external_id", "pull_requests", "name",
                                             "requested_action", "identifier", "draft", "state"]),
                             min_size=1, max_size=3))
        _set(base, path, draw(json_values))
    return base


def _set(node: Any, path: list[str], value: Any) -> None:
    for key in path[:-1]:
        if not isinstance(node, dict):
            return
        node = node.setdefault(key, {})
    if isinstance(node, dict):
        node[path[-1]] = value


def deep(depth: int) -> bytes:
    return b'{"action": ' + b"[" * depth + b"]" * depth + b"}"


def encodings(payload: dict[str, Any]) -> st.SearchStrategy[bytes]:
    text = json.dumps(payload, ensure_ascii=False)
    return st.sampled_from([text.encode("utf-8"), text.encode("utf-16"), text.encode("utf-32"),
                            b"\xef\xbb\xbf" + text.encode("utf-8"), text.encode("latin-1", "replace"),
                            text.encode("utf-8") + b"\x00", b"payload=" + text.encode("utf-8")])


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "envelope", "encoded", "deep", "huge"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2 * LIMIT))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "envelope":
        return json.dumps(draw(envelopes())).encode()
    if kind == "encoded":
        return draw(encodings(draw(envelopes())))
    if kind == "deep":
        return deep(draw(st.integers(1, 2000)))
    return b"{" + b" " * draw(st.integers(LIMIT - 8, 3 * LIMIT)) + b"}"


def headers_for(event: bytes, delivery: bytes, signature: bytes | None,
                length: bytes | None = None) -> list[tuple[bytes, bytes]]:
    out = [(b"x-github-event", event), (b"x-github-delivery", delivery), (b"content-type", b"application/json")]
    if signature is not None:
        out.append((b"x-hub-signature-256", signature))
    if length is not None:
        out.append((b"content-length", length))
    return out


@st.composite
def bad_signatures(draw: st.DrawFn, body: bytes) -> bytes | None:
    return draw(st.one_of(
        st.none(), header_bytes(), st.just(b"sha256="), st.just(b"sha1=" + hashlib.sha1(body).hexdigest().encode()),
        st.binary(min_size=32, max_size=32).map(lambda b: b"sha256=" + b.hex().encode()),
        st.just(sign(body, b"wrong-secret")), st.just(sign(body + b" ")), st.just(sign(body)[:-1]),
        st.just(sign(body).replace(b"sha256=", b"SHA256=")), st.just(sign(body) + b"00"),
    ))


@FUZZ
@given(data=st.data(), body=bodies(), event=event_names, delivery=ids)
def test_without_a_valid_signature_nothing_is_enqueued_and_the_answer_is_401_or_413(
        data: st.DataObject, body: bytes, event: bytes, delivery: bytes) -> None:
    signature = data.draw(bad_signatures(body))
    before = len(STORE.jobs)
    status, answer = call(APP, headers_for(event, delivery, signature), [body])
    assert status == (413 if len(body) > LIMIT else 401), (status, answer)
    assert len(STORE.jobs) == before


@FUZZ
@given(body=bodies(), event=event_names, delivery=ids)
@example(body=deep(2000), event=b"pull_request", delivery=b"deep")
@example(body=json.dumps(wh.pull_request()).encode("utf-16"), event=b"pull_request", delivery=b"utf16")
@example(body=json.dumps({**wh.pull_request(), "number": 10**40}).encode(), event=b"pull_request", delivery=b"big")
def test_signed_requests_never_get_a_5xx_and_enqueue_exactly_when_accepted(body: bytes, event: bytes,
                                                                           delivery: bytes) -> None:
    before = len(STORE.jobs)
    status, answer = call(APP, headers_for(event, delivery, sign(body)), [body])
    assert status < 500, (status, answer)
    enqueued = STORE.jobs[before:]
    if answer.get("status") == "accepted":
        assert status == 202 and len(enqueued) == 1 and enqueued[0].delivery_id == delivery.decode("latin-1")
    else:
        assert enqueued == [] and status in (200, 202, 400, 413), (status, answer)


@FUZZ
@given(size=st.integers(LIMIT - 40, LIMIT + 40), pieces=st.integers(1, 5),
       declared=st.one_of(st.none(), st.just(b"actual"), st.integers(-5, 10 * LIMIT).map(lambda n: str(n).encode()),
                          st.sampled_from([b"abc", b"", b" 12", b"1e3", b"0x10", "\u0663".encode(), b"12\xff"])))
def test_sizes_around_the_limit_and_lying_lengths_are_refused_cleanly(size: int, pieces: int,
                                                                      declared: bytes | None) -> None:
    raw = json.dumps(wh.pull_request()).encode()
    body = raw[:-1] + b" " * max(0, size - len(raw)) + b"}"
    step = max(1, len(body) // pieces)
    chunks = [body[i:i + step] for i in range(0, len(body), step)]
    length = str(len(body)).encode() if declared == b"actual" else declared
    before = len(STORE.jobs)
    status, answer = call(APP, headers_for(b"pull_request", b"size-%d-%r" % (size, declared), sign(body), length),
                          chunks)
    assert status < 500
    if len(body) > LIMIT:
        assert status == 413 and len(STORE.jobs) == before
    elif status == 202:
        assert answer["status"] in ("accepted", "duplicate")
    else:  # a Content-Length that is not honest ASCII digits within the limit is refused up front
        assert status == 413 and length is not None and (not length.isdigit() or int(length) > LIMIT)


@settings(max_examples=80, deadline=None)
@given(payload=envelopes(), event=st.sampled_from(EVENTS), delivery=st.uuids().map(lambda u: str(u).encode()))
@example(payload=wh.pull_request(), event="pull_request", delivery=b"store-down")
def test_a_failing_store_answers_the_documented_503_and_nothing_else_5xx(payload: dict[str, Any], event: str,
                                                                         delivery: bytes) -> None:
    body = json.dumps(payload).encode()
    status, answer = call(FAILING_APP, headers_for(event.encode(), delivery, sign(body)), [body])
    if status >= 500:
        assert status == 503 and answer == {"status": "error", "reason": ENQUEUE_FAILED}
    assert FAILING_STORE.jobs == []


def test_a_superscript_digit_in_our_check_runs_external_id_is_ignored() -> None:
    payload = wh.check_run("rerequested", number=None, external_id=f"{wh.REPO}#²@{'a' * 40}")
    body = json.dumps(payload).encode()
    status, answer = call(APP, headers_for(b"check_run", b"bug-superscript", sign(body)), [body])
    assert status == 202 and answer["status"] == "ignored", (status, answer)


def test_a_latin1_superscript_content_length_is_refused() -> None:
    body = json.dumps(wh.pull_request()).encode()
    status, answer = call(APP, headers_for(b"pull_request", b"bug-length", sign(body), b"\xb2"), [body])
    assert status in (400, 413), (status, answer)
