"""Review a change of a local git checkout: the offline path behind `scale-review review`.

The only module of the core that touches git and the filesystem; everything after the diff is
`bot.pipeline`. Errors a user can fix come out as LocalReviewError with a one-line message.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping

from bot.diff import DiffError, parse_diff
from bot.model import Review, Severity
from bot.pipeline import review_change
from bot.repo import LocalGitRepo, RepoAccessError
from bot.repo_config import CONFIG_PATH, MAX_CONFIG_BYTES, RepoConfig, load_repo_config

MAX_DIFF_BYTES = 200_000_000


class LocalReviewError(Exception):
    """A problem with the repository, a revision or the configuration (exit code 2)."""


def _git(root: str, *args: str) -> bytes:
    try:
        proc = subprocess.run(["git", "-C", root, *args], capture_output=True, check=False, timeout=300)
    except FileNotFoundError as exc:
        raise LocalReviewError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise LocalReviewError(f"git {args[0]} timed out") from exc
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise LocalReviewError(lines[-1] if lines else f"git {args[0]} failed")
    return proc.stdout


def _check_repo(path: str) -> str:
    if not os.path.isdir(path):
        raise LocalReviewError(f"{path}: no such directory")
    try:
        top = _git(path, "rev-parse", "--show-toplevel").decode().strip()
    except LocalReviewError as exc:
        raise LocalReviewError(f"{path}: not a git repository") from exc
    return top


def _resolve(root: str, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except LocalReviewError as exc:
        raise LocalReviewError(f"unknown revision: {ref}") from exc


def _read_config_file(path: str) -> bytes:
    if not os.path.exists(path):
        raise LocalReviewError(f"{path}: config file not found")
    if not os.path.isfile(path):
        raise LocalReviewError(f"{path}: config path is not a file")
    with open(path, "rb") as fh:
        data = fh.read(MAX_CONFIG_BYTES + 1)
    if b"\0" in data[:8192]:
        raise LocalReviewError(f"{path}: config file is binary")
    return data


def load_config(root: str, base_sha: str, config_file: str | None) -> RepoConfig:
    """The config: an explicit file, else `.github/scale-review.yml` at the BASE revision."""
    if config_file:
        text: bytes | None = _read_config_file(config_file)
        source = config_file
    else:
        source = CONFIG_PATH
        try:
            text = LocalGitRepo(root, base_sha).read_bytes(CONFIG_PATH)
        except RepoAccessError:
            text = None
    config, errors = load_repo_config(text, source)
    if errors:
        raise LocalReviewError(errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return config


def review_local(
    repo_path: str,
    base: str,
    head: str = "HEAD",
    *,
    config_file: str | None = None,
    fail_on: Severity | None = None,
    use_llm: bool = False,
    env: Mapping[str, str] | None = None,
) -> Review:
    """Review base...head (what a pull request from head into base would show)."""
    started = time.perf_counter()
    root = _check_repo(repo_path)
    base_sha = _resolve(root, base)
    head_sha = _resolve(root, head)
    config = load_config(root, base_sha, config_file)
    raw = _git(root, "diff", "--no-color", "--no-ext-diff", "-M", f"{base_sha}...{head_sha}")
    if len(raw) > MAX_DIFF_BYTES:
        raise LocalReviewError(f"the diff is {len(raw):,} bytes, over the {MAX_DIFF_BYTES:,}-byte limit")
    try:
        changes = parse_diff(raw)
    except DiffError as exc:
        raise LocalReviewError(f"git produced a diff that could not be read: {exc}") from exc
    repo = LocalGitRepo(root, head_sha)
    stats = {"base": base_sha, "head": head_sha, "mode": "static"}
    review = review_change(changes, repo, config, fail_on=fail_on, stats=stats)
    review.stats["seconds"] = round(time.perf_counter() - started, 3)
    return review
