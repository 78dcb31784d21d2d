"""Kill the App (SIGKILL) in the middle of a review; after a restart exactly one review is posted and
the check run completes. Also: `scale-review serve` starts with only the three GitHub variables."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import webhooks as wh
from tests.support.service import SECRET

SCALE_REVIEW = str(Path(sys.executable).with_name("scale-review"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([SCALE_REVIEW, "serve", "--port", str(port)], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited early: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("serve did not answer /healthz within 30 s")


def github_env(gh) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT")}
    return {**keep, "GITHUB_APP_ID": str(gh.app_id), "GITHUB_PRIVATE_KEY": gh.private_key_pem,
            "GITHUB_WEBHOOK_SECRET": SECRET}


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def post(port: int, event: str, payload: dict, delivery: str) -> httpx.Response:
    body, headers = wh.signed(event, payload, SECRET.encode(), delivery=delivery)
    return httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers, timeout=10)


def test_serve_starts_with_only_the_three_github_variables(fake_github, tmp_path):
    port = free_port()
    proc = start_serve(github_env(fake_github), tmp_path, port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        assert "scale_review_webhook_seconds" in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert post(port, "ping", wh.ping(), "boot-ping").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "scale-review.db").exists()  # the default DATABASE_URL


def test_sigkill_mid_review_then_restart_posts_exactly_one_review(fake_github, tmp_path):
    gh = fake_github
    head = gh.store.repos[wh.REPO].pulls[7].head_sha
    # the review POST reaches GitHub, then its answer takes 2 s: the worker dies waiting for it
    gh.slow("POST", r"/pulls/7/reviews$", seconds=2.0)
    env = {**github_env(gh), "GITHUB_API_URL": gh.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    port = free_port()
    proc = start_serve(env, tmp_path, port)
    try:
        assert post(port, "pull_request", wh.pull_request("opened", head=head), "kill-1").status_code == 202
        wait_for(lambda: gh.count("POST", r"/pulls/7/reviews$") == 1, 60, "the review POST")
        assert gh.check_runs(wh.REPO)[0]["status"] == "in_progress"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(2.5)  # GitHub finishes the write the dead process never heard about
    assert len(gh.reviews(wh.REPO, 7)) == 1
    proc = start_serve(env, tmp_path, port)  # same database: DBOS recovers the interrupted workflow
    try:
        wait_for(lambda: gh.check_runs(wh.REPO)[0]["status"] == "completed", 60, "the check run to complete")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    [run] = gh.check_runs(wh.REPO)
    assert run["conclusion"] == "failure"
    assert len(gh.reviews(wh.REPO, 7)) == 1  # found again by its marker: not posted twice
    assert gh.count("POST", r"/pulls/7/reviews$") == 1
    assert gh.count("POST", r"/check-runs$") == 1  # the started check run was reused, not duplicated
