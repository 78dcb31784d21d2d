"""The worker process dies (SIGKILL) at several points of a review, or PostgreSQL restarts under it.

After a restart the review finishes: exactly one review and one completed check run for the head,
no finding posted twice, the delivery not lost. The moment of death is exact: a hook on the fake
GitHub kills the process when a given request arrives (or once GitHub has handled it, so its answer
is lost with the process).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dbos import DBOS

from tests.app.test_workflows_recovery import free_port, github_env, post, start_serve
from tests.conftest import PG_URL, require_postgres
from tests.support import webhooks as wh
from tests.support.faults_harness import Hooks, assert_reviewed_once, diff_media, fault_app, settle, wait_for
from tests.support.service import app_settings, deliver, receiver, wait_result

# (method, path regex, request filter, kill after GitHub handled it?)
KILL_POINTS: dict[str, tuple[str, str, Any, bool]] = {
    "check-run-created-answer-lost": ("POST", r"/check-runs$", None, True),
    "after-check-run-created": ("GET", r"/pulls/7$", diff_media, False),
    "after-analysis": ("GET", r"/issues/7/comments$", None, False),
    "review-posted-answer-lost": ("POST", r"/pulls/7/reviews$", None, True),
    "after-review-before-check-completed": ("GET", r"/check-runs/\d+$", None, False),
}
PG_RESTART_TIMEOUT = 60


def head(gh: Any, number: int = 7) -> str:
    return str(gh.store.repos[wh.REPO].pulls[number].head_sha)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_at_a_point_of_the_review_then_restart(fake_github, tmp_path, point):
    gh = fake_github
    method, path, when, after = KILL_POINTS[point]
    env = {**github_env(gh), "GITHUB_API_URL": gh.url, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "SCALE_REVIEW_LOG_LEVEL": "warning"}
    port = free_port()
    proc = start_serve(env, tmp_path, port)
    killed: list[int] = []

    def kill() -> None:
        os.kill(proc.pid, signal.SIGKILL)
        killed.append(proc.pid)

    Hooks(gh).on(method, path, kill, when=when or (lambda _h, _b: True), after=after)
    try:
        assert post(port, "pull_request", wh.pull_request("opened", head=head(gh)), f"kill-{point}").status_code == 202
        wait_for(lambda: bool(killed), 60, f"the worker to reach {point}")
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    settle(gh)
    assert all(r["status"] != "completed" for r in gh.check_runs(wh.REPO))  # it really died mid-review
    proc = start_serve(env, tmp_path, port)  # same database: DBOS recovers the interrupted workflow
    try:
        wait_for(lambda: any(r["status"] == "completed" for r in gh.check_runs(wh.REPO)), 60,
                 "the recovered review to complete its check run")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert_reviewed_once(gh, 7, [head(gh)])
    [run] = gh.check_runs(wh.REPO)
    assert run["conclusion"] == "failure", run["output"]  # the real verdict, not a "could not finish"
    assert gh.count("POST", r"/check-runs$") == 1  # the started run was found again, not duplicated


# ---- PostgreSQL restarted under a running worker ------------------------------------------------

def pg_ctl() -> list[str]:
    """The restart command for the local cluster, or skip (fail in CI) when it cannot be run."""
    require_postgres()
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    why = None
    if shutil.which("pg_ctlcluster") is None or not versions:
        why = "pg_ctlcluster or /etc/postgresql is missing (PostgreSQL is not a local Debian cluster)"
    elif os.geteuid() != 0:
        why = "restarting the PostgreSQL server needs root"
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PostgreSQL restart test must run in CI: {why}")
        pytest.skip(why)
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def restart_postgres(ctl: list[str]) -> None:
    subprocess.run([*ctl, "restart"], check=True, timeout=PG_RESTART_TIMEOUT, capture_output=True)


def ensure_postgres_up(ctl: list[str]) -> None:
    from tests.conftest import postgres_reachable

    if postgres_reachable() is not None:
        subprocess.run([*ctl, "start"], check=False, timeout=PG_RESTART_TIMEOUT, capture_output=True)
    wait_for(lambda: postgres_reachable() is None, PG_RESTART_TIMEOUT, "PostgreSQL to be back up")


@pytest.fixture
def dedicated_database() -> Iterator[str]:
    """A database of its own for this test run (dropped afterwards)."""
    import psycopg

    require_postgres()
    name = f"sr_faults_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_restarted_under_a_running_worker(fake_github, dedicated_database):
    ctl = pg_ctl()
    gh = fake_github
    more = "import requests\n\n\ndef f(u):\n    return requests.get(u)\n"
    gh.add_pull(wh.REPO, 8, {"app/more.py": ("x = 1\n", more)})
    restarted: list[bool] = []

    def restart() -> None:  # while the worker waits for GitHub to create the check run
        restart_postgres(ctl)
        restarted.append(True)

    Hooks(gh).on("POST", r"/check-runs$", restart)
    settings = app_settings(gh, dedicated_database)
    answers: list[int] = []
    try:
        with fault_app(settings, timeout=PG_RESTART_TIMEOUT) as enq, receiver(settings, enq) as client:
            assert deliver(client, "pull_request", wh.pull_request(head=head(gh)), "pg-1").status_code == 202
            wait_for(lambda: bool(restarted), 60, "the PostgreSQL restart")
            payload = wh.pull_request(number=8, head=head(gh, 8))
            for _ in range(3):  # a 503 asks GitHub (or `scale-review redeliver`) to deliver again
                answers.append(deliver(client, "pull_request", payload, "pg-2").status_code)
                if answers[-1] != 503:
                    break
            results = [wait_result(d, timeout=90) for d in ("pg-1", "pg-2")]
            statuses = [DBOS.retrieve_workflow(d).get_status().status for d in ("pg-1", "pg-2")]
    finally:
        ensure_postgres_up(ctl)
    assert answers[-1] == 202, answers
    assert statuses == ["SUCCESS", "SUCCESS"], results
    assert results[0]["outcome"] == "failure" and results[1]["outcome"] not in ("error", "skipped"), results
    assert_reviewed_once(gh, 7, [head(gh)])
    assert_reviewed_once(gh, 8, [head(gh, 8)])


def test_the_receiver_accepts_the_first_delivery_after_postgres_restarted(fake_github, dedicated_database):
    ctl = pg_ctl()
    gh = fake_github
    settings = app_settings(gh, dedicated_database)
    try:
        with fault_app(settings) as enq, receiver(settings, enq) as client:
            assert deliver(client, "pull_request", wh.pull_request(head=head(gh)), "pgr-1").status_code == 202
            wait_result("pgr-1", timeout=60)
            restart_postgres(ctl)
            ensure_postgres_up(ctl)
            new = gh.push(wh.REPO, 7, {"app/extra.py": "x = 1\n"})
            answer = deliver(client, "pull_request", wh.pull_request("synchronize", head=new), "pgr-2")
            if answer.status_code == 202:
                wait_result("pgr-2", timeout=60)
    finally:
        ensure_postgres_up(ctl)
    assert answer.status_code == 202, answer.text
