"""One typed Settings object for the service, built once at start-up from the environment.

Only `Settings.from_env` reads the environment; everything else receives a Settings (or the slice
it needs). Variable names are the contract in design.md (Interfaces: Environment).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATABASE_URL = "sqlite:///scale-review.db"
DEFAULT_MODEL = "claude-sonnet-4-6"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024

MISSING_APP_ID = "GITHUB_APP_ID is not set (the App's id or client id)"
MISSING_KEY = "neither GITHUB_PRIVATE_KEY nor GITHUB_PRIVATE_KEY_PATH is set (the App's PEM key)"
MISSING_SECRET = "GITHUB_WEBHOOK_SECRET is not set (the receiver refuses unsigned deliveries)"  # noqa: S105
UNREADABLE_KEY = "GITHUB_PRIVATE_KEY_PATH={path} cannot be read: {error}"
BAD_LOG_LEVEL = "SCALE_REVIEW_LOG_LEVEL={value} is not one of debug, info, warning, error"
BAD_LOG_FORMAT = "SCALE_REVIEW_LOG_FORMAT={value} is not one of json, console"
BAD_NUMBER = "{name}={value} is not a number from {low:g} to {high:g}"
BAD_METRICS_PATH = ("SCALE_REVIEW_METRICS_PATH={value} is not a path such as /metrics or /internal/metrics "
                    "(letters, digits, - _ . /; not /webhook, /healthz or /readyz)")
DEFAULT_METRICS_PATH = "/metrics"
RESERVED_PATHS = ("/webhook", "/healthz", "/readyz")
_METRICS_PATH = re.compile(r"/[A-Za-z0-9._~/-]{1,100}")
# tuning variables: name -> (Settings field, type, lowest, highest)
TUNING: dict[str, tuple[str, type, float, float]] = {
    "SCALE_REVIEW_WORKER_CONCURRENCY": ("worker_concurrency", int, 1, 256),
    "SCALE_REVIEW_INSTALLATION_CONCURRENCY": ("installation_concurrency", int, 1, 256),
    "SCALE_REVIEW_INSTALLATION_REVIEWS_PER_MINUTE": ("installation_reviews_per_minute", int, 1, 10_000),
    "SCALE_REVIEW_QUEUE_POLLING_SECONDS": ("queue_polling_seconds", float, 0.05, 60),
    "SCALE_REVIEW_METRICS_PORT": ("metrics_port", int, 1, 65_535),
}

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["json", "console"]


class SettingsError(ValueError):
    """The configuration cannot run the requested command; `problems` says exactly why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Settings(BaseModel):
    """Everything the App needs from its environment. Secrets never print (SecretStr)."""

    model_config = ConfigDict(frozen=True)

    github_app_id: str = ""
    github_private_key: SecretStr = SecretStr("")
    webhook_secrets: tuple[SecretStr, ...] = ()
    github_api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    model: str = DEFAULT_MODEL
    log_level: LogLevel = "info"
    log_format: LogFormat = "json"
    max_webhook_bytes: int = Field(default=MAX_WEBHOOK_BYTES, ge=1)
    worker_concurrency: int = Field(default=4, ge=1, le=256)
    installation_reviews_per_minute: int = Field(default=30, ge=1)
    installation_concurrency: int = Field(default=4, ge=1)
    queue_polling_seconds: float = Field(default=1.0, gt=0)
    executor_id: str = ""  # who recovers this process's workflows after a restart (PostgreSQL scale-out)
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)  # set: /metrics only on this port
    metrics_path: str = DEFAULT_METRICS_PATH  # where the main listener serves metrics (no metrics_port)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the documented variables; raise SettingsError for values that cannot be used."""
        env = os.environ if environ is None else environ
        problems: list[str] = []
        key = env.get("GITHUB_PRIVATE_KEY", "")
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH", "")
        if not key and key_path:
            try:
                key = Path(key_path).expanduser().read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                problems.append(UNREADABLE_KEY.format(path=key_path, error=exc))
        level = env.get("SCALE_REVIEW_LOG_LEVEL", "info").lower()
        if level not in ("debug", "info", "warning", "error"):
            problems.append(BAD_LOG_LEVEL.format(value=level))
            level = "info"
        fmt = env.get("SCALE_REVIEW_LOG_FORMAT", "json").lower()
        if fmt not in ("json", "console"):
            problems.append(BAD_LOG_FORMAT.format(value=fmt))
            fmt = "json"
        tuning = _tuning(env, problems)
        metrics_path = env.get("SCALE_REVIEW_METRICS_PATH", "").strip() or DEFAULT_METRICS_PATH
        if not _METRICS_PATH.fullmatch(metrics_path) or metrics_path.rstrip("/") in RESERVED_PATHS:
            problems.append(BAD_METRICS_PATH.format(value=metrics_path[:60]))
        if problems:
            raise SettingsError(problems)
        api_key = env.get("ANTHROPIC_API_KEY")
        return cls(
            github_app_id=env.get("GITHUB_APP_ID", "").strip(),
            # a PEM pasted into an env var often carries literal "\n" sequences
            github_private_key=SecretStr(key.replace("\\n", "\n").strip()),
            webhook_secrets=parse_secrets(env.get("GITHUB_WEBHOOK_SECRET", "")),
            github_api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            anthropic_api_key=SecretStr(api_key) if api_key else None,
            anthropic_base_url=env.get("ANTHROPIC_BASE_URL") or None,
            model=env.get("SCALE_REVIEW_MODEL") or DEFAULT_MODEL,
            log_level=level,  # type: ignore[arg-type]
            log_format=fmt,  # type: ignore[arg-type]
            executor_id=env.get("SCALE_REVIEW_EXECUTOR_ID", "").strip(),
            metrics_path=metrics_path,
            **tuning,
        )

    def app_problems(self) -> list[str]:
        """What is missing for `serve`/`worker`: the App id, its key and the webhook secret."""
        problems = []
        if not self.github_app_id:
            problems.append(MISSING_APP_ID)
        if not self.github_private_key.get_secret_value():
            problems.append(MISSING_KEY)
        if not self.webhook_secrets:
            problems.append(MISSING_SECRET)
        return problems

    def require_app(self) -> Settings:
        """Return self, or raise SettingsError naming every missing variable."""
        problems = self.app_problems()
        if problems:
            raise SettingsError(problems)
        return self

    def secret_bytes(self) -> tuple[bytes, ...]:
        return tuple(s.get_secret_value().encode("utf-8") for s in self.webhook_secrets)

    @property
    def llm_enabled(self) -> bool:
        return self.anthropic_api_key is not None


def parse_secrets(raw: str) -> tuple[SecretStr, ...]:
    """`GITHUB_WEBHOOK_SECRET` may hold several secrets separated by commas while rotating."""
    return tuple(SecretStr(part.strip()) for part in raw.split(",") if part.strip())


def _tuning(env: Mapping[str, str], problems: list[str]) -> dict[str, Any]:
    """The tuning variables that are set, checked against their ranges (problems appended)."""
    out: dict[str, Any] = {}
    for name, (field, kind, low, high) in TUNING.items():
        raw = env.get(name, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # NaN fails the range test too
            problems.append(BAD_NUMBER.format(name=name, value=raw[:40], low=low, high=high))
            continue
        out[field] = value
    return out
