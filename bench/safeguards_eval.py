"""Recall of the removed-safeguard analyzer per kind on mined reverted fixes, and its findings on
ordinary commits (for reading by hand), run directly on base and head of every changed file.

    .venv/bin/python bench/safeguards_eval.py --cases bench/cases/mined-python-ruby.jsonl [--mirrors /work/.mirror]
    .venv/bin/python bench/safeguards_eval.py --ordinary bench/ordinary-commits.jsonl [--limit 300] [--recent 120]

A case's base is the fix and its head the fix reverted (the parent's files), as `scale-review eval`
builds it; a positive counts as found when a finding is on one of its paths within 3 lines of a
labelled location (the eval rule). Negatives count every finding as a false alarm.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.analyzers.base import FileInput  # noqa: E402
from bot.analyzers.change_context import ChangeContext, ChangedText, bounded_reader  # noqa: E402
from bot.analyzers.safeguards import SafeguardAnalyzer  # noqa: E402
from bot.core.diff import FileStatus, parse_diff  # noqa: E402
from bot.core.model import Finding  # noqa: E402
from bot.core.repo import LocalGitRepo, RepoAccessError  # noqa: E402
from bot.facts import facts_provider  # noqa: E402

TOLERANCE = 3
GIT_TIMEOUT = 120


def _git(repo: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.decode("utf-8", errors="replace") if proc.returncode == 0 else None


def review(repo: Path, base: str, head: str) -> tuple[list[Finding], float]:
    """Findings of the analyzer on every changed file of base..head, as the engine would keep them (bound to
    the whole change as the engine binds it: the head's model graph, base reads, the changed files' texts)."""
    diff = _git(repo, "diff", "--no-renames", "-U3", base, head)
    if diff is None:
        return [], 0.0
    probe = SafeguardAnalyzer()
    inputs: list[FileInput] = []
    for change in parse_diff(diff).files:
        if change.status not in (FileStatus.modified, FileStatus.renamed) or not probe.supports(change.path, ""):
            continue
        base_text = _git(repo, "show", f"{base}:{change.old_path or change.path}")
        head_text = _git(repo, "show", f"{head}:{change.path}")
        if base_text is None or head_text is None:
            continue
        inputs.append(FileInput(change=change, text=head_text, base_text=base_text))
    head_view, base_view = LocalGitRepo(str(repo), head), LocalGitRepo(str(repo), base)  # the engine has these
    started = time.perf_counter()
    analyzer = probe.bind_change(
        ChangeContext(
            head_facts=facts_provider(head_view),
            read_base=bounded_reader(base_view.read_text, (RepoAccessError,)),
            files=tuple(ChangedText(i.path, i.base_text, i.text) for i in inputs),
        )
    )
    out: list[Finding] = []
    for item in inputs:
        found = analyzer.analyze(item)
        out.extend(f for f in found if item.change.touches(f.start_line, f.end_line))
    return out, time.perf_counter() - started


def _hit(case: dict, findings: list[Finding]) -> bool:
    for loc in case.get("anti_pattern_locations", []):
        for f in findings:
            if (
                f.path == loc["path"]
                and f.start_line <= loc["end_line"] + TOLERANCE
                and f.end_line >= loc["start_line"] - TOLERANCE
            ):
                return True
    return False


def run_cases(paths: list[str], mirrors: Path) -> None:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_alarms = negatives = 0
    spent = 0.0
    for path in paths:
        for raw in Path(path).read_text().splitlines():
            case = json.loads(raw)
            repo = mirrors / case["repo"].replace("/", "+") / "repo"
            if not repo.is_dir():
                continue
            findings, seconds = review(repo, case["fix_commit"], case["parent"])
            spent += seconds
            kind = case.get("safeguard") or "unlabelled"
            if case["kind"] == "negative":
                negatives += 1
                false_alarms += len(findings)
                mark = f"{len(findings)} finding(s)"
            else:
                total[kind] += 1
                hit = _hit(case, findings)
                found[kind] += hit
                mark = "FOUND" if hit else "missed"
            print(f"{case['id']:<45} {case['kind']:<8} {kind:<13} {mark}")
            for f in findings:
                print(f"    {f.source} {f.path}:{f.start_line}-{f.end_line} {f.confidence} {f.title[:90]}")
    print("\nrecall per safeguard kind:")
    for kind in sorted(total):
        print(f"  {kind:<14} {found[kind]}/{total[kind]}")
    labelled = [k for k in total if k not in ("none", "unlabelled")]
    print(f"  all safeguard cases: {sum(found[k] for k in labelled)}/{sum(total[k] for k in labelled)}")
    print(f"false alarms on negatives: {false_alarms} finding(s) on {negatives} negative case(s)")
    print(f"analyzer time: {spent:.2f}s")


def _rows(path: str, mirrors: Path, limit: int, recent: int) -> list[dict[str, str]]:
    """The listed commits, or with `recent` the last non-merge commits of each listed repository
    that the list does not already hold (more ordinary commits from the same projects)."""
    listed = [json.loads(raw) for raw in Path(path).read_text().splitlines()[:limit]]
    if not recent:
        return listed
    known = {row["commit"] for row in listed}
    out: list[dict[str, str]] = []
    for name in dict.fromkeys(row["repo"] for row in listed):
        log = _git(mirrors / name.replace("/", "+") / "repo", "log", "--no-merges", f"-n{recent}", "--format=%H")
        out.extend({"repo": name, "commit": sha} for sha in (log or "").split() if sha not in known)
    return out


def run_ordinary(path: str, mirrors: Path, limit: int, recent: int = 0) -> None:
    per_kind: dict[str, list[str]] = defaultdict(list)
    commits = 0
    spent = 0.0
    for row in _rows(path, mirrors, limit, recent):
        repo = mirrors / row["repo"].replace("/", "+") / "repo"
        if not repo.is_dir():
            continue
        commits += 1
        findings, seconds = review(repo, f"{row['commit']}^", row["commit"])
        spent += seconds
        for f in findings:
            per_kind[f.source].append(
                f"{row['repo']}@{row['commit'][:10]} {f.path}:{f.start_line} | {f.title} | {f.evidence}"
            )
    print(f"{commits} commits, analyzer time {spent:.2f}s")
    for kind, rows in sorted(per_kind.items()):
        print(f"\n## {kind}: {len(rows)}")
        for line in rows:
            print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=[])
    parser.add_argument("--ordinary")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--recent", type=int, default=0, help="with --ordinary: last N commits per repository instead")
    parser.add_argument("--mirrors", default="/work/.mirror")
    args = parser.parse_args()
    if args.cases:
        run_cases(args.cases, Path(args.mirrors))
    if args.ordinary:
        run_ordinary(args.ordinary, Path(args.mirrors), args.limit, args.recent)


if __name__ == "__main__":
    main()
