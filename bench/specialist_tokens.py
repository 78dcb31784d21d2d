"""Benchmark: input tokens of a specialist review, an incremental follow-up, and the cache-read share.

A fixed 10-file change is reviewed by a scripted model (tests/fakemodel.py, tokens = characters / 4,
prompt caching honoured). The scripted reviewer follows one policy for every review: plan and read up
to 4 changed files in parallel, keep reading in batches of 4, then report one finding per file and
finish in the same turn. A follow-up push then changes one file, and the incremental review gets
only that commit's diff plus the earlier findings.

Targets: incremental input <= 25% of the first review's; cache-read share after the first turn >= 70%.
Both depend on the reviewer's pace: a model that reads every file in one turn has fewer, bigger turns,
so less of its input can come from the cache (try --batch 10).
Run: .venv/bin/python bench/specialist_tokens.py [--batch N]   (files read in parallel per turn; default 4)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.diff import parse_diff  # noqa: E402
from bot.repo import LocalGitRepo  # noqa: E402
from bot.specialist.budget import Budget  # noqa: E402
from bot.specialist.loop import SpecialistRequest, SpecialistResult, run_specialist  # noqa: E402
from tests.fakemodel import FakeModel, Reply, tool  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402

FILES = 10
BATCH = 4
TARGET_INCREMENTAL = 0.25
TARGET_CACHE_SHARE = 0.70
_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)", re.M)


def module(i: int, extra: int) -> str:
    """A ~120-line service module; `extra` adds a loop with a query per item."""
    lines = [f'"""Service {i}."""', "", "from app.db import session", ""]
    for k in range(18):
        lines += [f"def handler_{i}_{k}(request):", f"    item = session.get('table_{i}', request.id)",
                  f"    return {{'id': item.id, 'value': item.value * {k}}}", "", ""]
    for k in range(extra):
        lines += [f"def batch_{i}_{k}(ids):", "    out = []", "    for x in ids:",
                  f"        out.append(session.get('table_{i}', x))", "    return out", ""]
    return "\n".join(lines) + "\n"


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
    return subprocess.run(["git", "-C", str(g.root), "diff", f"{a}...{b}"], capture_output=True,
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


def review(fake: FakeModel, g: GitRepo, text: str, head: str, **extra: Any) -> tuple[SpecialistResult, list[Any]]:
    start = len(fake.usages)
    result = run_specialist(SpecialistRequest(diff=text, **extra), client=fake.client(), changes=parse_diff(text),
                            repo=LocalGitRepo(str(g.root), head), budget=Budget())
    return result, fake.usages[start:]


def total_input(usages: list[dict[str, int]]) -> int:
    return sum(u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"] for u in usages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=BATCH, help="files the scripted model reads per turn")
    batch = max(1, parser.parse_args(argv).batch)
    with tempfile.TemporaryDirectory() as tmp:
        g, base, first, second = build(Path(tmp) / "repo")
        fake = FakeModel(lambda body: reviewer(body, batch))
        full, full_usages = review(fake, g, diff(g, base, first), first)
        inc, inc_usages = review(fake, g, diff(g, first, second), second, since=first,
                                 previous_findings=full.findings)
    later = full_usages[1:]
    share = sum(u["cache_read_input_tokens"] for u in later) / max(total_input(later), 1)
    ratio = total_input(inc_usages) / max(total_input(full_usages), 1)
    cost_ratio = inc.usage.cost_usd / max(full.usage.cost_usd, 1e-9)
    rows = [
        ("scripted reviewer: files read per turn", f"{batch}"),
        ("first review: turns", f"{full.turns}"),
        ("first review: input tokens sent", f"{total_input(full_usages):,}"),
        ("first review: uncached / cache write / cache read", f"{full.usage.input_tokens:,} / "
         f"{full.usage.cache_write_tokens:,} / {full.usage.cache_read_tokens:,}"),
        ("first review: dollars (claude-sonnet-4-6)", f"${full.usage.cost_usd:.4f}"),
        ("first review: findings", f"{len(full.findings)}"),
        ("incremental review: turns", f"{inc.turns}"),
        ("incremental review: input tokens sent", f"{total_input(inc_usages):,}"),
        ("incremental review: dollars", f"${inc.usage.cost_usd:.4f}"),
        ("incremental review: findings (new + carried)", f"{len(inc.findings)}"),
        ("incremental / first, input tokens", f"{ratio:.1%} (target <= {TARGET_INCREMENTAL:.0%})"),
        ("incremental / first, dollars", f"{cost_ratio:.1%}"),
        ("cache-read share of input after turn 1", f"{share:.1%} (target >= {TARGET_CACHE_SHARE:.0%})"),
    ]
    for n, u in enumerate(full_usages, 1):
        split = f"{u['input_tokens']:,} / {u['cache_creation_input_tokens']:,} / {u['cache_read_input_tokens']:,}"
        rows.append((f"first review turn {n}: uncached / write / read", split))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    ok = ratio <= TARGET_INCREMENTAL and share >= TARGET_CACHE_SHARE
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
