"""Precision of the static review on ordinary commits of public projects.

Reads JSON lines ``{"repo": "owner/name", "commit": "<sha>", "language": "..."}``, reviews each commit
against its first parent with ``scale-review review --format json --no-llm`` in a scratch clone of the
local mirror ``<mirrors>/<owner>+<name>/repo``, and prints: commits reviewed, crashes (exit code 2, a
timeout, or output that is not the JSON report), the share of changes whose check fails, findings per rule
and severity, and, given ``--labels``, right/debatable/wrong per rule.

    python bench/ordinary.py bench/ordinary-commits.jsonl --scale-review .venv/bin/scale-review \\
        --output /tmp/findings.jsonl --labels bench/ordinary-labels.jsonl

Standard library only. Scratch clones are ``git clone --shared`` (no object copy) under a temporary
directory and are removed after each review.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEVERITIES = ("critical", "high", "medium", "low", "info")
VERDICTS = ("right", "debatable", "wrong")
GIT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Commit:
    repo: str
    commit: str
    language: str

    @property
    def label(self) -> str:
        return f"{self.repo}@{self.commit[:12]}"


@dataclass
class Outcome:
    commit: Commit
    exit_code: int | None = None  # None: timed out or never ran
    conclusion: str | None = None  # success | failure | neutral, from the report
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # set for crashes and setup failures
    setup_failed: bool = False  # the scratch clone could not be made: not the product's fault

    @property
    def crashed(self) -> bool:
        return self.error is not None and not self.setup_failed


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not JSON: {exc}") from exc
            if not isinstance(item, dict):
                raise SystemExit(f"{path}:{number}: not a JSON object")
            yield item


def load_commits(path: Path) -> list[Commit]:
    commits: list[Commit] = []
    for item in read_jsonl(path):
        commits.append(Commit(str(item["repo"]), str(item["commit"]), str(item.get("language", "?"))))
    return commits


def mirror_path(mirrors: Path, repo: str) -> Path:
    owner, name = repo.split("/", 1)
    return mirrors / f"{owner}+{name}" / "repo"


def run_bounded(cmd: list[str], timeout: float, cwd: str | None = None) -> tuple[int | None, str, str]:
    """Run ``cmd`` in its own process group; on timeout kill that group. Returns (code or None, out, err)."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def rule_of(finding: dict[str, Any]) -> str:
    """The rule id: the analyzer rule in ``source`` (e.g. ``py-save-in-loop``), else the category."""
    source = finding.get("source")
    if isinstance(source, str) and source:
        return source
    return str(finding.get("category") or "?")


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def review(
    commit: Commit, mirrors: Path, executable: str, timeout: float, scratch_root: Path, checkout: bool = True
) -> Outcome:
    outcome = Outcome(commit)
    mirror = mirror_path(mirrors, commit.repo)
    if not mirror.is_dir():
        outcome.error, outcome.setup_failed = f"no mirror at {mirror}", True
        return outcome
    scratch = Path(tempfile.mkdtemp(prefix="ordinary-", dir=scratch_root))
    try:
        clone = ["git", "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(scratch / "repo")]
        steps = [clone]
        if checkout:
            git = ["git", "-C", str(scratch / "repo"), "-c", "advice.detachedHead=false"]
            steps.append([*git, "checkout", "--quiet", "--detach", commit.commit])
        for step in steps:
            code, _, err = run_bounded(step, GIT_TIMEOUT)
            if code != 0:
                outcome.error = f"setup: {' '.join(step[:4])}: {last_line(err) or 'timed out'}"
                outcome.setup_failed = True
                return outcome
        cmd = [
            executable,
            "review",
            "--repo",
            str(scratch / "repo"),
            "--base",
            f"{commit.commit}^",
            "--head",
            commit.commit,
            "--format",
            "json",
            "--no-llm",
        ]
        started = time.monotonic()
        code, out, err = run_bounded(cmd, timeout)
        outcome.seconds = time.monotonic() - started
        outcome.exit_code = code
        if code is None:
            outcome.error = f"timeout after {timeout:.0f} s"
            return outcome
        if code not in (0, 1):
            outcome.error = f"exit {code}: {last_line(err) or last_line(out)}"
            return outcome
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            outcome.error = f"exit {code} without a JSON report: {last_line(err) or last_line(out)}"
            return outcome
        outcome.conclusion = str(report.get("conclusion"))
        outcome.findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
        return outcome
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def finding_record(outcome: Outcome, finding: dict[str, Any]) -> dict[str, Any]:
    start, end = finding.get("start_line"), finding.get("end_line")
    return {
        "repo": outcome.commit.repo,
        "commit": outcome.commit.commit,
        "language": outcome.commit.language,
        "rule": rule_of(finding),
        "category": finding.get("category"),
        "severity": finding.get("severity"),
        "confidence": finding.get("confidence"),
        "path": finding.get("path"),
        "start_line": start,
        "end_line": end,
        "lines": f"{start}-{end}" if end not in (None, start) else f"{start}",
        "title": finding.get("title"),
        "evidence": finding.get("evidence"),
        "suggestion": finding.get("suggestion"),
        "path_kind": finding.get("path_kind"),
        "also_at": finding.get("also_at") or [],
        "id": finding.get("id"),
    }


LabelKey = tuple[str, str, str, str, int | None]


def label_key(item: dict[str, Any]) -> LabelKey:
    start = item.get("start_line")
    return (
        str(item.get("repo")),
        str(item.get("commit")),
        str(item.get("rule")),
        str(item.get("path")),
        int(start) if isinstance(start, int | str) and str(start).isdigit() else None,
    )


def load_labels(path: Path) -> dict[LabelKey, str]:
    labels: dict[LabelKey, str] = {}
    for item in read_jsonl(path):
        verdict = str(item.get("verdict", "")).lower()
        if verdict not in VERDICTS:
            raise SystemExit(f"{path}: verdict {verdict!r} is not one of {VERDICTS}: {item}")
        labels[label_key(item)] = verdict
    return labels


def pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def table(rows: Iterable[list[str]], header: list[str]) -> list[str]:
    rows = [header, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def summarize(outcomes: list[Outcome], labels: dict[LabelKey, str] | None) -> list[str]:
    out: list[str] = []
    reviewed = [o for o in outcomes if o.error is None]
    crashes = [o for o in outcomes if o.crashed]
    setup = [o for o in outcomes if o.setup_failed]
    out.append(
        f"commits: {len(outcomes)} given, {len(reviewed)} reviewed, {len(crashes)} crashed, {len(setup)} not set up"
    )
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for o in reviewed:
        by_lang[o.commit.language].append(o)
    repos = {o.commit.repo for o in reviewed}
    out.append(
        f"projects: {len(repos)}; per language: "
        + ", ".join(
            f"{lang} {len(items)} commits / {len({o.commit.repo for o in items})} projects"
            for lang, items in sorted(by_lang.items())
        )
    )
    if reviewed:
        times = sorted(o.seconds for o in reviewed)
        out.append(f"review time: median {statistics.median(times):.2f} s, max {times[-1]:.2f} s")

    failing = [o for o in reviewed if o.conclusion == "failure"]
    conclusions = Counter(o.conclusion for o in reviewed)
    with_findings = sum(1 for o in reviewed if o.findings)
    out.append("")
    seen = ", ".join(f"{k} {v}" for k, v in sorted(conclusions.items(), key=str))
    share = pct(len(failing), len(reviewed))
    out.append(f"gate fails (conclusion failure): {len(failing)}/{len(reviewed)} = {share}  [conclusions: {seen}]")
    out.append(
        f"changes with at least one finding: {with_findings}/{len(reviewed)} = {pct(with_findings, len(reviewed))}"
    )
    rows_lang = []
    for lang, items in sorted(by_lang.items()):
        fails = sum(1 for o in items if o.conclusion == "failure")
        nfind = sum(len(o.findings) for o in items)
        rows_lang.append([lang, str(len(items)), str(fails), pct(fails, len(items)), str(nfind)])
    if rows_lang:
        out.append("")
        out.extend(table(rows_lang, ["language", "commits", "gate fails", "share", "findings"]))

    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    fail_rule: Counter[str] = Counter()
    for o in reviewed:
        for f in o.findings:
            per_rule[rule_of(f)][str(f.get("severity"))] += 1
        if o.conclusion == "failure":
            for rule in {rule_of(f) for f in o.findings if f.get("severity") in ("critical", "high")}:
                fail_rule[rule] += 1
    total = sum(sum(c.values()) for c in per_rule.values())
    out.append("")
    per_commit = f"{total / len(reviewed):.2f}" if reviewed else "n/a"
    out.append(f"findings: {total} ({per_commit} per commit reviewed)")
    rows = []
    for rule, sev in sorted(per_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        rows.append([rule, str(sum(sev.values())), *(str(sev.get(s, 0)) for s in SEVERITIES), str(fail_rule[rule])])
    if rows:
        out.extend(table(rows, ["rule", "count", *SEVERITIES, "fails gate"]))

    if labels is not None:
        out.append("")
        out.append("labels (right = a senior engineer would want this raised):")
        verdicts: dict[str, Counter[str]] = defaultdict(Counter)
        for o in reviewed:
            for f in o.findings:
                rec = finding_record(o, f)
                verdicts[rec["rule"]][labels.get(label_key(rec), "unlabeled")] += 1
        rows = []
        totals: Counter[str] = Counter()
        for rule, c in sorted(verdicts.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
            totals.update(c)
            judged = sum(c[v] for v in VERDICTS)
            rows.append([rule, *(str(c[v]) for v in VERDICTS), str(c["unlabeled"]), pct(c["right"], judged)])
        judged = sum(totals[v] for v in VERDICTS)
        rows.append(
            ["ALL", *(str(totals[v]) for v in VERDICTS), str(totals["unlabeled"]), pct(totals["right"], judged)]
        )
        out.extend(table(rows, ["rule", *VERDICTS, "unlabeled", "right share"]))
        out.append(
            f"precision: right {pct(totals['right'], judged)}, right or debatable "
            f"{pct(totals['right'] + totals['debatable'], judged)} of {judged} labelled findings"
        )

    if crashes or setup:
        out.append("")
        out.append("crashes:" if crashes else "crashes: none")
        for o in crashes:
            out.append(f"  {o.commit.label} ({o.commit.language}): {o.error}")
        if setup:
            out.append("not set up (scratch clone failed; not counted as crashes):")
            for o in setup:
                out.append(f"  {o.commit.label}: {o.error}")
    else:
        out.append("")
        out.append("crashes: none")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("commits", type=Path, help="JSON lines {repo, commit, language}")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="holds <owner>+<name>/repo")
    ap.add_argument("--scale-review", default="scale-review", help="the CLI to run (default: scale-review on PATH)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per review (default 120)")
    ap.add_argument("--max-commits", type=int, default=None, help="review at most this many commits")
    ap.add_argument("--parallel", type=int, default=2, help="reviews at once (default 2)")
    ap.add_argument("--labels", type=Path, help="JSON lines {repo, commit, rule, path, start_line, verdict, why}")
    ap.add_argument("--output", type=Path, help="write every finding as JSON lines here")
    ap.add_argument("--scratch", type=Path, default=None, help="where scratch clones go (default: system temp)")
    ap.add_argument(
        "--no-checkout",
        action="store_true",
        help="skip checking out the head commit (faster; fine while the CLI reads revisions only through git)",
    )
    args = ap.parse_args(argv)

    executable = args.scale_review
    if os.sep not in executable and shutil.which(executable) is None:
        ap.error(f"{executable!r} is not on PATH; pass --scale-review PATH")
    commits = load_commits(args.commits)[: args.max_commits]
    labels = load_labels(args.labels) if args.labels else None
    scratch_root = args.scratch or Path(tempfile.gettempdir())
    scratch_root.mkdir(parents=True, exist_ok=True)

    def one(commit: Commit) -> Outcome:
        outcome = review(commit, args.mirrors, executable, args.timeout, scratch_root, not args.no_checkout)
        state = outcome.error or f"{outcome.conclusion}, {len(outcome.findings)} findings"
        print(f"  {commit.label}: {state} ({outcome.seconds:.1f} s)", file=sys.stderr, flush=True)
        return outcome

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    pool = ThreadPoolExecutor(max_workers=max(1, args.parallel))
    try:
        outcomes = list(pool.map(one, commits))
    except KeyboardInterrupt:
        # Let the reviews under way finish so their scratch clones are removed; start no new ones.
        print("interrupted: waiting for the reviews under way, then stopping", file=sys.stderr)
        pool.shutdown(wait=True, cancel_futures=True)
        return 130
    pool.shutdown()

    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        with args.output.open("w", encoding="utf-8") as fh:
            for o in outcomes:
                for f in o.findings:
                    fh.write(json.dumps(finding_record(o, f), ensure_ascii=False) + "\n")
    print("\n".join(summarize(outcomes, labels)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
