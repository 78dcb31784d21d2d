"""Structured logs (structlog): JSON or console, one level, correlation ids as fields. Never secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO, cast

import structlog

from bot.core.credentials import SHAPES, mask_credentials

STDLIB_FORMAT = "%(levelname)s %(name)s %(message)s"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _CurrentStderr:
    """A file that is always the current `sys.stderr` (it may be replaced after logging is set up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


CURRENT_STDERR = _CurrentStderr()


REDACTED = "[redacted]"
# Credentials by shape: one list for logs and for what is sent to the model (bot/core/credentials.py)
SECRET_PATTERNS = SHAPES
_active_redactor: Redactor | None = None  # the one configure_logging installed (DBOS's handler gets it too)
MIN_SECRET_LENGTH = 6  # shorter literal "secrets" would redact ordinary words
MAX_REDACT_DEPTH = 6


class Redactor:
    """Second line of defence: replaces known secret values and credential-shaped text in every field."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.literals: list[str] = []
        for secret in secrets:
            self.literals.extend(_secret_parts(secret))

    def text(self, value: str) -> str:
        for literal in self.literals:
            if literal in value:
                value = value.replace(literal, REDACTED)
        return mask_credentials(value, REDACTED).text

    def value(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if depth >= MAX_REDACT_DEPTH:
            return value
        if isinstance(value, Mapping):
            return {k: self.value(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v, depth + 1) for v in value]
        return value

    def __call__(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
        return {key: self.value(val) for key, val in event.items()}


def _secret_parts(secret: str) -> list[str]:
    """A secret, and for a PEM key each line of its body (a log may carry one line of it)."""
    secret = secret.strip()
    if len(secret) < MIN_SECRET_LENGTH:
        return []
    parts = [secret]
    if "-----BEGIN" in secret:
        parts += [ln.strip() for ln in secret.splitlines() if len(ln.strip()) >= 16 and "-----" not in ln]
    return parts


class RedactingFilter(logging.Filter):
    """The same redaction for stdlib log records (DBOS, httpx, urllib3, uvicorn)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error path
            return True
        record.msg, record.args = self.redactor.text(message), None
        return True


@contextmanager
def review_context(delivery_id: str, repo: str, pr: int | None, head_sha: str | None) -> Iterator[None]:
    """Bind the review's correlation ids to every log line written inside (structlog contextvars)."""
    with structlog.contextvars.bound_contextvars(delivery_id=delivery_id, repo=repo, pr=pr, head_sha=head_sha):
        yield


def configure_logging(level: str = "info", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
    """Configure structlog and the stdlib root logger. `secrets` (webhook secrets, the App key, API keys)
    are redacted from every line, as are credential-shaped strings."""
    numeric = LEVELS.get(level, logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    global _active_redactor
    redactor = _active_redactor = Redactor(secrets)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redactor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, CURRENT_STDERR)),
        cache_logger_on_first_use=False,  # a later configure_logging (setup mode -> serve, tests) must take effect
    )
    logging.basicConfig(level=max(numeric, logging.INFO), stream=sys.stderr, format=STDLIB_FORMAT)
    install_stdlib_redaction(redactor)


def install_stdlib_redaction(redactor: Redactor) -> None:
    """Put one RedactingFilter (replacing an earlier one) on the root's and DBOS's handlers."""
    for logger in (logging.getLogger(), logging.getLogger("dbos")):
        for handler in logger.handlers:
            for old in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(old)
            handler.addFilter(RedactingFilter(redactor))


DBOS_CONSOLE_HANDLER = "__dbos_console_log_handler__"  # the name DBOS gives its console handler


class CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is now, not to the stream it saw when it was created."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        return


def route_dbos_logs() -> None:
    """Give DBOS's logger a console handler that follows `sys.stderr` (DBOS would otherwise keep
    the stream of the moment it was first created, which breaks once that stream is replaced)."""
    logger = logging.getLogger("dbos")
    for handler in list(logger.handlers):
        if handler.name == DBOS_CONSOLE_HANDLER and not isinstance(handler, CurrentStderrHandler):
            logger.removeHandler(handler)
    if not any(isinstance(h, CurrentStderrHandler) for h in logger.handlers):
        handler = CurrentStderrHandler()
        handler.name = DBOS_CONSOLE_HANDLER
        handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)8s] (%(name)s) %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    if _active_redactor is not None:
        install_stdlib_redaction(_active_redactor)


def settings_secrets(settings: Any) -> list[str]:
    """The secret values in `Settings` that logs must never show (for `configure_logging(secrets=...)`)."""
    values = [s.get_secret_value() for s in settings.webhook_secrets]
    values.append(settings.github_private_key.get_secret_value())
    if settings.anthropic_api_key is not None:
        values.append(settings.anthropic_api_key.get_secret_value())
    return [v for v in values if v]
