"""Shared pieces of the fault tests: hooks on the fake GitHub, a short client timeout, the invariants.

- `Hooks(gh)`: runs an action when a matching request reaches the fake (before or after GitHub
  handles it), e.g. queue a fault only for the GraphQL file read, expire tokens, SIGKILL a worker.
- `fault_app(settings, timeout=1.0)`: the App in this process, like `tests.support.service.running_app`, but
  its gateways time out after `timeout` seconds (the Runtime's gateway keeps PyGithub's 15 s otherwise).
- `assert_reviewed_once(gh, number, heads)`: one review and one completed check run per head sha,
  no finding marker posted twice.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.app import workflows
from bot.app.runtime import Runtime, install_runtime
from bot.core.settings import Settings
from bot.github.client import GitHubGateway
from bot.render.comment import find_markers
from tests.support import webhooks as wh
from tests.support.fakegithub.clients import fast_retry

CONFIG_QUERY = "$orgName"  # the GraphQL read of the repo and org configs (the file read has none)


@dataclass
class Hook:
    method: str
    path: str
    action: Callable[[], None]
    when: Callable[[dict[str, str], bytes], bool] = lambda _h, _b: True
    times: int = 1
    after: bool = False  # run the action once GitHub has handled the request (its answer then is lost)


@dataclass
class Hooks:
    """Wraps the fake's request handler (nothing in the fake is changed)."""

    gh: Any
    hooks: list[Hook] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        original = self.gh._handle

        def handle(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
            hook = self._take(method, raw_path.split("?")[0], headers, body)
            if hook is not None and not hook.after:
                hook.action()
            answer = original(method, raw_path, headers, body)
            if hook is not None and hook.after:
                hook.action()
            return answer

        self.gh._handle = handle

    def _take(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Hook | None:
        lower = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            for i, h in enumerate(self.hooks):
                if h.method in ("*", method) and re.search(h.path, path) and h.when(lower, body):
                    h.times -= 1
                    if h.times <= 0:
                        del self.hooks[i]
                    return h
        return None

    def on(self, method: str, path: str, action: Callable[[], None], **kw: Any) -> Hook:
        hook = Hook(method, path, action, **kw)
        with self.lock:
            self.hooks.append(hook)
        return hook

    def fault_on(self, method: str, path: str, when: Callable[[dict[str, str], bytes], bool], *,
                 times: int = 1, **fault: Any) -> None:
        """Queue `gh.fail(method, path, **fault)` just before each of the next `times` matching requests."""
        self.on(method, path, lambda: self.gh.fail(method, path, **fault), when=when, times=times)


def graphql_config(_headers: dict[str, str], body: bytes) -> bool:
    return CONFIG_QUERY.encode() in body


def graphql_files(_headers: dict[str, str], body: bytes) -> bool:
    return CONFIG_QUERY.encode() not in body


def diff_media(headers: dict[str, str], _body: bytes) -> bool:
    return "diff" in headers.get("accept", "")


def json_media(headers: dict[str, str], _body: bytes) -> bool:
    return "diff" not in headers.get("accept", "")


@dataclass
class ShortTimeoutRuntime(Runtime):
    """The product's Runtime whose gateways use `github_timeout` seconds per request."""

    github_timeout: float = 1.0

    def gateway(self, installation_id: int, delivery_id: str) -> GitHubGateway:
        return GitHubGateway(
            self.settings.github_api_url, self.creds, installation_id, token_cache=self.token_cache,
            delivery_id=delivery_id, retry=self.retry, timeout=self.github_timeout,
            seconds_between_requests=0, seconds_between_writes=0,
        )


@contextmanager
def fault_app(settings: Settings, *, timeout: float = 1.0, model_client: Any = None, schema: str | None = None,
              wait_scale: float = 0.5) -> Iterator[workflows.DbosEnqueuer]:
    """wait_scale 0.5: `retry-after` and the waits before re-checking a failed write are half the real
    ones (a write that timed out is looked for again 1 s later, longer than a slow answer here takes)."""
    install_runtime(ShortTimeoutRuntime(settings, model_client=model_client, retry=fast_retry(wait_scale=wait_scale),
                                        model_sleep=lambda _s: None, github_timeout=timeout))
    enqueuer = workflows.launch(settings, worker=True, schema=schema)
    try:
        yield enqueuer
    finally:
        workflows.shutdown()


def marker_ids(gh: Any, number: int, repo: str = wh.REPO) -> list[str]:
    """Every finding id carried by a review comment, once per comment that carries it."""
    return [i for c in gh.review_comments(repo, number) for i in find_markers(c["body"])]


def settle(gh: Any, timeout: float = 15) -> None:
    """Wait until every request GitHub received has been answered (a slow write lands late)."""
    wait_for(lambda: all(c.status for c in list(gh.calls)), timeout, "every request to be answered")


def assert_reviewed_once(gh: Any, number: int, heads: list[str], repo: str = wh.REPO) -> None:
    """Exactly one review and one completed check run per head sha; no finding posted twice."""
    settle(gh)
    runs = [r for r in gh.check_runs(repo) if r["name"] == "Scalability review"]
    for head in heads:
        mine = [r for r in runs if r["head_sha"] == head]
        assert len(mine) == 1, f"{len(mine)} check runs for {head[:12]}: {mine}"
        assert mine[0]["status"] == "completed", mine[0]
        reviews = [r for r in gh.reviews(repo, number) if r["commit_id"] == head]
        assert len(reviews) == 1, f"{len(reviews)} reviews for {head[:12]}"
    ids = marker_ids(gh, number, repo)
    assert len(ids) == len(set(ids)), f"a finding was posted twice: {sorted(ids)}"


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
