"""Tracing: spans for the receiver, the workflow and each stage when an exporter is configured; nothing otherwise."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.app import tracing
from tests.support import webhooks as wh
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result


@pytest.fixture
def exporter() -> Iterator:
    memory = pytest.importorskip(
        "opentelemetry.sdk.trace.export.in_memory_span_exporter",
        reason="opentelemetry-sdk is not installed (pip install -e '.[dev]' installs it)")
    exported = memory.InMemorySpanExporter()
    assert tracing.configure_tracing(exporter=exported, batch=False)
    yield exported
    tracing.disable_tracing()


def test_a_review_is_one_trace_from_the_workflow_down_to_each_stage(fake_github, sqlite_backend, exporter):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        answer = deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery="tr-1")
        assert answer.status_code == 202
        wait_result("tr-1")
    spans = exporter.get_finished_spans()
    [hook] = [s for s in spans if s.name == "webhook"]
    assert hook.attributes["http.status_code"] == 202 and hook.attributes["scale_review.status"] == "accepted"
    [job] = [s for s in spans if s.name == "scale_review.job"]
    assert job.attributes["delivery_id"] == "tr-1"
    stages = [s for s in spans if s.name.startswith("stage.")]
    assert {s.attributes["stage"] for s in stages} == {"load", "analyze", "publish"}  # no model configured
    assert {s.attributes["step"] for s in stages} >= {"load_pull", "fetch_diff", "analyze", "post_review"}
    for stage in stages:
        assert stage.parent is not None and stage.parent.span_id == job.context.span_id
        assert stage.context.trace_id == job.context.trace_id
        assert job.start_time <= stage.start_time <= stage.end_time <= job.end_time


def test_without_an_exporter_spans_are_no_ops():
    tracing.disable_tracing()
    assert not tracing.configure_tracing({})
    assert not tracing.configure_tracing({"SCALE_REVIEW_TRACING": "off", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"})
    with tracing.span("anything", attr=1) as current:
        assert current is None
    assert not tracing.enabled()


def test_importing_the_app_does_not_import_the_opentelemetry_sdk():
    # bot.app.tracing alone imports nothing of opentelemetry; FastAPI itself may import the (light) API
    code = ("import sys, bot.app.tracing; a = any(m.startswith('opentelemetry') for m in sys.modules); "
            "import bot.app.server, bot.app.workflows, bot.app.setup_page; "
            "print(a, any(m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter')) for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False False"


def test_the_environment_chooses_the_exporter():
    pytest.importorskip("opentelemetry.sdk", reason="opentelemetry-sdk is not installed")
    console = tracing.exporter_from_env({"SCALE_REVIEW_TRACING": "console"})
    assert type(console).__name__ == "ConsoleSpanExporter"
    otlp = tracing.exporter_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert type(otlp).__name__ == "OTLPSpanExporter"
    assert tracing.exporter_from_env({}) is None
