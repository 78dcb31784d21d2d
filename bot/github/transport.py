"""GitHubTransport: authenticated, counted, retried HTTP to GitHub for one installation (PyGithub requester).

Every method returns plain values (see `values.py`) and raises only `GitHubError`. Every HTTP call
is counted (`calls`), carries the delivery id (`X-GitHub-Delivery`), is retried by `GithubRetry`
(5xx, secondary limits with `retry-after`), and a 401 drops the cached token and retries once.
Writes whose repetition GitHub would not forgive go through `write_carefully`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests
from github import Github, GithubException, GithubIntegration, GithubRetry
from github.Requester import Requester

from bot.github.auth import (
    AppCredentials,
    InstallationToken,
    InstallationTokenAuth,
    TokenCache,
    make_app_auth,
    signing_key,
)
from bot.github.conditional import ResponseCache, cache_key
from bot.github.identity import IdentityCache
from bot.github.retry import CallCounter, CountingRetry, GitHubError, default_retry, translate

T = TypeVar("T")
MAX_PAGES = 50  # budget for any listing (100 items a page)
DIFF_MEDIA = "application/vnd.github.diff"
RAW_MEDIA = "application/vnd.github.raw+json"
API_VERSION = "2022-11-28"
WRITE_ATTEMPTS = 4


def _as_counting(retry: GithubRetry | None, counter: CallCounter) -> CountingRetry:
    if retry is None:
        return default_retry().with_counter(counter)
    if isinstance(retry, CountingRetry):
        return retry.with_counter(counter)
    return CountingRetry(total=retry.total, backoff_factor=retry.backoff_factor, counter=counter,
                         secondary_rate_wait=retry.secondary_rate_wait, max_rate_limit_wait=retry.max_rate_limit_wait)


class GitHubTransport:
    """HTTP to GitHub for one installation (and one delivery).

    api_url: REST root (`GITHUB_API_URL`); creds: the App id and key; installation_id: whose token;
    token_cache: shared per process; delivery_id: sent as `X-GitHub-Delivery` on every call;
    retry: a `GithubRetry` (a `CountingRetry` keeps its `wait_scale`); timeout: seconds per request;
    seconds_between_requests / seconds_between_writes: PyGithub's pacing per gateway;
    response_cache: shared per process, turns repeated GETs into conditional requests (None: off);
    identity_cache: shared per process, who the App is (`GET /app` once; see identity.py);
    graphql_url: the GraphQL endpoint when it is not where PyGithub derives it from `api_url`
    (a workflow's `GITHUB_GRAPHQL_URL`). The App JWT client is built on first use: a gateway whose
    token cache already holds the token (the workflow's, see auth.WorkflowTokenCache) needs no App key;
    a broken App key is still refused at construction.
    """

    def __init__(self, api_url: str, creds: AppCredentials, installation_id: int, *, token_cache: TokenCache,
                 delivery_id: str | None = None, retry: GithubRetry | None = None, timeout: float = 15,
                 seconds_between_requests: float = 0.25, seconds_between_writes: float = 1.0,
                 response_cache: ResponseCache | None = None, identity_cache: IdentityCache | None = None,
                 graphql_url: str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.creds = creds
        self.installation_id = installation_id
        self.token_cache = token_cache
        self.response_cache = response_cache
        self.identity_cache = identity_cache or IdentityCache()
        self.counter = CallCounter(delivery_id)
        self.retry = _as_counting(retry, self.counter)
        self.wait_scale = self.retry.wait_scale
        seconds = max(1, math.ceil(timeout))  # PyGithub insists on whole seconds
        pacing: dict[str, Any] = dict(timeout=seconds, per_page=100, seconds_between_requests=seconds_between_requests,
                                      seconds_between_writes=seconds_between_writes)
        self._pacing = pacing
        if creds.private_key:
            signing_key(creds.private_key)  # a broken App key is refused here, before any request
        self._integration_client: GithubIntegration | None = None
        self._auth = InstallationTokenAuth(token_cache, installation_id, self._mint, self.counter)
        self._gh = Github(base_url=self.api_url, auth=self._auth, retry=self.retry, **pacing)
        self._gh_once = Github(base_url=self.api_url, auth=self._auth, retry=0, **pacing)
        self.graphql_url = graphql_url or self._gh.requester.graphql_url

    @property
    def _integration(self) -> GithubIntegration:
        """The App JWT client (token minting, App endpoints), built when first needed."""
        if self._integration_client is None:
            app_auth = make_app_auth(self.creds, self.counter)
            p = self._pacing
            self._integration_client = GithubIntegration(
                base_url=self.api_url, auth=app_auth, retry=self.retry, timeout=p["timeout"],
                seconds_between_requests=p["seconds_between_requests"],
                seconds_between_writes=p["seconds_between_writes"])
        return self._integration_client

    # ---- plumbing ------------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        """HTTP calls this gateway made so far, retries and token minting included."""
        return self.counter.value

    @property
    def requester(self) -> Requester:
        return self._gh.requester

    def _mint(self) -> InstallationToken:
        try:
            auth = self._integration.get_access_token(self.installation_id)
        except (GithubException, requests.RequestException) as exc:
            raise translate(exc) from exc
        return InstallationToken(auth.token, auth.expires_at.timestamp())

    def call(self, fn: Callable[[], T]) -> T:
        """Run one API interaction; on 401 drop the cached token and try once more."""
        for attempt in (1, 2):
            try:
                return fn()
            except GitHubError:
                raise
            except Exception as exc:  # PyGithub and requests errors become GitHubError
                err = translate(exc)
                if err.status == 401 and attempt == 1:
                    self.token_cache.drop(self.installation_id, self._auth.last_token)
                    continue
                raise err from exc
        raise AssertionError("unreachable")

    def request(self, verb: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
                headers: dict[str, str] | None = None, once: bool = False) -> tuple[dict[str, Any], Any]:
        """(response headers, JSON or {"data": text}) for `verb path`; `once` skips urllib3 retries."""
        gh = self._gh_once if once else self._gh
        hdrs = {"X-GitHub-Api-Version": API_VERSION, **(headers or {})}
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        cache = self.response_cache if verb == "GET" and not once else None
        key = cache_key(self.installation_id, url, params, hdrs.get("Accept", ""))
        kept = cache.lookup(key) if cache is not None else None
        if kept is not None:
            hdrs["If-None-Match"] = kept[0]
        answer = self.call(lambda: gh.requester.requestJsonAndCheck(verb, url, parameters=params, headers=hdrs,
                                                                    input=body))
        if cache is None:
            return answer
        got_headers, data = answer
        if kept is not None and data is None and got_headers.get("etag") == kept[0]:  # 304 Not Modified
            cache.hit()
            return got_headers, kept[1]
        cache.store(key, str(got_headers.get("etag") or ""), data)
        return answer

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)[1]

    def paginate(self, path: str, params: dict[str, Any] | None = None, *, key: str | None = None,
                 max_pages: int = MAX_PAGES) -> list[Any]:
        """All items of a listing, following `Link: rel="next"`, at most `max_pages` pages."""
        items: list[Any] = []
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        for _ in range(max_pages):
            if url is None:
                break
            headers, data = self.request("GET", url, params=query)
            items.extend((data or {}).get(key, []) if key else (data or []))
            url = next_link(headers.get("link", ""), self.api_url)
            query = None  # the next link carries its own query
        return items

    def write_carefully(self, verb: str, path: str, body: Any, *, already_done: Callable[[], Any | None],
                        attempts: int = WRITE_ATTEMPTS) -> Any:
        """A write GitHub must not receive twice: no blind retries; before each retry,
        `already_done()` looks for the result of an earlier attempt and returns it if found."""
        for attempt in range(1, attempts + 1):
            try:
                return self.request(verb, path, body=body, once=True)[1]
            except GitHubError as err:
                if not err.retryable or attempt == attempts:
                    raise
                wait = err.retry_after if err.retry_after is not None else 2.0 ** attempt
                time.sleep(min(wait, self.retry.max_retry_after) * self.wait_scale)
            found = already_done()
            if found is not None:
                return found
        raise AssertionError("unreachable")

    def graphql_answer(self, query: str, variables: dict[str, Any], *,
                       once: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """`data` and `errors` of a GraphQL answer, for a request whose aliases may fail one by one (a
        batched mutation: each error's `path` names its alias). `once`: no retry (a write not to repeat)."""
        _, data = self.request("POST", self.graphql_url, body={"query": query, "variables": variables},
                               once=once)
        errors = [e for e in (data or {}).get("errors") or [] if isinstance(e, dict)]
        return dict((data or {}).get("data") or {}), errors

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """`data` of a GraphQL answer; NOT_FOUND errors leave nulls, other errors raise."""
        data, all_errors = self.graphql_answer(query, variables)
        errors = [e for e in all_errors if e.get("type") != "NOT_FOUND"]
        if errors:
            raise GitHubError(400, "GraphQL: " + "; ".join(str(e.get("message")) for e in errors)[:2000])
        return data

    def app_request(self, verb: str, path: str, **params: Any) -> tuple[dict[str, Any], Any]:
        """A call authenticated as the App (JWT), e.g. hook deliveries."""
        req = self._integration.requester
        try:
            return req.requestJsonAndCheck(verb, self.api_url + path, parameters=params or None,
                                           headers={"X-GitHub-Api-Version": API_VERSION})
        except (GithubException, requests.RequestException) as exc:
            raise translate(exc) from exc


def next_link(link: str, api_url: str) -> str | None:
    """The `rel="next"` URL of a Link header, relative to `api_url` when it lies under it."""
    for part in link.split(","):
        if 'rel="next"' in part:
            url = part[part.find("<") + 1 : part.find(">")]
            return url[len(api_url):] if url.startswith(api_url) else url
    return None


def split_link(url: str | None) -> tuple[str | None, dict[str, Any]]:
    if url is None:
        return None, {}
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query))
