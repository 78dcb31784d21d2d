"""Benchmark: input tokens of a specialist review, an incremental follow-up, and the cache-read share.

A fixed 10-file change is reviewed by a scripted model (tests/support/fakemodel.py, tokens = characters / 4,
prompt caching honoured). The scripted reviewer follows one policy for every review: plan and read up
to 4 changed files in parallel, keep reading in batches of 4, then report one finding per file and
finish in the same turn. A follow-up push then changes one file, and the incremental review gets
only that commit's diff plus the earlier findings.

Measured twice: the loop alone (`run_specialist` on a local checkout), and through the App (signed
`pull_request` deliveries opened then synchronize, DBOS on SQLite, the fake GitHub on loopback): the
push's review finds the first review's memory in its check run and sends only the new commit.

Targets: incremental input <= 25% of the first review's; cache-read share after the first turn >= 70%.
Both depend on the reviewer's pace: a model that reads every file in one turn has fewer, bigger turns,
so less of its input can come from the cache (try --batch 10).
Run: .venv/bin/python bench/specialist_tokens.py [--batch N]   (files read in parallel per turn; default 4)
     bench/run.py runs it too (`run(quick)`: the App's figures).
"""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synth_python import service_module as module  # noqa: E402

from bot.app.logging_setup import configure_logging  # noqa: E402
from bot.core.diff import parse_diff  # noqa: E402
from bot.core.repo import LocalGitRepo  # noqa: E402
from bot.specialist.budget import Budget  # noqa: E402
from bot.specialist.loop import SpecialistRequest, SpecialistResult, run_specialist  # noqa: E402
from tests.support import webhooks as wh  # noqa: E402
from tests.support.fakegithub import FakeGitHub  # noqa: E402
from tests.support.fakemodel import FakeModel, Reply, tool  # noqa: E402
from tests.support.gitrepo import GitRepo  # noqa: E402
from tests.support.service import app_settings, deliver, receiver, running_app, wait_result  # noqa: E402

FILES = 10
BATCH = 4
TARGET_INCREMENTAL = 0.25
TARGET_CACHE_SHARE = 0.70
_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)", re.M)




def build(root: Path) -> tuple[GitRepo, str, str, str]:
    g = GitRepo(root)
    g.write("app/__init__.py", "")
    g.write("app/db.py", "session = None\n")
    for i in range(FILES):
        g.write(f"app/service_{i}.py", module(i, 0))
    base = g.commit("base")
    for i in range(FILES):
        g.write(f"app/service_{i}.py", module(i, 3))
    first = g.commit("the pull request")
    g.write("app/service_3.py", module(3, 4))
    second = g.commit("follow-up push")
    return g, base, first, second


def diff(g: GitRepo, a: str, b: str) -> str:
    return subprocess.run(["git", "-C", str(g.root), "diff", "--text", f"{a}...{b}"], capture_output=True,
                          check=True).stdout.decode()


def reviewer(body: dict[str, Any], batch: int = BATCH) -> Reply:
    """The scripted reviewer's policy, decided from the request alone."""
    task = body["messages"][0]["content"][0]["text"]
    files = [m.group(2) for m in _DIFF_FILE.finditer(task)]
    first_added = {}
    for section in task.split("diff --git ")[1:]:
        path = section.split(" b/", 1)[1].split("\n", 1)[0]
        hunk = _HUNK.search(section)
        first_added[path] = int(hunk.group(1)) + 3 if hunk else 1
    done = sum(1 for m in body["messages"] if m["role"] == "assistant"
               for b in m["content"] if b.get("name") == "read_file")
    todo = files[done:done + batch]
    if todo:
        calls = [tool("read_file", path=p) for p in todo]
        if done == 0:
            calls.insert(0, tool("update_plan", steps=[{"step": f"read {p}"} for p in files[:10]]))
        return Reply(calls)
    reports = [tool("report_finding", category="n_plus_one", severity="medium", path=p, start_line=first_added[p],
                    end_line=first_added[p], title=f"Query per item in {p}", evidence=f"{p}: session.get in a loop",
                    risk="one round trip per id", rollback="revert", monitoring="db calls per request")
               for p in files]
    return Reply([*reports, tool("finish_review", summary="N+1 in batch helpers", rollback_plan="revert",
                                 monitoring_plan="db calls per request")])


def review(fake: FakeModel, g: GitRepo, text: str, head: str, whole: str,
           **extra: Any) -> tuple[SpecialistResult, list[Any]]:
    """One loop-level review of `text` (the whole change, or a follow-up's commits), validated against `whole`."""
    start = len(fake.usages)
    result = run_specialist(SpecialistRequest(diff=text, **extra), client=fake.client(), changes=parse_diff(whole),
                            repo=LocalGitRepo(str(g.root), head), budget=Budget())
    return result, fake.usages[start:]


def total_input(usages: list[dict[str, Any]]) -> int:
    return sum(u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"] for u in usages)


def figures(first: list[dict[str, Any]], follow: list[dict[str, Any]]) -> dict[str, Any]:
    later = first[1:]
    return {
        "first_turns": len(first), "first_input": total_input(first),
        "incremental_turns": len(follow), "incremental_input": total_input(follow),
        "ratio": total_input(follow) / max(total_input(first), 1),
        "cache_share": sum(u["cache_read_input_tokens"] for u in later) / max(total_input(later), 1),
        "first_split": (sum(u["input_tokens"] for u in first), sum(u["cache_creation_input_tokens"] for u in first),
                        sum(u["cache_read_input_tokens"] for u in first)),
    }


def measure_loop(batch: int) -> tuple[dict[str, Any], SpecialistResult, SpecialistResult]:
    with tempfile.TemporaryDirectory() as tmp:
        g, base, first, second = build(Path(tmp) / "repo")
        fake = FakeModel(lambda body: reviewer(body, batch))
        full, full_usages = review(fake, g, diff(g, base, first), first, diff(g, base, first))
        inc, inc_usages = review(fake, g, diff(g, first, second), second, diff(g, base, second), since=first,
                                 previous_findings=full.findings)
    return figures(full_usages, inc_usages), full, inc


def measure_app(batch: int) -> dict[str, Any]:
    """The same two reviews through the App: webhook -> DBOS workflow -> fake GitHub, the scripted model."""
    logging.getLogger("dbos").setLevel(logging.ERROR)
    configure_logging("error", "console")
    fake = FakeModel(lambda body: reviewer(body, batch))
    with tempfile.TemporaryDirectory(prefix="sr-bench-tokens-") as tmp, FakeGitHub() as gh:
        g, base, first, _ = build(Path(tmp) / "repo")
        gh.add_installation(wh.INSTALLATION, "octo")
        gh.add_pull_from_git(wh.REPO, 7, str(g.root), base, first, title="Batch helpers")
        gh.store.repos[wh.REPO].installation_id = wh.INSTALLATION
        settings = app_settings(gh, f"sqlite:///{tmp}/bench.db", log_level="error")
        with running_app(settings, model_client=fake.client()) as enq, receiver(settings, enq) as client:
            opened = gh.store.repos[wh.REPO].pulls[7].head_sha
            deliver(client, "pull_request", wh.pull_request("opened", head=opened), delivery="tokens-open")
            first_result = wait_result("tokens-open", timeout=120)
            split = len(fake.usages)
            pushed = gh.push(wh.REPO, 7, {"app/service_3.py": module(3, 4)})
            payload = wh.pull_request("synchronize", head=pushed, before=opened)
            deliver(client, "pull_request", payload, delivery="tokens-push")
            push_result = wait_result("tokens-push", timeout=120)
        summary = [r for r in gh.check_runs(wh.REPO) if r["head_sha"] == pushed][0]["output"]["summary"]
    out = figures(fake.usages[:split], fake.usages[split:])
    out.update(first_findings=len(first_result.get("findings", [])), push_findings=len(push_result.get("findings", [])),
               incremental_said="Incremental review" in summary, first_outcome=first_result.get("outcome"),
               push_outcome=push_result.get("outcome"))
    return out


def run(quick: bool) -> dict[str, Any]:
    """For bench/run.py: the App's incremental input as a share of its first review's (target <= 25%)."""
    del quick  # two scripted reviews are already quick
    app = measure_app(BATCH)
    notes = (f"through the App (webhook -> DBOS -> fake GitHub): first review {app['first_input']:,} input tokens in "
             f"{app['first_turns']} turns; push of 1 file {app['incremental_input']:,} ({app['ratio']:.1%}, target "
             f"<= {TARGET_INCREMENTAL:.0%}); cache-read share after turn 1 {app['cache_share']:.1%} (target >= "
             f"{TARGET_CACHE_SHARE:.0%})")
    return {"name": "specialist_tokens", "ours": round(app["ratio"], 4), "baseline": TARGET_INCREMENTAL,
            "ratio": round(TARGET_INCREMENTAL / app["ratio"], 3) if app["ratio"] else None,
            "unit": "incremental / first input tokens (lower is better; ratio = target / ours)", "notes": notes,
            "details": app}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=BATCH, help="files the scripted model reads per turn")
    batch = max(1, parser.parse_args(argv).batch)
    loop, full, inc = measure_loop(batch)
    app = measure_app(batch)
    cost_ratio = inc.usage.cost_usd / max(full.usage.cost_usd, 1e-9)
    rows = [
        ("scripted reviewer: files read per turn", f"{batch}"),
        ("", "loop alone | through the App"),
        ("first review: turns", f"{loop['first_turns']} | {app['first_turns']}"),
        ("first review: input tokens sent", f"{loop['first_input']:,} | {app['first_input']:,}"),
        ("first review: uncached / cache write / cache read",
         " | ".join(" / ".join(f"{n:,}" for n in f["first_split"]) for f in (loop, app))),
        ("first review: dollars (claude-sonnet-4-6)", f"${full.usage.cost_usd:.4f} | -"),
        ("first review: findings (loop: specialist; App: all)", f"{len(full.findings)} | {app['first_findings']}"),
        ("incremental review: turns", f"{loop['incremental_turns']} | {app['incremental_turns']}"),
        ("incremental review: input tokens sent", f"{loop['incremental_input']:,} | {app['incremental_input']:,}"),
        ("incremental review: dollars", f"${inc.usage.cost_usd:.4f} | -"),
        ("incremental review: findings (new + carried)", f"{len(inc.findings)} | {app['push_findings']}"),
        ("App: the push's check run says 'Incremental review'", f"{app['incremental_said']}"),
        ("incremental / first, input tokens",
         f"{loop['ratio']:.1%} | {app['ratio']:.1%} (target <= {TARGET_INCREMENTAL:.0%})"),
        ("incremental / first, dollars (loop)", f"{cost_ratio:.1%}"),
        ("cache-read share of input after turn 1",
         f"{loop['cache_share']:.1%} | {app['cache_share']:.1%} (target >= {TARGET_CACHE_SHARE:.0%})"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    ok = all(f["ratio"] <= TARGET_INCREMENTAL and f["cache_share"] >= TARGET_CACHE_SHARE for f in (loop, app))
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
