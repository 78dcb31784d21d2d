"""End-to-end latency (not a test): delivery accepted -> check run completed, static only, for 10-file
PRs, through one `scale-review serve` process.

    .venv/bin/python bench/end_to_end.py [--quick]

`serve` runs as a real subprocess on 127.0.0.1 (SQLite in a temp dir, no model key, `GITHUB_API_URL`
pointing at a `FakeGitHub` in this process). Each PR gets one signed `pull_request` opened delivery
over HTTP, one PR at a time; the clock starts when the receiver answers 202 and stops when the fake
holds a completed `Scalability review` check run for that head (polled every few ms). Baseline: the
same reviews run in this process with `bot.review.pipeline.review_change` on the same diffs (engine time
only). Ratio: baseline p50 / ours p50, the share of the latency that is the engine itself.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.http_load import free_port, wait_ready  # noqa: E402
from bot.core.diff import parse_diff  # noqa: E402
from bot.core.repo import Entry, RepoAccessError, TextMatch, glob_match, search_lines  # noqa: E402
from bot.core.repo_config import load_repo_config  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.review.pipeline import review_change  # noqa: E402
from tests import webhooks as wh  # noqa: E402
from tests.support.fakegithub import FakeGitHub  # noqa: E402
from tests.support.service import SECRET  # noqa: E402

SCALE_REVIEW = str(Path(sys.executable).with_name("scale-review"))
FILES = 10
FIRST_PR = 100
START_SECONDS = 60.0
REVIEW_SECONDS = 30.0
POLL_SECONDS = 0.005
UNIT = "ms p50, delivery accepted -> check run completed"
NOTES = ("p50 {p50:.0f} ms, p95 {p95:.0f} ms over {n} PRs (10 files each, static only, one serve, one PR at a "
         "time); engine alone p50 {b50:.0f} ms, p95 {b95:.0f} ms: service overhead {over:.0f} ms at p50 "
         "({factor:.1f}x); the first review (cold) took {first:.0f} ms; "
         "the worker polls its queue every {polling} s (SCALE_REVIEW_QUEUE_POLLING_SECONDS)")


def pr_files(pr: int) -> dict[str, tuple[str, str]]:
    """Ten files per PR, each with an HTTP call without a timeout; distinct text per PR (no shared blobs)."""
    return {f"svc{pr}/mod{i}.py": (f"def f{i}():\n    return {i + pr}\n",
                                   f"import requests\n\n\ndef f{i}(url):\n    # pr {pr}\n"
                                   f"    return requests.get(url).json()\n")
            for i in range(FILES)}


class MemoryRepo:
    """The PR's head tree as a RepoView (the baseline's repository)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: str) -> str:
        if path not in self.files:
            raise RepoAccessError(f"no such file: {path}")
        return self.files[path]

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(p for p in self.files if glob_match(p, glob))

    def list_folder(self, path: str) -> list[Entry]:
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        names = sorted({p[len(prefix):].split("/", 1)[0] for p in self.files if p.startswith(prefix)})
        return [Entry(path=prefix + n, kind="file" if prefix + n in self.files else "dir") for n in names]

    def search_text(self, pattern: str, glob: str | None = None, max_results: int = 100) -> list[TextMatch]:
        return search_lines(self, pattern, glob, max_results)


def start_serve(gh: FakeGitHub, tmp: Path, port: int) -> subprocess.Popen[bytes]:
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "TMPDIR", "SCALE_REVIEW_QUEUE_POLLING_SECONDS")}
    env = {**keep, "GITHUB_APP_ID": str(gh.app_id), "GITHUB_PRIVATE_KEY": gh.private_key_pem,
           "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": gh.url,
           "DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}", "SCALE_REVIEW_LOG_LEVEL": "warning"}
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([SCALE_REVIEW, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=tmp,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc, START_SECONDS)
    except RuntimeError as err:
        proc.kill()
        raise RuntimeError(f"serve: {err}: {(tmp / 'serve.log').read_text()[-500:]}") from err
    return proc


def completed(gh: FakeGitHub, head: str) -> bool:
    return any(r["head_sha"] == head and r["status"] == "completed" for r in gh.check_runs(wh.REPO))


def conclusions(gh: FakeGitHub) -> dict[str, int]:
    """How the service's check runs concluded (a static-only review of these PRs should fail the gate)."""
    out: dict[str, int] = {}
    for r in gh.check_runs(wh.REPO):
        key = str(r.get("conclusion"))
        out[key] = out.get(key, 0) + 1
    return out


def one_delivery(gh: FakeGitHub, port: int, number: int) -> float:
    """Seconds from the 202 to the completed check run for this PR's head."""
    head = gh.store.repos[wh.REPO].pulls[number].head_sha
    body, headers = wh.signed("pull_request", wh.pull_request("opened", number=number, head=head), SECRET.encode(),
                              delivery=f"bench-e2e-{number}")
    response = httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers, timeout=10)
    accepted = time.perf_counter()
    if response.status_code != 202:
        raise RuntimeError(f"PR {number}: the receiver answered {response.status_code}: {response.text[:200]}")
    deadline = time.monotonic() + REVIEW_SECONDS
    while time.monotonic() < deadline:
        if completed(gh, head):
            return time.perf_counter() - accepted
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"PR {number}: no completed check run within {REVIEW_SECONDS:.0f} s")


def measure_service(gh: FakeGitHub, numbers: list[int]) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="sr-bench-e2e-") as tmp:
        port = free_port()
        proc = start_serve(gh, Path(tmp), port)
        try:
            return [one_delivery(gh, port, n) for n in numbers]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure_engine(gh: FakeGitHub, numbers: list[int]) -> tuple[list[float], int]:
    """The same diffs through review_change in this process; returns seconds per review and findings."""
    config, _ = load_repo_config(None)
    seconds, findings = [], 0
    review_change(parse_diff(gh.pull_diff(wh.REPO, numbers[0])), MemoryRepo({}), config)  # warm-up (rule pack)
    for n in numbers:
        diff = gh.pull_diff(wh.REPO, n)
        repo = MemoryRepo({path: head for path, (_, head) in pr_files(n).items()})
        started = time.perf_counter()
        review = review_change(parse_diff(diff), repo, config)
        seconds.append(time.perf_counter() - started)
        findings += len(review.findings)
    return seconds, findings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(quick: bool) -> dict[str, Any]:
    """For bench/run.py: p50 latency through serve (ours) against the engine alone (baseline)."""
    count = 8 if quick else 20
    numbers = list(range(FIRST_PR, FIRST_PR + count))
    with FakeGitHub() as gh:
        gh.add_installation(wh.INSTALLATION, "octo")
        gh.add_repo(wh.REPO, {"README.md": "hi\n"}, installation_id=wh.INSTALLATION)
        for n in numbers:
            gh.add_pull(wh.REPO, n, pr_files(n), title=f"ten files {n}")
        service = measure_service(gh, numbers)
        concluded = conclusions(gh)
        engine, findings = measure_engine(gh, numbers)
    ms = {"p50": pct(service, 0.5) * 1000, "p95": pct(service, 0.95) * 1000,
          "b50": pct(engine, 0.5) * 1000, "b95": pct(engine, 0.95) * 1000}
    notes = NOTES.format(**ms, n=count, over=ms["p50"] - ms["b50"], factor=ms["p50"] / ms["b50"],
                          first=service[0] * 1000, polling=Settings.from_env().queue_polling_seconds)
    return {"name": "end_to_end", "ours": round(ms["p50"], 1), "baseline": round(ms["b50"], 1),
            "ratio": round(ms["b50"] / ms["p50"], 3), "unit": UNIT, "notes": notes,
            "details": {"service_ms": [round(s * 1000, 1) for s in service],
                        "engine_ms": [round(s * 1000, 1) for s in engine], "engine_findings": findings,
                        "check_run_conclusions": concluded, "first_ms": round(service[0] * 1000, 1),
                        "p95_ms": round(ms["p95"], 1), "engine_p95_ms": round(ms["b95"], 1),
                        "mean_ms": round(statistics.mean(service) * 1000, 1)}}


if __name__ == "__main__":
    print(json.dumps(run("--quick" in sys.argv), indent=2))
