"""OpenTelemetry tracing when an exporter is configured; a no-op (and no import of opentelemetry) otherwise.

`configure_tracing(environ)` at start-up: `OTEL_EXPORTER_OTLP_ENDPOINT` exports OTLP over HTTP,
`SCALE_REVIEW_TRACING=console` prints spans; `SCALE_REVIEW_TRACING=off` or neither leaves tracing off.
Tests pass their own exporter (`configure_tracing(exporter=...)`).

`span(name, **attributes)` opens a span (receiver request, workflow); `stage(name)` decorates a
durable review step: a span, the stage histogram and the GitHub rate limit seen by its gateways.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

import structlog

P = ParamSpec("P")
T = TypeVar("T")
G = TypeVar("G")
TRACER_NAME = "scale_review"
SERVICE_NAME = "scale-review"
MISSING_SDK = ("tracing is configured ({how}) but opentelemetry-sdk is not installed: "
               "pip install 'scale-review[tracing]'")

log = structlog.get_logger("scale_review.stage")
_tracer: Any | None = None
_gateways: ContextVar[list[Any] | None] = ContextVar("scale_review_stage_gateways", default=None)


class TracingUnavailable(RuntimeError):
    pass


def exporter_from_env(environ: Mapping[str, str]) -> Any | None:
    """The span exporter the environment asks for, or None (tracing off)."""
    mode = environ.get("SCALE_REVIEW_TRACING", "").strip().lower()
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if mode == "off" or (not mode and not endpoint):
        return None
    try:
        if mode == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            return ConsoleSpanExporter()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise TracingUnavailable(MISSING_SDK.format(how=mode or "OTEL_EXPORTER_OTLP_ENDPOINT")) from exc
    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself


def configure_tracing(environ: Mapping[str, str] | None = None, *, exporter: Any | None = None,
                      batch: bool = True) -> bool:
    """Install a tracer provider exporting to `exporter` (else the one `environ` asks for). True when on."""
    global _tracer
    try:
        chosen = exporter if exporter is not None else exporter_from_env(environ or {})
    except TracingUnavailable as exc:
        import structlog

        structlog.get_logger("scale_review.tracing").warning("tracing.unavailable", reason=str(exc))
        chosen = None
    if chosen is None:
        _tracer = None
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(chosen) if batch else SimpleSpanProcessor(chosen))
    _tracer = provider.get_tracer(TRACER_NAME)
    return True


def disable_tracing() -> None:
    global _tracer
    _tracer = None


def enabled() -> bool:
    return _tracer is not None


def span(name: str, **attributes: Any) -> AbstractContextManager[Any]:
    """A span when tracing is on (None attributes dropped), else a no-op context."""
    if _tracer is None:
        return nullcontext()
    attrs = {k: v for k, v in attributes.items() if isinstance(v, str | int | float | bool)}
    return _tracer.start_as_current_span(name, attributes=attrs)


def note_gateway(gateway: G) -> G:
    """Called where a step builds its GitHub gateway: its rate-limit headers are read when the stage ends."""
    seen = _gateways.get()
    if seen is not None:
        seen.append(gateway)
    return gateway


def _rate_limit_remaining(gateway: Any) -> int | None:
    requester = getattr(getattr(gateway, "_gh", None), "requester", None)
    remaining = getattr(requester, "rate_limiting", (-1, -1))[0]
    return remaining if isinstance(remaining, int) and remaining >= 0 else None


@contextmanager
def _stage_scope(stage_name: str, step: str) -> Iterator[None]:
    from bot.app.runtime import current_runtime

    metrics = current_runtime().metrics
    token = _gateways.set([])
    start = time.perf_counter()
    try:
        with span(f"stage.{stage_name}", stage=stage_name, step=step), metrics.time_stage(stage_name):
            yield
    finally:
        gateways = _gateways.get() or []
        for gateway in gateways:
            metrics.record_rate_limit(_rate_limit_remaining(gateway))
        _gateways.reset(token)
        log.debug("stage.finished", stage=stage_name, step=step, seconds=round(time.perf_counter() - start, 4),
                  github_calls=sum(getattr(g, "calls", 0) for g in gateways))


def stage(stage_name: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a review step (below `@DBOS.step`, so it times each real run, not a replay)."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with _stage_scope(stage_name, fn.__name__):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def records_review(fn: Callable[P, T]) -> Callable[P, T]:
    """Decorate the steps that finish a review's parts: once one succeeds, count the findings of the
    `Review` among its arguments, and the model usage of a `SpecialistResult` it returns."""
    from bot.core.model import Review
    from bot.specialist.outcome import SpecialistResult

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        result = fn(*args, **kwargs)
        from bot.app.runtime import current_runtime

        metrics = current_runtime().metrics
        for value in (*args, *kwargs.values()):
            if isinstance(value, Review):
                metrics.record_review(value.findings, {})
                break
        returned = getattr(result, "value", result)
        if isinstance(returned, SpecialistResult):
            metrics.record_review([], returned.stats())
        return result

    return wrapper
