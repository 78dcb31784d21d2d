"""Counting, retrying and error translation for every HTTP call the GitHub client makes.

`CallCounter` sees each request once (from the auth hook) and `CountingRetry` adds each extra
attempt urllib3 makes, so `calls` equals what GitHub received. `GitHubError` is what leaves the
package: plain values, picklable, no PyGithub objects.
"""

from __future__ import annotations

import threading
from typing import Any

import requests
from github import GithubException, GithubRetry
from urllib3.response import BaseHTTPResponse

DELIVERY_HEADER = "X-GitHub-Delivery"
RATE_LIMIT_PREFIXES = ("you have exceeded a secondary rate limit", "api rate limit exceeded")
DEFAULT_MAX_RETRY_AFTER = 120.0


class CallCounter:
    """Counts requests (thread-safe) and stamps the delivery id on each of them."""

    def __init__(self, delivery_id: str | None = None) -> None:
        self.delivery_id = delivery_id
        self._n = 0
        self._lock = threading.Lock()

    def __call__(self, headers: dict[str, str]) -> None:
        self.add()
        if self.delivery_id:
            headers[DELIVERY_HEADER] = self.delivery_id

    def add(self, n: int = 1) -> None:
        with self._lock:
            self._n += n

    @property
    def value(self) -> int:
        with self._lock:
            return self._n


class CountingRetry(GithubRetry):
    """`GithubRetry` that counts its extra attempts and can shrink its waits (tests).

    `wait_scale` multiplies every wait (retry-after and backoff); `max_retry_after` caps a
    `retry-after` header. `raise_on_status=False` so the last error response reaches PyGithub
    and becomes a normal GithubException instead of a bare RetryError.
    """

    def __init__(self, *, counter: CallCounter | None = None, wait_scale: float = 1.0,
                 max_retry_after: float = DEFAULT_MAX_RETRY_AFTER, **kwargs: Any) -> None:
        kwargs.setdefault("raise_on_status", False)
        super().__init__(**kwargs)
        self.counter = counter
        self.wait_scale = wait_scale
        self.max_retry_after = max_retry_after

    def new(self, **kw: Any) -> CountingRetry:
        kw.update(counter=self.counter, wait_scale=self.wait_scale, max_retry_after=self.max_retry_after)
        return super().new(**kw)

    def with_counter(self, counter: CallCounter) -> CountingRetry:
        fresh = self.new()
        fresh.counter = counter
        return fresh

    def increment(self, *args: Any, **kwargs: Any) -> CountingRetry:
        nxt = super().increment(*args, **kwargs)
        if self.counter is not None:
            self.counter.add()
        rate_wait = nxt.__dict__.get("get_backoff_time")  # GithubRetry's wait for a rate limit
        if rate_wait is not None and self.wait_scale != 1.0:
            nxt.get_backoff_time = lambda: float(rate_wait()) * self.wait_scale  # type: ignore[method-assign]
        return nxt  # type: ignore[return-value]

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        value = super().get_retry_after(response)
        if value is None:
            return None
        return min(value, self.max_retry_after) * self.wait_scale

    def get_backoff_time(self) -> float:
        return float(super().get_backoff_time()) * self.wait_scale


def default_retry(wait_scale: float = 1.0) -> CountingRetry:
    """Production retry: 5 tries, exponential backoff, 60 s for secondary limits (all scaled)."""
    return CountingRetry(total=5, backoff_factor=1.0 * wait_scale, secondary_rate_wait=60.0 * wait_scale,
                         max_rate_limit_wait=900.0, wait_scale=wait_scale)


class GitHubError(Exception):
    """A GitHub call failed. `status` 0 means no HTTP answer (timeout, connection refused)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(status, message, retry_after)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    def __str__(self) -> str:
        if self.status:
            return f"GitHub answered {self.status}: {self.message}"
        return f"GitHub unreachable: {self.message}"

    @property
    def retryable(self) -> bool:
        if self.status in (0, 429) or self.status >= 500:
            return True
        return self.status == 403 and (self.retry_after is not None or is_rate_limit_message(self.message))


def is_rate_limit_message(message: str) -> bool:
    return message.lower().startswith(RATE_LIMIT_PREFIXES)


def _retry_after(headers: dict[str, Any] | None) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
    return None


def translate(exc: Exception) -> GitHubError:
    """PyGithub / requests exception -> GitHubError (message only: never headers or tokens)."""
    if isinstance(exc, GitHubError):
        return exc
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "")
        errors = data.get("errors")
        if errors:
            message = f"{message} {errors}"[:2000]
        return GitHubError(exc.status, message, _retry_after(exc.headers))
    if isinstance(exc, requests.RequestException):
        return GitHubError(0, type(exc).__name__)
    raise exc
