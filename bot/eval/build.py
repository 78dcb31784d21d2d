"""Build one evaluation case as a scratch git repository: base = the fix, head = the fix reverted.

The scratch repository borrows every object from the mirror (`objects/info/alternates`), so it
costs a few kilobytes. Head is one commit on top of the fix that restores the parent's version of
every file the fix touched (and removes files the fix added). It is built in a scratch index from
tree entries alone, so blobs that a mirror snapshot lacks are never read; they are listed in
`absent` so the report can say why a review of them may fail.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bot.eval.cases import Case

GIT_TIMEOUT_SECONDS = 300
ZERO_SHA = "0" * 40
HEAD_DATE = "2000-01-01T00:00:00Z"
HEAD_MESSAGE = "Update {path}{more}"
ERR_NO_MIRROR = "mirror not found: {path}"
ERR_NO_COMMIT = "commit {sha} is not in the mirror (fetch a newer snapshot)"
ERR_PARENTS = "fix commit {sha} has {n} parents (exactly one is needed)"
ERR_PARENT_MISMATCH = "the fix's parent is {actual}, the case says {expected}"
ERR_TREE = "restoring the touched files did not reproduce the parent's tree"


class CaseSkipped(Exception):
    """The case cannot be evaluated here (no mirror, or the fix commit is not in it): skipped, never a miss."""


class CaseBuildError(Exception):
    """The mirror is there but the case could not be built (bad commit, git failure)."""


@dataclass(frozen=True)
class BuiltCase:
    repo_path: str
    base: str
    head: str
    touched: int  # files the fix touched
    absent: tuple[str, ...] = ()  # touched paths whose blobs the mirror lacks


def mirror_path(mirrors: str | Path, case: Case) -> Path:
    return Path(mirrors) / case.mirror_name / "repo"


def _git(cwd: str | Path, *args: str, env: dict[str, str] | None = None, input_: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(
            ["git", "-C", str(cwd), "-c", "core.autocrlf=false", *args],
            input=input_,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CaseBuildError(f"git {args[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise CaseBuildError(f"git {args[0]}: {lines[-1] if lines else 'failed'}")
    return proc.stdout


def _objects_dir(mirror: Path) -> str:
    raw = _git(mirror, "rev-parse", "--git-path", "objects").decode().strip()
    return raw if os.path.isabs(raw) else str((mirror / raw).resolve())


def _single_parent(mirror: Path, case: Case) -> tuple[str, str]:
    try:
        fix = _git(mirror, "rev-parse", "--verify", "--quiet", f"{case.fix_commit}^{{commit}}").decode().strip()
    except CaseBuildError as exc:  # a snapshot older than the case: cannot be evaluated here
        raise CaseSkipped(ERR_NO_COMMIT.format(sha=case.fix_commit)) from exc
    parents = _git(mirror, "show", "-s", "--format=%P", fix).decode().split()
    if len(parents) != 1:
        raise CaseBuildError(ERR_PARENTS.format(sha=fix[:12], n=len(parents)))
    if case.parent and not parents[0].startswith(case.parent):
        raise CaseBuildError(ERR_PARENT_MISMATCH.format(actual=parents[0][:12], expected=case.parent[:12]))
    return fix, parents[0]


def _revert_entries(mirror: Path, fix: str, parent: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(mode, sha, path) of the parent's version of each touched path (mode '0' removes the path),
    and (sha, path) of every blob on either side that a review of the change will read."""
    raw = _git(mirror, "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", fix, parent)
    fields = raw.split(b"\0")
    entries: list[tuple[str, str, str]] = []
    blobs: list[tuple[str, str]] = []
    for i in range(0, len(fields) - 1, 2):
        meta, path = fields[i].decode(), fields[i + 1].decode(errors="surrogateescape")
        old_mode, new_mode, old_sha, new_sha, status = meta.lstrip(":").split()
        entries.append(("0", ZERO_SHA, path) if status == "D" else (new_mode, new_sha, path))
        blobs.extend((sha, path) for mode, sha in ((old_mode, old_sha), (new_mode, new_sha)) if _is_blob(mode, sha))
    return entries, blobs


def _is_blob(mode: str, sha: str) -> bool:
    return sha != ZERO_SHA and mode not in ("000000", "160000")


def _absent_blobs(repo: Path, blobs: list[tuple[str, str]]) -> tuple[str, ...]:
    if not blobs:
        return ()
    out = _git(repo, "cat-file", "--batch-check", input_="".join(f"{sha}\n" for sha, _ in blobs).encode())
    missing = {line.split()[0] for line in out.decode().splitlines() if line.endswith(" missing")}
    return tuple(sorted({path for sha, path in blobs if sha in missing}))


def head_message(entries: list[tuple[str, str, str]]) -> str:
    """A neutral commit message: the specialist reads it as the PR title, so it must not say 'revert'."""
    paths = [path for _, _, path in entries]
    more = f" and {len(paths) - 1} other file(s)" if len(paths) > 1 else ""
    return HEAD_MESSAGE.format(path=paths[0] if paths else "files", more=more)


def _write_head(repo: Path, fix: str, parent: str, entries: list[tuple[str, str, str]]) -> str:
    index_env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git" / "index.build")}
    _git(repo, "read-tree", fix, env=index_env)
    info = "".join(f"{mode} {sha}\t{path}\0" for mode, sha, path in entries)
    _git(repo, "update-index", "-z", "--index-info", env=index_env, input_=info.encode(errors="surrogateescape"))
    tree = _git(repo, "write-tree", "--missing-ok", env=index_env).decode().strip()
    (repo / ".git" / "index.build").unlink(missing_ok=True)
    if tree != _git(repo, "rev-parse", f"{parent}^{{tree}}").decode().strip():
        raise CaseBuildError(ERR_TREE)
    commit_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.invalid",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.invalid",
        "GIT_AUTHOR_DATE": HEAD_DATE,
        "GIT_COMMITTER_DATE": HEAD_DATE,
    }
    return _git(repo, "commit-tree", tree, "-p", fix, "-m", head_message(entries), env=commit_env).decode().strip()


def build_case(case: Case, mirrors: str | Path, scratch: str | Path) -> BuiltCase:
    """Create `scratch/repo` for the case. CaseSkipped without a mirror, CaseBuildError otherwise."""
    mirror = mirror_path(mirrors, case)
    if not mirror.is_dir():
        raise CaseSkipped(ERR_NO_MIRROR.format(path=mirror))
    mirror = mirror.resolve()
    fix, parent = _single_parent(mirror, case)
    repo = Path(scratch) / "repo"
    repo.parent.mkdir(parents=True, exist_ok=True)
    _git(repo.parent, "init", "-q", str(repo))
    (repo / ".git" / "objects" / "info" / "alternates").write_text(_objects_dir(mirror) + "\n")
    entries, blobs = _revert_entries(mirror, fix, parent)
    head = _write_head(repo, fix, parent, entries)
    _git(repo, "update-ref", "refs/heads/base", fix)
    _git(repo, "update-ref", "refs/heads/head", head)
    _git(repo, "symbolic-ref", "HEAD", "refs/heads/head")
    return BuiltCase(str(repo), fix, head, touched=len(entries), absent=_absent_blobs(repo, blobs))
