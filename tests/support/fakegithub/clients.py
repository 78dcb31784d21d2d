"""Our own GitHub client pointed at a FakeGitHub, with waits shrunk so fault tests stay fast."""

from __future__ import annotations

from bot.github.auth import AppCredentials, TokenCache
from bot.github.client import GitHubGateway
from bot.github.conditional import ResponseCache
from bot.github.retry import CountingRetry

from .fake import FakeGitHub

TEST_WAIT_SCALE = 0.001  # a `retry-after: 1` waits 1 ms


def fast_retry(total: int = 4, wait_scale: float = TEST_WAIT_SCALE) -> CountingRetry:
    return CountingRetry(total=total, backoff_factor=0.01, secondary_rate_wait=0.01, max_rate_limit_wait=5,
                         wait_scale=wait_scale)


def make_gateway(fake: FakeGitHub, installation_id: int = 1, *, cache: TokenCache | None = None,
                 delivery_id: str | None = "delivery-1", wait_scale: float = TEST_WAIT_SCALE,
                 timeout: float = 5, responses: ResponseCache | None = None) -> GitHubGateway:
    """A GitHubGateway on the fake: App credentials from the fake, no pacing, tiny waits."""
    return GitHubGateway(fake.url, AppCredentials(str(fake.app_id), fake.private_key_pem), installation_id,
                         token_cache=cache or TokenCache(), delivery_id=delivery_id,
                         retry=fast_retry(wait_scale=wait_scale), timeout=timeout,
                         seconds_between_requests=0, seconds_between_writes=0, response_cache=responses)
