"""Logs: JSON lines carrying the review's correlation ids, and never a credential (even when code logs one)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from bot.app.logging_setup import REDACTED, Redactor, configure_logging, review_context, settings_secrets
from tests.support import webhooks as wh
from tests.support.service import SECRET, app_settings, deliver, receiver, running_app, wait_result

JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in handlers}
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level
    for handler, old in filters.items():
        handler.filters = old


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def credentials(gh) -> list[str]:
    """Every credential the review used: installation tokens, App JWTs (from the requests the fake
    received), the webhook secret, and each line of the App's private key body."""
    found = list(gh.store.tokens)
    for call in gh.calls:
        auth = call.headers.get("authorization", "")
        if " " in auth:
            found.append(auth.split(" ", 1)[1])
    key_lines = [ln for ln in gh.private_key_pem.splitlines() if ln and "-----" not in ln]
    return found + key_lines + [SECRET]


def test_a_review_at_debug_logs_correlated_json_and_no_credentials(fake_github, sqlite_backend, capsys, caplog,
                                                                   restore_logging):
    gh = fake_github
    settings = app_settings(gh, sqlite_backend.url, log_level="debug")
    configure_logging("debug", "json", settings_secrets(settings))
    caplog.set_level(logging.DEBUG)
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    with running_app(settings) as enq, receiver(settings, enq) as client:
        answer = deliver(client, "pull_request", wh.pull_request("opened", head=head), delivery="log-1")
        assert answer.status_code == 202
        assert wait_result("log-1")["outcome"] == "failure"
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    secrets = credentials(gh)
    assert any(s.startswith("ghs_") for s in secrets) and any(JWT.fullmatch(s) for s in secrets)
    for secret in secrets:
        assert secret not in everything, f"a credential leaked into the logs: {secret[:8]}..."
    assert not JWT.search(everything)
    lines = json_lines(captured.err + captured.out)
    review_lines = [ln for ln in lines if ln["event"].startswith(("stage.", "job."))]
    assert {ln["event"] for ln in review_lines} >= {"stage.finished", "job.finished"}
    assert len(review_lines) >= 7  # six stage steps without a model, then the job
    for line in review_lines:
        assert (line["delivery_id"], line["repo"], line["pr"], line["head_sha"]) == ("log-1", wh.REPO, 7, head), line


def test_credentials_logged_by_mistake_are_redacted(capsys, restore_logging):
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAuX2kLNgBODY+body+line+one\nsecondline0123456789abcd\n" \
          "-----END RSA PRIVATE KEY-----\n"
    configure_logging("debug", "json", ["hook-secret-value", pem])
    token = "ghs_" + "A1b2C3d4" * 4
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MjQyIn0.c2lnbmF0dXJlLWJ5dGVz"
    log = structlog.get_logger("test")
    log.error("oops", token=token, header=f"Bearer {jwt}", nested={"list": ["hook-secret-value", pem]},
              note="key line secondline0123456789abcd in a message")
    try:
        raise RuntimeError(f"auth failed with token {token}")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("urllib3").warning("sent %s with %s", pem, token)
    out = capsys.readouterr()
    text = out.out + out.err
    for leaked in (token, jwt, "hook-secret-value", "MIIEowIBAAKCAQEAuX2kLNgBODY", "secondline0123456789abcd"):
        assert leaked not in text, leaked
    [first] = [ln for ln in json_lines(text) if ln["event"] == "oops"]
    assert first["token"] == REDACTED and [v.strip() for v in first["nested"]["list"]] == [REDACTED, REDACTED]


def test_the_review_context_is_bound_only_inside(capsys, restore_logging):
    configure_logging("info", "json")
    log = structlog.get_logger("test")
    with review_context("d-1", "o/r", 3, "abc"):
        log.info("inside")
    log.info("outside")
    inside, outside = json_lines(capsys.readouterr().err)
    assert (inside["delivery_id"], inside["repo"], inside["pr"], inside["head_sha"]) == ("d-1", "o/r", 3, "abc")
    assert "delivery_id" not in outside


def test_short_or_empty_secrets_do_not_redact_ordinary_words():
    redactor = Redactor(["", "abc", "a-real-secret"])
    assert redactor.text("abc is fine, a-real-secret is not") == f"abc is fine, {REDACTED} is not"
