"""Seeding the fake from a local git repository: the base tree and the changed files of base..head."""

from __future__ import annotations

import subprocess

MAX_SEED_FILES = 5_000


def _git(root: str, *args: str) -> bytes:
    return subprocess.run(["git", "-C", root, *args], capture_output=True, check=True, timeout=60).stdout


def tree_files(root: str, rev: str) -> dict[str, bytes]:
    """Every regular file of `rev` (symlinks and submodules left out), at most MAX_SEED_FILES."""
    out: dict[str, bytes] = {}
    for rec in _git(root, "ls-tree", "-r", "-z", rev).split(b"\0")[:MAX_SEED_FILES]:
        if not rec:
            continue
        meta, _, name = rec.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob" and mode != "120000":
            out[name.decode(errors="surrogateescape")] = _git(root, "cat-file", "blob", sha)
    return out


def changed_files(root: str, base: str, head: str) -> dict[str, tuple[bytes | None, bytes | None]]:
    """path -> (base bytes or None, head bytes or None) for files that differ between base and head."""
    before, after = tree_files(root, base), tree_files(root, head)
    return {p: (before.get(p), after.get(p)) for p in sorted(set(before) | set(after))
            if before.get(p) != after.get(p)}
