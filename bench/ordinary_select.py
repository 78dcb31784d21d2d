"""Pick recent ordinary commits from local git mirrors for bench/ordinary.py.

An ordinary commit is the most recent non-merge commit reachable from the mirror's default branch (HEAD)
that touches at least one code file of the project's language and is not huge (fewer than ``--max-files``
files and fewer than ``--max-lines`` changed lines). Output is JSON lines
``{"repo": "owner/name", "commit": "<sha>", "language": "..."}``, newest first per project.

    python bench/ordinary_select.py --mirrors /work/.mirror --per-project 28 \\
        python:django-oscar/django-oscar ruby:solidusio/solidus ... > bench/ordinary-commits.jsonl

Standard library only; it reads the mirrors with ``git log`` and writes nothing else.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CODE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "python": (".py",),
    "ruby": (".rb", ".rake"),
    "go": (".go",),
    "typescript": (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx"),
}


@dataclass
class Candidate:
    sha: str
    files: int = 0
    lines: int = 0
    code_files: int = 0


def mirror_path(mirrors: Path, repo: str) -> Path:
    owner, name = repo.split("/", 1)
    return mirrors / f"{owner}+{name}" / "repo"


def recent_commits(git_dir: Path, scan: int) -> list[str]:
    """The newest ``scan`` non-merge commits reachable from HEAD, newest first."""
    out = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-list", "--no-merges", f"--max-count={scan}", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


def measure(git_dir: Path, sha: str, language: str) -> Candidate | None:
    """Size of one commit against its first parent; None when git cannot diff it (root, missing objects)."""
    proc = subprocess.run(
        [
            "git",
            "--git-dir",
            str(git_dir),
            "diff-tree",
            "-r",
            "--no-commit-id",
            "--no-renames",
            "--numstat",
            f"{sha}^",
            sha,
        ],
        capture_output=True,
        text=True,
        errors="replace",
    )
    if proc.returncode != 0:
        return None
    exts = CODE_EXTENSIONS[language]
    cand = Candidate(sha)
    for line in proc.stdout.splitlines():
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        added, deleted, path = parts
        cand.files += 1
        cand.lines += (int(added) if added.isdigit() else 0) + (int(deleted) if deleted.isdigit() else 0)
        if path.endswith(exts) and not path.endswith(".d.ts") and ".min." not in path:
            cand.code_files += 1
    return cand


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("projects", nargs="+", help="language:owner/name, e.g. go:navidrome/navidrome")
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--per-project", type=int, default=28)
    ap.add_argument("--max-files", type=int, default=40, help="keep commits with fewer files than this")
    ap.add_argument("--max-lines", type=int, default=2000, help="keep commits with fewer changed lines than this")
    ap.add_argument("--scan", type=int, default=600, help="how many recent commits to look at per project")
    args = ap.parse_args(argv)

    for spec in args.projects:
        language, _, repo = spec.partition(":")
        if language not in CODE_EXTENSIONS or "/" not in repo:
            ap.error(f"bad project {spec!r}: want language:owner/name with language in {sorted(CODE_EXTENSIONS)}")
        git_dir = mirror_path(args.mirrors, repo)
        kept = 0
        for sha in recent_commits(git_dir, args.scan):
            if kept >= args.per_project:
                break
            cand = measure(git_dir, sha, language)
            if cand is None or cand.code_files == 0 or cand.files >= args.max_files or cand.lines >= args.max_lines:
                continue
            print(json.dumps({"repo": repo, "commit": cand.sha, "language": language}))
            kept += 1
        print(f"{repo}: {kept} commits", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
