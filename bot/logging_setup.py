"""Structured logs (structlog): JSON or console, one level, correlation ids as fields. Never secrets."""

from __future__ import annotations

import logging
import sys
from typing import TextIO, cast

import structlog

STDLIB_FORMAT = "%(levelname)s %(name)s %(message)s"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _CurrentStderr:
    """A file that is always the current `sys.stderr` (it may be replaced after logging is set up)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


CURRENT_STDERR = _CurrentStderr()


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    numeric = LEVELS.get(level, logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(cast(TextIO, CURRENT_STDERR)),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.INFO), stream=sys.stderr, format=STDLIB_FORMAT)


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
