"""Load run (a benchmark and the engine of tests/app/test_load.py): PR events with rapid pushes through one
receiver and two worker processes on PostgreSQL, against a FakeGitHub on 127.0.0.1.

    .venv/bin/python bench/load.py [--prs 20] [--events 200] [--workers 2] [--timeout 170]
                                   [--postgres postgresql://postgres@127.0.0.1:5432/test]

Processes are the product's own commands: `scale-review serve --no-worker --no-redeliver` and
`scale-review worker` (each with its own SCALE_REVIEW_EXECUTOR_ID), on a database created for the
run and dropped after it. The PRs are spread over installations (two PRs each) so the per-installation
review limit (30 a minute) does not pace the run. Per PR: `opened`, then `synchronize` events, each
after a push that makes a new head sha; every tenth delivery is sent twice (a redelivery).
Prints deliveries/s at the receiver, the time to drain (last delivery accepted -> every workflow
finished) and what GitHub received.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_load import free_port, wait_ready  # noqa: E402
from bot.core.security import sign  # noqa: E402

SCALE_REVIEW = str(Path(sys.executable).with_name("scale-review"))
SECRET = "load-secret"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PRS_PER_INSTALLATION = 2
FIRST_INSTALLATION = 5000
PR_BASE = "def total(db):\n    return 0\n"
PR_HEAD = ("import requests\n\n\ndef total(db, ids):\n    out = []\n    for i in ids:\n"
           "        out.append(db.execute(\"SELECT * FROM orders WHERE id = %s\", (i,)).fetchone())\n"
           "    return out\n\n\ndef fetch(url):\n    return requests.get(url).json()\n")
TERMINAL = ("SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
RESEND_EVERY = 10
SENDERS = 8


@dataclass(frozen=True)
class PullRef:
    repo: str
    number: int
    installation: int


@dataclass
class LoadReport:
    events: int
    redeliveries: int
    answers: dict[int, int]
    duplicates: int
    send_seconds: float
    drain_seconds: float
    workflows: dict[str, int]
    github_calls: int
    latest: dict[str, str] = field(default_factory=dict)  # "repo#n" -> latest head sha

    @property
    def deliveries_per_second(self) -> float:
        return (self.events + self.redeliveries) / max(self.send_seconds, 1e-9)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "redeliveries": self.redeliveries, "answers": self.answers,
                "duplicates": self.duplicates, "send_seconds": round(self.send_seconds, 2),
                "deliveries_per_second": round(self.deliveries_per_second, 1),
                "drain_seconds": round(self.drain_seconds, 2), "workflows": self.workflows,
                "github_calls": self.github_calls}


def seed(gh: Any, prs: int) -> list[PullRef]:
    """`prs` pull requests, two per installation, each with a query in a loop (the gate fails)."""
    refs = []
    for i in range(prs):
        inst = FIRST_INSTALLATION + i // PRS_PER_INSTALLATION
        repo = f"org{inst}/svc"
        if i % PRS_PER_INSTALLATION == 0:
            gh.add_installation(inst, f"org{inst}")
            gh.add_repo(repo, {"README.md": "hi\n"}, installation_id=inst)
        number = 100 + i
        gh.add_pull(repo, number, {"app/orders.py": (PR_BASE, PR_HEAD)}, title=f"Orders {number}")
        refs.append(PullRef(repo, number, inst))
    return refs


def payload(ref: PullRef, action: str, head: str) -> dict[str, Any]:
    owner, name = ref.repo.split("/")
    repo = {"id": ref.installation, "full_name": ref.repo, "name": name,
            "owner": {"login": owner, "type": "Organization"}}
    return {"action": action, "number": ref.number,
            "pull_request": {"number": ref.number, "state": "open", "draft": False, "title": "Orders", "body": "",
                             "head": {"sha": head, "ref": "feature", "repo": repo},
                             "base": {"sha": "b" * 40, "ref": "main", "repo": repo},
                             "user": {"login": "alice", "type": "User"}},
            "repository": repo, "installation": {"id": ref.installation}, "sender": {"login": "alice", "type": "User"}}


def plan_events(gh: Any, refs: list[PullRef], events: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(delivery id, payload) in sending order: rounds over the PRs, a push before each synchronize."""
    for k in range(events):
        ref = refs[k % len(refs)]
        first = k < len(refs)
        head = gh.store.repos[ref.repo].pulls[ref.number].head_sha if first else \
            gh.push(ref.repo, ref.number, {"app/extra.py": f"x = {k}\n"})
        yield f"load-{k:04d}-{uuid.uuid4().hex[:8]}", payload(ref, "opened" if first else "synchronize", head)


def env_for(gh: Any, database_url: str, executor: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, "GITHUB_APP_ID": str(gh.app_id), "GITHUB_PRIVATE_KEY": gh.private_key_pem,
            "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": gh.url, "DATABASE_URL": database_url,
            "SCALE_REVIEW_EXECUTOR_ID": executor, "SCALE_REVIEW_LOG_LEVEL": "warning"}


@contextmanager
def process(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([SCALE_REVIEW, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextmanager
def dedicated_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"sr_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def workflow_counts(database_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("SELECT status, count(*) FROM dbos.workflow_status GROUP BY status").fetchall()
    return {str(status): int(n) for status, n in rows}


def send_all(port: int, deliveries: list[tuple[str, dict[str, Any]]]) -> list[tuple[int, str]]:
    """POST every delivery (SENDERS at a time, in order of the list); (status, body status) each."""
    def one(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
        delivery, body = item
        raw = json.dumps(body).encode()
        headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": delivery, "Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(raw, SECRET.encode())}
        r = client.post(f"http://127.0.0.1:{port}/webhook", content=raw, headers=headers)
        return r.status_code, str(r.json().get("status", ""))

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(SENDERS) as pool:
        return list(pool.map(one, deliveries))


def run_load(gh: Any, admin_url: str, workdir: Path, *, prs: int = 20, events: int = 200, workers: int = 2,
             timeout: float = 170) -> LoadReport:
    """The whole run; raises TimeoutError when the workflows do not drain within `timeout` seconds."""
    refs = seed(gh, prs)
    planned = list(plan_events(gh, refs, events))
    resent = planned[RESEND_EVERY - 1::RESEND_EVERY]
    start = time.monotonic()
    with ExitStack() as stack:
        url = stack.enter_context(dedicated_database(admin_url))
        port = free_port()
        serve = stack.enter_context(process(["serve", "--no-worker", "--no-redeliver", "--port", str(port)],
                                            env_for(gh, url, "receiver"), workdir, workdir / "serve.log"))
        wait_ready(port, serve)
        for w in range(workers):
            log = workdir / f"worker{w}.log"
            stack.enter_context(process(["worker"], env_for(gh, url, f"worker-{w}"), workdir, log))
        sent_at = time.monotonic()
        answers = send_all(port, planned + resent)
        send_seconds = time.monotonic() - sent_at
        drained_at = wait_drained(url, events, start + timeout)
        counts = workflow_counts(url)
    latest = {f"{r.repo}#{r.number}": gh.store.repos[r.repo].pulls[r.number].head_sha for r in refs}
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return LoadReport(events=events, redeliveries=len(resent), answers=statuses,
                      duplicates=sum(kind == "duplicate" for _, kind in answers), send_seconds=send_seconds,
                      drain_seconds=drained_at - (sent_at + send_seconds), workflows=counts,
                      github_calls=len(gh.calls), latest=latest)


def wait_drained(url: str, deliveries: int, deadline: float) -> float:
    """When every delivery's workflow (and each job it started) has finished."""
    while time.monotonic() < deadline:
        counts = workflow_counts(url)
        done = sum(n for status, n in counts.items() if status in TERMINAL)
        if done >= deliveries and done == sum(counts.values()):
            return time.monotonic()
        time.sleep(0.25)
    raise TimeoutError(f"workflows not drained: {workflow_counts(url)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", type=int, default=20)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=170)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    args = parser.parse_args()
    import tempfile

    from tests.support.fakegithub import FakeGitHub

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        report = run_load(gh, args.postgres, Path(tmp), prs=args.prs, events=args.events, workers=args.workers,
                          timeout=args.timeout)
    print(json.dumps(report.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
