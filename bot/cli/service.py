"""`scale-review serve | worker | replay | doctor`: running the App (design.md Interfaces)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from bot.core.settings import Settings, SettingsError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
SETTINGS_PROBLEM = "scale-review: configuration problem: {problem}"
REPLAY_IGNORED = "ignored: {reason}"
REPLAY_UNREADABLE = "scale-review: cannot read {path}: {error}"
REPLAY_NOT_PAYLOAD = "scale-review: {path} is not a webhook payload: {error}"


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the App: webhook receiver and (unless --no-worker) the worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=None, metavar="N", help="reviews run at once by this process")
    serve.add_argument("--no-worker", action="store_true", help="receive and enqueue only (scale-out on PostgreSQL)")
    serve.add_argument("--no-redeliver", action="store_true",
                       help="do not ask GitHub to redeliver deliveries that failed while the App was down")
    serve.add_argument("--public-url", default=None,
                       help="this server's public URL (setup page; default: the request's host)")
    serve.add_argument("--env-file", type=Path, default=Path(".env"), help="credentials file read at start, "
                       "written by the setup page (default: .env)")
    serve.set_defaults(func=cmd_serve)
    worker = subparsers.add_parser("worker", help="run workflow workers only (scale-out on PostgreSQL)")
    worker.add_argument("--workers", type=int, default=None, metavar="N", help="reviews run at once by this process")
    worker.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve this worker's Prometheus metrics on PORT (/metrics; default "
                        "SCALE_REVIEW_METRICS_PORT)")
    worker.set_defaults(func=cmd_worker)
    replay = subparsers.add_parser("replay", help="feed a saved webhook payload through the same path")
    replay.add_argument("file", type=Path)
    replay.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. pull_request")
    replay.add_argument("--delivery", default=None, help="delivery id (default: derived from the file)")
    replay.set_defaults(func=cmd_replay)
    doctor = subparsers.add_parser("doctor", help="check the configuration and say what is wrong")
    doctor.set_defaults(func=cmd_doctor)


def load_settings(*, need_secret: bool = True, workers: int | None = None) -> Settings | None:
    """Settings from the environment, or None after printing every problem."""
    try:
        settings = Settings.from_env()
        problems = [p for p in settings.app_problems() if need_secret or "WEBHOOK_SECRET" not in p]
        if problems:
            raise SettingsError(problems)
    except SettingsError as exc:
        for problem in exc.problems:
            print(SETTINGS_PROBLEM.format(problem=problem), file=sys.stderr)
        return None
    if workers:
        settings = settings.model_copy(update={"worker_concurrency": max(1, workers)})
    return settings


def start_worker_runtime(settings: Settings) -> Any:
    """Logging, the model client and the runtime the workflow steps use."""
    from bot.app.logging_setup import configure_logging, settings_secrets
    from bot.app.runtime import Runtime, install_runtime
    from bot.app.tracing import configure_tracing
    from bot.specialist.client import make_client

    configure_logging(settings.log_level, settings.log_format, settings_secrets(settings))
    configure_tracing(os.environ)
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    client = make_client(api_key=key, base_url=settings.anthropic_base_url)
    return install_runtime(Runtime(settings, model_client=client))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import workflows
    from bot.app.metrics import dbos_queue_reader
    from bot.app.server import create_app
    from bot.app.setup_page import apply_env_file, needs_setup, serve_setup

    apply_env_file(args.env_file, os.environ)
    if needs_setup(os.environ):
        return serve_setup(args.host, args.port, environ=os.environ, env_path=args.env_file, public_url=args.public_url)
    settings = load_settings(workers=args.workers)
    if settings is None:
        return EXIT_USAGE
    runtime = start_worker_runtime(settings)
    enqueuer = workflows.launch(settings, worker=not args.no_worker)
    stop = threading.Event()
    if not args.no_redeliver:
        start_redelivery(runtime, stop)
    try:
        app = create_app(settings, enqueuer, metrics=runtime.metrics)
        queues = (workflows.PR_QUEUE, workflows.INSTALLATION_QUEUE)
        runtime.metrics.watch_queue(dbos_queue_reader(enqueuer.committer.engine, None, queues))
        if settings.metrics_port:  # metrics off the public listener: a port the Service/Ingress does not expose
            from prometheus_client import start_http_server

            start_http_server(settings.metrics_port, addr=args.host, registry=runtime.metrics.registry)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    finally:
        stop.set()
        workflows.shutdown()
    workflows.exit_now_if_stuck(EXIT_OK)
    return EXIT_OK


def start_redelivery(runtime: Any, stop: threading.Event) -> threading.Thread:
    """Soon after start, then periodically: ask GitHub to redeliver what failed (bot.app.redelivery)."""
    from bot.app.redelivery import run_periodically

    thread = threading.Thread(target=run_periodically, args=(lambda: runtime.gateway(0, ""), stop),
                              name="redelivery", daemon=True)
    thread.start()
    return thread


def cmd_worker(args: argparse.Namespace) -> int:
    from bot.app import workflows

    settings = load_settings(need_secret=False, workers=args.workers)
    if settings is None:
        return EXIT_USAGE
    runtime = start_worker_runtime(settings)
    metrics_port = args.metrics_port or settings.metrics_port
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="0.0.0.0", registry=runtime.metrics.registry)  # noqa: S104
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    workflows.launch(settings, worker=True)
    try:
        stop.wait()
    finally:
        workflows.shutdown()
    workflows.exit_now_if_stuck(EXIT_OK)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    import handlers
    from bot.app import workflows
    from bot.core.jobs import Ignored
    from handlers.context import Delivery
    from handlers.payloads import Envelope

    try:
        body = args.file.read_bytes()
    except OSError as exc:
        print(REPLAY_UNREADABLE.format(path=args.file, error=exc), file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings(need_secret=False)
    if settings is None:
        return EXIT_USAGE
    try:
        envelope = Envelope.parse(body)
    except ValidationError as exc:
        print(REPLAY_NOT_PAYLOAD.format(path=args.file, error=exc.errors()[0]["msg"]), file=sys.stderr)
        return EXIT_USAGE
    delivery_id = args.delivery or "replay-" + hashlib.sha256(body).hexdigest()[:24]
    decision = handlers.dispatch(Delivery(args.event, delivery_id, settings.github_app_id), envelope)
    if isinstance(decision, Ignored):
        print(REPLAY_IGNORED.format(reason=decision.reason))
        return EXIT_OK
    start_worker_runtime(settings)
    enqueuer = workflows.launch(settings, worker=True)
    try:
        enqueuer.enqueue_now(decision)
        from dbos import DBOS

        result: dict[str, Any] = DBOS.retrieve_workflow(delivery_id).get_result(polling_interval_sec=0.2)
    finally:
        workflows.shutdown()
    print(json.dumps(result, indent=2, default=str))
    return EXIT_PROBLEMS if result.get("outcome") == "error" else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.cli.doctor import run_checks

    problems = 0
    for ok, line in run_checks():
        print(("ok       " if ok else "PROBLEM  ") + line)
        problems += not ok
    return EXIT_PROBLEMS if problems else EXIT_OK
