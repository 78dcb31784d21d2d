"""Route table, request/response values and Link-header pagination for the fake."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .state import HttpError

if TYPE_CHECKING:
    from .fake import FakeGitHub


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any
    params: dict[str, str] = field(default_factory=dict)
    installation_id: int | None = None  # set when an installation token authenticated the call
    app_auth: bool = False  # set when the App JWT authenticated the call

    def q(self, name: str, default: str | None = None) -> str | None:
        vals = self.query.get(name)
        return vals[0] if vals else default

    @property
    def accept(self) -> str:
        return self.headers.get("accept", "")

    def body_json(self) -> dict[str, Any]:
        if not isinstance(self.json, dict):
            raise HttpError(400, "Problems parsing JSON")
        return self.json


@dataclass
class Resp:
    status: int = 200
    body: Any = None  # JSON-able; ignored when raw is set
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


Handler = Callable[["FakeGitHub", Req], Resp]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str  # "token" | "jwt" | "none"


ROUTES: list[Route] = []


def _compile(template: str) -> re.Pattern[str]:
    rx = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", template)
    rx = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", rx)
    return re.compile("^" + rx + "$")


def route(method: str, template: str, auth: str = "token") -> Callable[[Handler], Handler]:
    """Register a handler; `{name}` matches one segment, `{name+}` spans slashes."""

    def deco(fn: Handler) -> Handler:
        ROUTES.append(Route(method, _compile(template), fn, auth))
        return fn

    return deco


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    allowed = False
    for r in ROUTES:
        m = r.pattern.match(path)
        if m:
            if r.method == method:
                return r, {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}
            allowed = True
    if allowed:
        raise HttpError(404, "Not Found")  # GitHub answers 404 for unknown verbs on known paths
    return None


def page_params(req: Req, default_per_page: int = 30) -> tuple[int, int]:
    try:
        per_page = min(max(int(req.q("per_page", str(default_per_page)) or default_per_page), 1), 100)
        page = max(int(req.q("page", "1") or 1), 1)
    except ValueError as exc:
        raise HttpError(422, "Invalid page parameters") from exc
    return page, per_page


def paginate(fake: FakeGitHub, req: Req, items: list[Any], wrap: str | None = None) -> Resp:
    """One page of `items` with GitHub's Link header (`rel="next"`, `rel="last"`)."""
    page, per_page = page_params(req)
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []

    def url(n: int) -> str:
        q = {k: v[0] for k, v in req.query.items()}
        q.update(page=str(n), per_page=str(per_page))
        return f"{fake.url}{req.path}?{urllib.parse.urlencode(q)}"

    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
        links.append(f'<{url(1)}>; rel="first"')
    headers = {"Link": ", ".join(links)} if links else {}
    body: Any = {wrap: chunk, "total_count": len(items)} if wrap else chunk
    return Resp(200, body, headers)
