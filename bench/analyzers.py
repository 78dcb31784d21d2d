"""Benchmark: our static review vs semgrep with five equivalent rules, on the same generated change.

    .venv/bin/python bench/analyzers.py [--quick] [--semgrep PATH] [--language python|go|ruby|typescript]

Builds a git repository whose head adds 5,000 lines over 200 Python files (generated: views, loops with
queries, HTTP calls, async pollers, retry loops), then times, in the same run:
  ours (end to end)  `scale-review review --format json` in a fresh process (imports, git, analyzers)
  ours (in-process)  `review_local()` with the rule pack already loaded
  semgrep            `semgrep --config bench/semgrep/python-five.yml` over the 200 files (offline)
and reports the ratio semgrep / ours (> 1 means we are faster). Then reviews a 100,000-line change in
a child process and reports its peak RSS (and a 10,000-line change's, to show how memory grows).
Not a test: it never fails on speed. Writes bench/results/analyzers.json.

`--language go|ruby|typescript` runs the same comparison on generated Go, Ruby or TypeScript files
(`synth_languages.py`) against `bench/semgrep/<language>-five.yml`, without the memory section, and writes
bench/results/analyzers-<language>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import synth_languages  # noqa: E402
from synth_python import build_repo, changed_lines  # noqa: E402

SEMGREP_RULES = HERE / "semgrep" / "python-five.yml"
LANGUAGES = ("python", *synth_languages.LANGUAGES)
RESULTS = HERE / "results"
FULL = {"files": 200, "lines": 25, "repeats": 3, "big_files": 400, "big_lines": 250, "small_lines": 25}
QUICK = {"files": 60, "lines": 25, "repeats": 1, "big_files": 80, "big_lines": 250, "small_lines": 25}
CHILD_TIMEOUT = 300
SEMGREP_CANDIDATES = ("semgrep", str(HERE.parent / ".cache" / "semgrep-venv" / "bin" / "semgrep"))


def find_semgrep(explicit: str | None) -> str | None:
    for candidate in ([explicit] if explicit else []) + list(SEMGREP_CANDIDATES):
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            return found
    return None


def scale_review_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("scale-review")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "bot.cli"]


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
    return time.perf_counter() - started, proc


def review_cmd(repo: Path, base: str, head: str) -> list[str]:
    """`scale-review review ... --format json --no-llm`: what both end-to-end measurements run."""
    return [*scale_review_cmd(), "review", "--repo", str(repo), "--base", base, "--head", head,
            "--format", "json", "--no-llm"]


def ours_end_to_end(repo: Path, base: str, head: str) -> tuple[float, int]:
    cmd = review_cmd(repo, base, head)
    seconds, proc = timed(cmd)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"scale-review review failed: {proc.stderr.strip()[-300:]}")
    return seconds, len(json.loads(proc.stdout)["findings"])


def ours_in_process(repo: Path, base: str, head: str) -> tuple[float, int]:
    from bot.review.local_review import review_local

    review_local(str(repo), base, head)  # warm: rule pack parsed, caches filled
    started = time.perf_counter()
    review = review_local(str(repo), base, head)
    return time.perf_counter() - started, len(review.findings)


def semgrep_run(semgrep: str, repo: Path, rules: Path = SEMGREP_RULES) -> tuple[float, int]:
    cmd = [
        semgrep,
        "scan",
        "--config",
        str(rules),
        "--metrics=off",
        "--disable-version-check",
        "--json",
        "--quiet",
        "--no-git-ignore",
        "shop",
    ]
    seconds, proc = timed(cmd, cwd=repo)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"semgrep failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return seconds, len(json.loads(proc.stdout)["results"])


def peak_rss_mb(repo: Path, base: str, head: str) -> tuple[float, float, int]:
    """(peak RSS in MiB of the scale-review process alone, seconds, findings), via wait4 on the child."""
    cmd = review_cmd(repo, base, head)
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        findings = len(json.loads(out.read() or b'{"findings": []}')["findings"])
    return usage.ru_maxrss / 1024, seconds, findings


def median_of(repeats: int, fn: Any, *args: Any) -> tuple[float, int]:
    runs = [fn(*args) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), runs[-1][1]


def memory_section(tmp: Path, size: dict[str, int]) -> dict[str, Any]:
    big = tmp / "big"
    base, head = build_repo(big, size["big_files"], size["big_lines"])
    rss, seconds, findings = peak_rss_mb(big, base, head)
    small = tmp / "small"
    s_base, s_head = build_repo(small, size["big_files"], size["small_lines"])
    small_rss, _, _ = peak_rss_mb(small, s_base, s_head)
    return {
        "big_changed_lines": changed_lines(big, base, head),
        "big_peak_rss_mb": round(rss, 1),
        "big_seconds": round(seconds, 2),
        "big_findings": findings,
        "small_changed_lines": changed_lines(small, s_base, s_head),
        "small_peak_rss_mb": round(small_rss, 1),
    }


def _timed(size: dict[str, int], semgrep: str | None, repo: Path, base: str, head: str,
           rules: Path = SEMGREP_RULES) -> dict[str, Any]:
    """Ours end to end and in-process, and semgrep, on the same change: medians of `size['repeats']` runs."""
    e2e, ours = median_of(size["repeats"], ours_end_to_end, repo, base, head)
    in_proc, _ = median_of(size["repeats"], ours_in_process, repo, base, head)
    sg, sg_findings = median_of(size["repeats"], semgrep_run, semgrep, repo, rules) if semgrep else (None, 0)
    return {"changed_lines": changed_lines(repo, base, head), "files": size["files"], "repeats": size["repeats"],
            "ours_end_to_end_s": round(e2e, 3), "ours_in_process_s": round(in_proc, 3), "ours_findings": ours,
            "semgrep_s": round(sg, 3) if sg else None, "semgrep_findings": sg_findings, "semgrep": semgrep}


def _result(name: str, label: str, t: dict[str, Any], extra_notes: str, details: dict[str, Any]) -> dict[str, Any]:
    e2e, sg = t["ours_end_to_end_s"], t["semgrep_s"]
    notes = (
        f"{label}{t['changed_lines']:,} changed lines over {t['files']} files; ours = `scale-review review --format "
        f"json` end to end with the whole rule pack ({t['ours_findings']} findings), in-process "
        f"{t['ours_in_process_s']:.2f} s; "
        + (f"semgrep 5 rules {sg:.2f} s ({t['semgrep_findings']} findings)" if sg else "semgrep not installed: no "
           "baseline")
        + extra_notes
    )
    return {"name": name, "ours": e2e, "baseline": sg, "ratio": round(sg / e2e, 2) if sg else None,
            "unit": "s (median wall time; ratio = semgrep / ours)", "notes": notes, "details": {**details, **t}}


def run_language(quick: bool, semgrep_path: str | None, language: str) -> dict[str, Any]:
    """The speed comparison on generated Go, Ruby or TypeScript code (no memory section)."""
    size = QUICK if quick else FULL
    semgrep = find_semgrep(semgrep_path)
    rules = HERE / "semgrep" / f"{language}-five.yml"
    with tempfile.TemporaryDirectory(prefix=f"bench-analyzers-{language}-") as tmp_name:
        repo = Path(tmp_name) / "change"
        base, head = synth_languages.build_repo(repo, size["files"], size["lines"], language)
        timed = _timed(size, semgrep, repo, base, head, rules)
    return _result(f"analyzers-{language}", f"{language}: ", timed, "", {"language": language})


def run(quick: bool, semgrep_path: str | None = None) -> dict[str, Any]:
    size = QUICK if quick else FULL
    semgrep = find_semgrep(semgrep_path)
    with tempfile.TemporaryDirectory(prefix="bench-analyzers-") as tmp_name:
        tmp = Path(tmp_name)
        repo = tmp / "change"
        base, head = build_repo(repo, size["files"], size["lines"])
        timed = _timed(size, semgrep, repo, base, head)
        memory = memory_section(tmp, size)
    extra = (f"; peak RSS {memory['big_peak_rss_mb']} MiB on a {memory['big_changed_lines']:,}-line diff "
             f"({memory['small_peak_rss_mb']} MiB on {memory['small_changed_lines']:,} lines)")
    return _result("analyzers", "", timed, extra, memory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller change, one repeat")
    parser.add_argument("--semgrep", help="path of the semgrep executable (default: PATH, .cache/semgrep-venv)")
    parser.add_argument("--language", choices=LANGUAGES, default="python", help="which generated code (default python)")
    args = parser.parse_args(argv)
    if args.language == "python":
        result = run(args.quick, args.semgrep)
    else:
        result = run_language(args.quick, args.semgrep, args.language)
    RESULTS.mkdir(exist_ok=True)
    name = "analyzers.json" if args.language == "python" else f"analyzers-{args.language}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    d = result["details"]
    print(f"ours end to end   {d['ours_end_to_end_s']:8.2f} s   ({d['ours_findings']} findings)")
    print(f"ours in-process   {d['ours_in_process_s']:8.2f} s")
    if d["semgrep_s"] is not None:
        print(f"semgrep (5 rules) {d['semgrep_s']:8.2f} s   ({d['semgrep_findings']} findings)")
        print(f"ratio             {result['ratio']:8.2f} x  (semgrep / ours end to end)")
    if "big_peak_rss_mb" not in d:
        return 0
    print(
        f"peak RSS          {d['big_peak_rss_mb']:8.1f} MiB on {d['big_changed_lines']:,} changed lines "
        f"({d['small_peak_rss_mb']} MiB on {d['small_changed_lines']:,})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
