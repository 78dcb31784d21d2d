"""Scan a whole source tree with the ast-grep rule pack, as if every line were newly added.

Used to measure precision on code nobody here wrote:

    python bench/scan_tree.py PATH [--rule ID] [--show N] [--include-tests] [--jsonl FILE]

Prints, per rule, how many findings it made, then up to N example locations per rule. `--jsonl`
writes every finding (path, lines, rule, matched line text) for manual classification.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from bot.analyzers.astgrep import AstGrepAnalyzer, is_test_path, language_for
from bot.analyzers.base import FileInput
from bot.core.diff import FileChange, FileStatus
from bot.core.model import Finding

SKIP_DIRS = frozenset({".git", "node_modules", "vendor", ".venv", "venv", "dist", "build", "__pycache__"})
MAX_FILES = 50_000


def all_added(path: str, text: str) -> FileChange:
    lines = frozenset(range(1, text.count("\n") + 2))
    return FileChange(
        path=path, old_path=None, status=FileStatus.added, added_lines=lines, visible_lines=lines, additions=len(lines)
    )


def source_files(root: Path, include_tests: bool) -> list[Path]:
    out: list[Path] = []
    for path in sorted(root.rglob("*")):
        if len(out) >= MAX_FILES:
            break
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        if language_for(str(rel)) is None or (not include_tests and is_test_path(str(rel))):
            continue
        out.append(path)
    return out


def scan_tree(root: Path, analyzer: AstGrepAnalyzer, include_tests: bool) -> tuple[list[Finding], int, float]:
    started = time.perf_counter()
    findings: list[Finding] = []
    files = source_files(root, include_tests)
    for path in files:
        rel = str(path.relative_to(root))
        text = path.read_bytes().decode("utf-8", errors="replace")
        scan_path = rel if not include_tests else f"src/{rel}"  # the analyzer skips test paths
        found = analyzer.analyze(FileInput(change=all_added(scan_path, text), text=text))
        findings.extend(f.model_copy(update={"path": rel}) for f in found)
    return findings, len(files), time.perf_counter() - started


def line_text(root: Path, finding: Finding) -> str:
    lines = (root / finding.path).read_bytes().decode("utf-8", errors="replace").splitlines()
    return lines[finding.start_line - 1].strip() if finding.start_line <= len(lines) else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rule", help="only this rule id")
    parser.add_argument("--show", type=int, default=5, help="example locations per rule")
    parser.add_argument("--include-tests", action="store_true", help="also scan test files")
    parser.add_argument("--jsonl", type=Path, help="write every finding to this file")
    args = parser.parse_args(argv)
    analyzer = AstGrepAnalyzer.load_builtin()
    if args.rule:
        analyzer = AstGrepAnalyzer([r for r in analyzer.rules if r.id == args.rule])
    findings, nfiles, seconds = scan_tree(args.path, analyzer, args.include_tests)
    if args.jsonl:
        with args.jsonl.open("w") as out:
            for f in findings:
                row = {"rule": f.source, "path": f.path, "start": f.start_line, "end": f.end_line}
                out.write(json.dumps({**row, "line": line_text(args.path, f)}) + "\n")
    per_rule = Counter(f.source for f in findings)
    print(f"{args.path}: {nfiles} files, {len(findings)} findings, {seconds:.1f}s")
    for rule_id, n in per_rule.most_common():
        print(f"{n:6d}  {rule_id}")
        for f in [x for x in findings if x.source == rule_id][: args.show]:
            print(f"          {f.path}:{f.start_line}  {line_text(args.path, f)[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
