"""Stateful resources of the fake GitHub: repos, commits, pulls, checks, reviews, comments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from .gitdata import blob_sha, changed_paths, commit_sha, file_diff, hunk_map, hunks_text, is_binary


class HttpError(Exception):
    """Raised by a route: becomes a JSON error response like GitHub's."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


@dataclass
class Commit:
    sha: str
    tree: dict[str, bytes]
    parent: str | None
    symlinks: frozenset[str] = frozenset()


@dataclass
class Pull:
    number: int
    head_sha: str
    base_sha: str
    head_ref: str = "feature"
    base_ref: str = "main"
    title: str = "A change"
    body: str = ""
    user: str = "octocat"
    user_type: str = "User"
    draft: bool = False
    state: str = "open"
    diff_too_large: bool = False  # the diff media type answers 406 too_large
    no_patch: set[str] = field(default_factory=set)  # files whose `patch` the files API omits
    heads: list[str] = field(default_factory=list)  # every head sha this PR has had
    head_repo: str | None = ""  # "" the base repo itself, "owner/name" a fork, None a deleted fork


@dataclass
class Repo:
    owner: str
    name: str
    default_branch: str = "main"
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    pulls: dict[int, Pull] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin/write/read/none
    installation_id: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: float


class Store:
    """All data; every mutation happens under the server lock."""

    def __init__(self) -> None:
        self.ids = itertools.count(1000)
        self.salt = itertools.count(1)
        self.repos: dict[str, Repo] = {}
        self.commits: dict[str, Commit] = {}
        self.blobs: dict[str, bytes] = {}
        self.installations: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.annotations: dict[int, list[dict[str, Any]]] = {}
        self.reviews: dict[int, dict[str, Any]] = {}
        self.review_comments: dict[int, dict[str, Any]] = {}
        self.issue_comments: dict[int, dict[str, Any]] = {}
        self.reactions: dict[int, list[dict[str, Any]]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.redeliveries: list[str] = []
        self.manifest_codes: set[str] = set()

    def next_id(self) -> int:
        return next(self.ids)

    def repo(self, owner: str, name: str) -> Repo:
        r = self.repos.get(f"{owner}/{name}".lower())
        if r is None:
            raise HttpError(404, "Not Found")
        return r

    def pull(self, owner: str, name: str, number: int) -> Pull:
        pr = self.repo(owner, name).pulls.get(int(number))
        if pr is None:
            raise HttpError(404, "Not Found")
        return pr

    def add_commit(self, parent: str | None, tree: dict[str, bytes], symlinks: frozenset[str] = frozenset()) -> str:
        if not symlinks and parent in self.commits:
            symlinks = frozenset(p for p in self.commits[parent].symlinks if p in tree)
        sha = commit_sha(parent, tree, next(self.salt))
        for data in tree.values():
            self.blobs[blob_sha(data)] = data
        self.commits[sha] = Commit(sha, dict(tree), parent, symlinks)
        return sha

    def resolve(self, repo: Repo, ref: str | None) -> Commit:
        """A branch name, `refs/heads/x`, `HEAD` or a commit sha -> the commit (404 otherwise)."""
        ref = ref or repo.default_branch
        if ref == "HEAD":
            ref = repo.default_branch
        ref = ref.removeprefix("refs/heads/")
        sha = repo.branches.get(ref, ref)
        commit = self.commits.get(sha)
        if commit is None:
            raise HttpError(404, f"No commit found for the ref {ref}")
        return commit

    def diff_between(self, base_sha: str, head_sha: str) -> str:
        base, head = self.commits[base_sha].tree, self.commits[head_sha].tree
        return "".join(file_diff(p, base.get(p), head.get(p)) for p in changed_paths(base, head))

    def pull_diff(self, pr: Pull, head_sha: str | None = None) -> str:
        return self.diff_between(pr.base_sha, head_sha or pr.head_sha)

    def pull_files(self, repo: Repo, pr: Pull) -> list[dict[str, Any]]:
        return self.files_between(repo, pr.base_sha, pr.head_sha, pr.no_patch)

    def ancestors(self, sha: str) -> list[str]:
        """`sha` and its first-parent history, newest first."""
        out: list[str] = []
        current: str | None = sha
        while current is not None and current in self.commits:
            out.append(current)
            current = self.commits[current].parent
        return out

    def compare_status(self, base_sha: str, head_sha: str) -> tuple[str, str | None]:
        """GitHub's compare status (identical, ahead, behind, diverged) and the merge base."""
        if base_sha == head_sha:
            return "identical", base_sha
        head_line, base_line = self.ancestors(head_sha), self.ancestors(base_sha)
        if base_sha in head_line:
            return "ahead", base_sha
        if head_sha in base_line:
            return "behind", head_sha
        return "diverged", next((c for c in head_line if c in set(base_line)), None)

    def files_between(self, repo: Repo, base_sha: str, head_sha: str,
                      no_patch: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        base, head = self.commits[base_sha].tree, self.commits[head_sha].tree
        out = []
        for path in changed_paths(base, head):
            old, new = base.get(path), head.get(path)
            status = "added" if old is None else "removed" if new is None else "modified"
            item: dict[str, Any] = {
                "sha": blob_sha(new if new is not None else old or b""),
                "filename": path,
                "status": status,
                "raw_url": f"https://example.invalid/{repo.full_name}/raw/{head_sha}/{path}",
            }
            binary = is_binary(old or b"") or is_binary(new or b"")
            patch = "" if binary else hunks_text(old or b"", new or b"")
            hm = hunk_map(patch)
            item.update(additions=hm.additions, deletions=hm.deletions, changes=hm.additions + hm.deletions)
            if patch and path not in no_patch:
                item["patch"] = patch.rstrip("\n")
            out.append(item)
        return out
