"""The model client: building it for a provider, and one call with bounded retries.

The SDK retries 429/5xx itself (`max_retries`, honouring retry-after); `call_model` adds a few
spaced attempts on top for longer overloads. A failure is returned, never raised, so a review
with an unavailable model degrades instead of crashing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import anthropic

Provider = Literal["anthropic", "bedrock", "vertex"]
MODEL_ATTEMPTS = 3
BACKOFF_SECONDS = (4.0, 16.0)
SDK_MAX_RETRIES = 3
REQUEST_TIMEOUT = 180.0
RETRYABLE_STATUS = {408, 409, 429}

UNAVAILABLE = "model unavailable after {attempts} attempts ({error})"
REJECTED = "model request rejected ({error})"


@dataclass(frozen=True)
class ModelFailure:
    reason: str
    retryable: bool


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name} {status}" if status else name


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, anthropic.APIConnectionError):
        return True
    if isinstance(exc, anthropic.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


def call_model(
    client: Any,
    params: dict[str, Any],
    *,
    timeout: float,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = MODEL_ATTEMPTS,
) -> Any:
    """`client.messages.create(**params)`; returns the Message or a ModelFailure."""
    last = "no attempt made"
    for attempt in range(attempts):
        try:
            return client.messages.create(**params, timeout=max(1.0, timeout))
        except anthropic.APIError as exc:
            last = _describe(exc)
            if not _retryable(exc):
                return ModelFailure(REJECTED.format(error=last), retryable=False)
        except Exception as exc:  # a provider client failing outside the SDK's error types (e.g. credentials)
            return ModelFailure(REJECTED.format(error=_describe(exc)), retryable=False)
        if attempt + 1 < attempts:
            sleep(BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)])
    return ModelFailure(UNAVAILABLE.format(attempts=attempts, error=last), retryable=True)


def make_client(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    provider: Provider = "anthropic",
    auth_token: str | None = None,
    aws_region: str | None = None,
    vertex_project: str | None = None,
    vertex_region: str | None = None,
    max_retries: int = SDK_MAX_RETRIES,
    timeout: float = REQUEST_TIMEOUT,
    http_client: Any = None,
) -> Any | None:
    """A synchronous client for the provider, or None when it has no credentials (static-only review)."""
    common: dict[str, Any] = {"max_retries": max_retries, "timeout": timeout}
    if http_client is not None:
        common["http_client"] = http_client
    if base_url:
        common["base_url"] = base_url
    try:
        if provider == "bedrock":
            if not aws_region:
                return None
            return anthropic.AnthropicBedrock(aws_region=aws_region, api_key=api_key, **common)
        if provider == "vertex":
            if not (vertex_project and vertex_region):
                return None
            return anthropic.AnthropicVertex(region=vertex_region, project_id=vertex_project, **common)
        if not (api_key or auth_token):
            return None
        return anthropic.Anthropic(api_key=api_key, auth_token=auth_token, **common)
    except (anthropic.AnthropicError, ValueError, TypeError, ImportError):
        return None


def client_from_env(env: Mapping[str, str]) -> Any | None:
    """The model client the SDK's own variables describe, or None (static analysis only).

    `SCALE_REVIEW_PROVIDER` picks `anthropic` (default; `ANTHROPIC_API_KEY`/`ANTHROPIC_AUTH_TOKEN`,
    `ANTHROPIC_BASE_URL` for a compatible gateway), `bedrock` (`AWS_REGION`) or `vertex`
    (`ANTHROPIC_VERTEX_PROJECT_ID`, `CLOUD_ML_REGION`).
    """
    provider = env.get("SCALE_REVIEW_PROVIDER", "anthropic").lower()
    if provider not in ("anthropic", "bedrock", "vertex"):
        return None
    return make_client(
        api_key=env.get("ANTHROPIC_API_KEY") or None,
        auth_token=env.get("ANTHROPIC_AUTH_TOKEN") or None,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        provider=provider,  # type: ignore[arg-type]
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
        vertex_project=env.get("ANTHROPIC_VERTEX_PROJECT_ID") or None,
        vertex_region=env.get("CLOUD_ML_REGION") or None,
    )
