"""HTTP plumbing of the fake: parse, record, inject faults, authenticate, dispatch, answer."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import jwt

from . import contract
from .routing import Req, Resp, match
from .state import HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub

SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
DOCS_URL = "https://docs.github.com/rest"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int = 0
    at: float = field(default_factory=time.time)


@dataclass
class Fault:
    """A scripted answer for requests matching `method` and the `path` regex (search)."""

    method: str
    path: str
    status: int | None  # None: no error, only `delay`, then the real handler answers
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    times: int = 1
    delay: float = 0.0
    apply: bool = False  # run the real handler first (the change happens), then answer with the fault

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and re.search(self.path, path) is not None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, headers, payload = self.server.fake._handle(self.command, self.path, dict(self.headers), body)
        except Exception as exc:  # the fake itself broke: say so loudly instead of hanging the client
            status, headers, payload = 500, {}, json.dumps({"message": f"fake crashed: {exc!r}"}).encode()
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGitHub


def start_server(fake: FakeGitHub) -> tuple[_Server, threading.Thread]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.fake = fake
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-github",
                              daemon=True)
    thread.start()
    return srv, thread


def error_body(status: int, message: str, errors: list[Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS_URL, "status": str(status)}
    if errors:
        body["errors"] = errors
    return body


def parse_request(method: str, raw_path: str, headers: dict[str, str], body: bytes, prefix: str) -> Req:
    parts = urllib.parse.urlsplit(raw_path)
    path = parts.path
    if prefix and path.startswith(prefix):
        path = path[len(prefix):] or "/"
    elif prefix and path == "/api/graphql":
        path = "/graphql"
    payload: Any = None
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
    return Req(method, path, urllib.parse.parse_qs(parts.query), {k.lower(): v for k, v in headers.items()},
               body, payload)


def authenticate(fake: FakeGitHub, req: Req, need: str) -> None:
    """Sets req.installation_id / req.app_auth, or raises 401 like GitHub."""
    if need == "none":
        return
    auth = req.headers.get("authorization", "")
    scheme, _, cred = auth.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not cred:
        raise HttpError(401, "Requires authentication")
    if need == "jwt":
        if scheme.lower() != "bearer":
            raise HttpError(401, "A JSON web token could not be decoded")
        verify_jwt(fake, cred)
        req.app_auth = True
        return
    with fake.lock:
        tok = fake.store.tokens.get(cred)
    if tok is None or tok.expires_at <= time.time():
        raise HttpError(401, "Bad credentials")
    req.installation_id = tok.installation_id


def verify_jwt(fake: FakeGitHub, token: str) -> None:
    try:
        claims = jwt.decode(token, fake.public_key_pem, algorithms=["RS256"], leeway=fake.jwt_leeway,
                            options={"require": ["iat", "exp", "iss"]})
    except jwt.PyJWTError as exc:
        raise HttpError(401, f"A JSON web token could not be decoded: {exc}") from exc
    if str(claims["iss"]) not in (str(fake.app_id), fake.client_id):  # the App id (number or text) or client id
        raise HttpError(401, "'Issuer' claim ('iss') does not name this App")
    if int(claims["exp"]) - int(claims["iat"]) > 660:
        raise HttpError(401, "'Expiration time' claim ('exp') is too far in the future")


WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def throttle_writes(fake: FakeGitHub, req: Req) -> None:
    """GitHub's content-creation secondary limit: at most `writes_per_minute` writes per installation."""
    if req.method not in WRITE_METHODS or req.installation_id is None or req.path == "/graphql":
        return
    now = time.time()
    with fake.lock:
        recent = [t for t in fake.write_times.get(req.installation_id, []) if t > now - 60]
        if len(recent) >= (fake.writes_per_minute or 0):
            wait = max(1, int(recent[0] + 60 - now) + 1)
            fake.write_times[req.installation_id] = recent
            raise HttpError(403, SECONDARY_LIMIT_MESSAGE, headers={"retry-after": str(wait)})
        fake.write_times[req.installation_id] = [*recent, now]


def rate_headers(fake: FakeGitHub, req: Req, consume: bool = True) -> dict[str, str]:
    """GitHub's rate-limit headers; a 304 (`consume=False`) does not count against the limit."""
    resource = "graphql" if req.path == "/graphql" else "core"
    key = req.headers.get("authorization", "anonymous")
    with fake.lock:
        used = fake.rate_used.get(key, 0) + int(consume)
        fake.rate_used[key] = used
    return {
        "x-ratelimit-limit": str(fake.rate_limit),
        "x-ratelimit-remaining": str(max(fake.rate_limit - used, 0)),
        "x-ratelimit-used": str(used),
        "x-ratelimit-reset": str(int(fake.rate_reset)),
        "x-ratelimit-resource": resource,
        "x-github-api-version-selected": "2022-11-28",
    }


def etag_of(payload: bytes) -> str:
    return 'W/"' + hashlib.sha1(payload, usedforsecurity=False).hexdigest() + '"'


def encode(resp: Resp) -> tuple[int, dict[str, str], bytes]:
    headers = dict(resp.headers)
    if resp.raw is not None:
        headers.setdefault("Content-Type", resp.content_type)
        return resp.status, headers, resp.raw
    if resp.status in (204, 304):
        return resp.status, headers, b""
    headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return resp.status, headers, json.dumps(resp.body).encode()


def dispatch(fake: FakeGitHub, req: Req) -> Resp:
    found = match(req.method, req.path)
    if found is None:
        raise HttpError(404, "Not Found")
    route, params = found
    req.params = params
    authenticate(fake, req, route.auth)
    if fake.enforce_contract:
        contract.enforce(req)
    if fake.writes_per_minute is not None:
        throttle_writes(fake, req)
    with fake.lock:
        return route.handler(fake, req)
