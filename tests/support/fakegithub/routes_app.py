"""App-level routes: the App, installations, access tokens, hook deliveries, manifests, GraphQL."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from . import graphql
from .routing import Req, Resp, paginate, route
from .state import HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@route("GET", "/app", auth="jwt")
def get_app(fake: FakeGitHub, req: Req) -> Resp:
    return Resp(200, {"id": fake.app_id, "slug": fake.app_slug, "client_id": fake.client_id,
                      "name": "Scale Review", "owner": {"login": "acme"}})


@route("GET", "/app/installations", auth="jwt")
def list_installations(fake: FakeGitHub, req: Req) -> Resp:
    return paginate(fake, req, [dict(i, app_id=fake.app_id) for i in fake.store.installations.values()])


@route("GET", "/repos/{owner}/{repo}/installation", auth="jwt")
def repo_installation(fake: FakeGitHub, req: Req) -> Resp:
    repo = fake.store.repo(req.params["owner"], req.params["repo"])
    inst = fake.store.installations.get(repo.installation_id)
    if inst is None:
        raise HttpError(404, "Not Found")
    return Resp(200, dict(inst, app_id=fake.app_id))


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
def create_token(fake: FakeGitHub, req: Req) -> Resp:
    iid = int(req.params["installation_id"])
    if iid not in fake.store.installations:
        raise HttpError(404, "Not Found")
    tok = fake.issue_token(iid)
    return Resp(201, {"token": tok.token, "expires_at": iso(tok.expires_at),
                      "permissions": {"checks": "write", "pull_requests": "write", "contents": "read",
                                      "issues": "write", "metadata": "read"},
                      "repository_selection": "all"})


@route("GET", "/app/hook/deliveries", auth="jwt")
def list_deliveries(fake: FakeGitHub, req: Req) -> Resp:
    """Cursor pagination like GitHub: `cursor` is the index to start from; newest first."""
    try:
        per_page = min(max(int(req.q("per_page", "30") or 30), 1), 100)
        start = int(req.q("cursor", "0") or 0)
    except ValueError as exc:
        raise HttpError(422, "Invalid cursor") from exc
    items = list(reversed(fake.store.deliveries))
    chunk = items[start:start + per_page]
    headers = {}
    if start + per_page < len(items):
        headers["Link"] = f'<{fake.url}/app/hook/deliveries?per_page={per_page}&cursor={start + per_page}>; rel="next"'
    return Resp(200, chunk, headers)


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts", auth="jwt")
def redeliver(fake: FakeGitHub, req: Req) -> Resp:
    did = int(req.params["delivery_id"])
    found = [d for d in fake.store.deliveries if d["id"] == did]
    if not found:
        raise HttpError(404, "Not Found")
    fake.store.redeliveries.append(found[0]["guid"])
    return Resp(202, {})


@route("POST", "/app-manifests/{code}/conversions", auth="none")
def manifest_conversion(fake: FakeGitHub, req: Req) -> Resp:
    code = req.params["code"]
    if code not in fake.store.manifest_codes:
        raise HttpError(404, "Not Found")
    fake.store.manifest_codes.discard(code)
    return Resp(201, {
        "id": fake.app_id, "slug": fake.app_slug, "node_id": "A_fake", "client_id": fake.client_id,
        "client_secret": secrets.token_hex(20), "webhook_secret": secrets.token_hex(20),
        "pem": fake.private_key_pem, "html_url": f"https://github.com/apps/{fake.app_slug}",
        "owner": {"login": "acme"}, "name": "Scale Review", "permissions": {}, "events": [],
    })


@route("POST", "/graphql")
def graphql_query(fake: FakeGitHub, req: Req) -> Resp:
    body = req.body_json()
    query = body.get("query")
    if not isinstance(query, str):
        raise HttpError(400, "A query attribute must be specified and must be a string.")
    return Resp(200, graphql.execute(fake, query, body.get("variables") or {}, req.installation_id))
