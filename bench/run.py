"""The benchmark suite: runs every benchmark module under bench/, prints one table, writes JSON.

    .venv/bin/python bench/run.py [--quick] [--only NAME,...] [--timeout SECONDS]

A benchmark module is a file `bench/<name>.py` exposing `run(quick: bool) -> dict` with `name`, `ours`,
`baseline`, `ratio`, `unit`, `notes`. Each runs in its own child process (its imports, memory and
crashes stay its own) under a time limit. Known modules that are missing are listed as skipped.
Benchmarks are not tests: nothing here fails on speed. Results go to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
KNOWN = ("analyzers", "receiver", "github_calls", "specialist_tokens", "end_to_end")
NOT_MODULES = {"run"}
DEFAULT_TIMEOUT = 540
QUICK_TIMEOUT = 240
RESULT_MARK = "BENCH-RESULT:"
SUITE_BUDGET = 600
BUDGET_NOTE = "skipped: the suite's {budget:.0f} s budget was spent"
MISSING_NOTE = "skipped: bench/{name}.py is not there yet"
NO_RUN_NOTE = "skipped: bench/{name}.py has no run(quick) yet"


def has_run(path: Path) -> bool:
    """A cheap check that the file defines a top-level `run(` without importing it."""
    try:
        return any(line.startswith("def run(") for line in path.read_text(encoding="utf-8").splitlines())
    except OSError:
        return False


def discover() -> list[str]:
    """Known modules first (in order), then any other bench/*.py that defines run()."""
    others = sorted(
        p.stem
        for p in HERE.glob("*.py")
        if p.stem not in KNOWN and p.stem not in NOT_MODULES and not p.stem.startswith("_") and has_run(p)
    )
    return [*KNOWN, *others]


def run_one_here(name: str, quick: bool) -> dict[str, Any]:
    """Import bench/<name>.py and call its run(quick) (in this process: the child's side)."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    result = module.run(quick)
    if not isinstance(result, dict):
        raise RuntimeError(f"bench/{name}.py run() returned {type(result).__name__}, not a dict")
    return result


def run_child(name: str, quick: bool, timeout: float) -> dict[str, Any]:
    """Run one module in a child process; a crash or timeout becomes a row with a note."""
    if not (HERE / f"{name}.py").exists():
        return row(name, notes=MISSING_NOTE.format(name=name), status="skipped")
    if not has_run(HERE / f"{name}.py"):
        return row(name, notes=NO_RUN_NOTE.format(name=name), status="skipped")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name] + (["--quick"] if quick else [])
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return row(name, notes=f"stopped after the {timeout:.0f} s limit", status="timeout")
    seconds = time.perf_counter() - started
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
            return {**row(name), **result, "status": "ok", "seconds": round(seconds, 1)}
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
    return row(name, notes=f"failed (exit {proc.returncode}): {tail}", status="error")


def row(name: str, *, notes: str = "", status: str = "ok") -> dict[str, Any]:
    return {"name": name, "ours": None, "baseline": None, "ratio": None, "unit": "", "notes": notes, "status": status}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def fmt(x: Any) -> str:
    if x is None:
        return "-"
    return f"{x:,.3g}" if isinstance(x, float) else str(x)


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'benchmark':20} {'ours':>10} {'baseline':>10} {'ratio':>8}  {'unit':34} notes"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['name']:20} {fmt(r.get('ours')):>10} {fmt(r.get('baseline')):>10} {fmt(r.get('ratio')):>8}  "
            f"{str(r.get('unit') or '')[:34]:34} {r.get('notes', '')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run every benchmark under bench/ and print one table.")
    parser.add_argument("--quick", action="store_true", help="smaller inputs (a smoke run)")
    parser.add_argument("--only", help="comma-separated module names (default: all)")
    parser.add_argument("--timeout", type=float, help="seconds per module (default 540, quick 240)")
    parser.add_argument("--budget", type=float, default=SUITE_BUDGET, help="seconds for the whole suite (600)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(RESULT_MARK + json.dumps(run_one_here(args.child, args.quick)))
        return 0
    names = [x.strip() for x in args.only.split(",")] if args.only else discover()
    timeout = args.timeout or (QUICK_TIMEOUT if args.quick else DEFAULT_TIMEOUT)
    started = time.perf_counter()
    rows = []
    for name in names:
        left = args.budget - (time.perf_counter() - started)
        if left < 5:
            rows.append(row(name, notes=BUDGET_NOTE.format(budget=args.budget), status="skipped"))
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.append(run_child(name, args.quick, min(timeout, left)))
    doc = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(table(rows))
    m = doc["machine"]
    print(
        f"\n{doc['seconds']} s on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}; "
        f"written to {RESULTS / 'latest.json'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
