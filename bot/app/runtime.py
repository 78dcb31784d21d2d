"""What the worker's steps share in one process: settings, App credentials, the token cache, the
model client and metrics. Built once at start-up (`install_runtime`) and never from the environment.

DBOS steps are module-level functions, so they reach the runtime through `current_runtime()`,
the same way DBOS itself is a process-wide instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.app.memory_store import MemoryStore
from bot.app.metrics import Metrics
from bot.core.model import Review
from bot.core.repo_config import CONFIG_PATH
from bot.core.settings import Settings
from bot.github.auth import AppCredentials, TokenCache
from bot.github.client import GitHubGateway
from bot.github.identity import IdentityCache
from bot.github.retry import CountingRetry, default_retry

NOT_INSTALLED = "the worker runtime is not installed: call bot.app.runtime.install_runtime() at start-up"


@dataclass
class Runtime:
    settings: Settings
    model_client: Any | None = None
    metrics: Metrics = field(default_factory=Metrics)
    token_cache: TokenCache = field(default_factory=TokenCache)
    identity_cache: IdentityCache = field(default_factory=IdentityCache)  # who we are on GitHub (GET /app once)
    retry: CountingRetry = field(default_factory=default_retry)
    seconds_between_requests: float = 0.0
    seconds_between_writes: float = 0.25  # stays under GitHub's content-creation limits per review
    model_sleep: Callable[[float], None] = time.sleep  # backoff between model retries (tests: no wait)
    memory_store: MemoryStore | None = None  # the repository memory table (set by bot.app.workflows.launch)
    # what the GitHub Action changes (bot/cli/action.py); the App keeps these defaults
    graphql_url: str | None = None  # GITHUB_GRAPHQL_URL when set (else derived from the REST root)
    config_path: str = CONFIG_PATH  # the repository's config file, always read at the base commit
    max_cost_usd: float | None = None  # a ceiling under the config's llm.max_cost_usd
    model_on_forks: bool = True  # False: a fork's code never reaches the model (a workflow holds secrets)
    on_review: Callable[[Review], None] | None = None  # told of each published review (job summary, exit code)

    @property
    def creds(self) -> AppCredentials:
        s = self.settings
        return AppCredentials(s.github_app_id, s.github_private_key.get_secret_value())

    def gateway(self, installation_id: int, delivery_id: str) -> GitHubGateway:
        """A gateway for one step: its own call counter, the shared token cache."""
        return GitHubGateway(
            self.settings.github_api_url, self.creds, installation_id, token_cache=self.token_cache,
            delivery_id=delivery_id, retry=self.retry, seconds_between_requests=self.seconds_between_requests,
            seconds_between_writes=self.seconds_between_writes, identity_cache=self.identity_cache,
            graphql_url=self.graphql_url,
        )


_RUNTIME: Runtime | None = None


def install_runtime(runtime: Runtime) -> Runtime:
    global _RUNTIME
    _RUNTIME = runtime
    return runtime


def current_runtime() -> Runtime:
    if _RUNTIME is None:
        raise RuntimeError(NOT_INSTALLED)
    return _RUNTIME
