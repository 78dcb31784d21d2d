"""GitHubRepo: the `RepoView` of one commit on GitHub, with the same sandbox as `LocalGitRepo`.

The file list comes from one recursive git-trees call; contents are read in GraphQL batches
(`GitHubGateway.read_files`) and cached; changed files can be prefetched without the listing.
Paths go through `check_path`, files over the size cap and secrets files are refused, symlinks
are followed only while they stay inside the snapshot, and searches skip symlinks (their targets
are searched already).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.deadline import NEVER, Deadline
from bot.core.repo import (
    MAX_FILE_BYTES,
    MAX_SYMLINK_HOPS,
    Entry,
    RepoAccessError,
    TextMatch,
    check_path,
    decode_text,
    follow_link,
    glob_match,
    is_secret_path,
    search_lines,
)
from bot.github.client import GitHubGateway
from bot.github.retry import GitHubError

MAX_SEARCH_FILES = 2_000
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class _Node:
    mode: str
    size: int


class GitHubRepo:
    """A read-only view of `repo` at `ref` (a commit sha) through a gateway."""

    def __init__(self, gw: GitHubGateway, repo: str, ref: str, *, max_bytes: int = MAX_FILE_BYTES,
                 max_search_files: int = MAX_SEARCH_FILES) -> None:
        self.gw = gw
        self.repo = repo
        self.rev = ref
        self.max_bytes = max_bytes
        self.max_search_files = max_search_files
        self.truncated = False  # GitHub cut the tree listing (over 100,000 entries)
        self._tree: dict[str, _Node] | None = None
        self._cache: dict[str, bytes] = {}  # regular files read so far (known to exist, under the cap)

    @property
    def tree(self) -> dict[str, _Node]:
        if self._tree is None:
            try:
                data = self.gw.get(f"/repos/{self.repo}/git/trees/{self.rev}", recursive=1)
            except GitHubError as exc:
                raise RepoAccessError(f"cannot list files at {self.rev[:12]}: {exc}") from exc
            self.truncated = bool(data.get("truncated"))
            self._tree = {e["path"]: _Node(e.get("mode", ""), int(e.get("size") or 0))
                          for e in data.get("tree", []) if e.get("type") == "blob"}
        return self._tree

    def _fetch(self, paths: list[str]) -> None:
        missing = [p for p in paths if p not in self._cache]
        if not missing:
            return
        try:
            got = self.gw.read_files(self.repo, self.rev, missing, max_bytes=self.max_bytes)
        except GitHubError as exc:
            raise RepoAccessError(f"cannot read files at {self.rev[:12]}: {exc}") from exc
        for path, value in got.items():
            if isinstance(value, bytes):
                self._cache[path] = value

    def _resolve(self, path: str) -> str:
        norm = check_path(path)
        if norm in self._cache:  # read as a regular file already: no need for the listing
            return norm
        for _ in range(MAX_SYMLINK_HOPS):
            node = self.tree.get(norm)
            if node is None:
                if any(p.startswith(norm + "/") for p in self.tree):
                    raise RepoAccessError(f"{path}: is a folder")
                raise RepoAccessError(f"{path}: no such file at {self.rev[:12]}")
            if node.mode != SYMLINK_MODE:
                if node.size > self.max_bytes:
                    raise RepoAccessError(f"{path}: {node.size:,} bytes is over the {self.max_bytes:,}-byte limit")
                return norm
            try:
                target = self.gw.read_link(self.repo, self.rev, norm)
            except GitHubError as exc:
                raise RepoAccessError(f"{path}: cannot read the symlink: {exc}") from exc
            norm = follow_link(norm, target)
        raise RepoAccessError(f"{path}: too many symlink hops")

    def read_bytes(self, path: str) -> bytes:
        norm = self._resolve(path)
        self._fetch([norm])
        if norm not in self._cache:
            raise RepoAccessError(f"{path}: could not be read at {self.rev[:12]}")
        return self._cache[norm]

    def read_text(self, path: str) -> str:
        return decode_text(path, self.read_bytes(path), self.max_bytes)

    def prefetch(self, paths: list[str]) -> None:
        """Read many files in as few calls as possible (GraphQL batches of 100, no listing needed):
        regular files land in the cache; symlinks, refusals and misses are left to `read_bytes`."""
        self._fetch([p for p in dict.fromkeys(paths) if not is_secret_path(p)])

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(p for p in self.tree if not is_secret_path(p) and glob_match(p, glob))

    def list_folder(self, path: str) -> list[Entry]:
        norm = check_path(path) if path not in ("", ".", "/") else ""
        prefix = norm + "/" if norm else ""
        seen: dict[str, Entry] = {}
        for p, node in self.tree.items():
            if not p.startswith(prefix):
                continue
            head, sep, _ = p[len(prefix):].partition("/")
            full = prefix + head
            if sep:
                seen.setdefault(full, Entry(full, "dir"))
            elif not is_secret_path(full):
                seen[full] = Entry(full, "symlink" if node.mode == SYMLINK_MODE else "file", node.size)
        if not seen and norm:
            raise RepoAccessError(f"{path}: no such folder at {self.rev[:12]}")
        return sorted(seen.values(), key=lambda e: (e.kind != "dir", e.path))

    def search_text(
        self, pattern: str, glob: str | None = None, max_results: int = 100, deadline: Deadline = NEVER
    ) -> list[TextMatch]:
        files = self.list_files(glob)
        capped = _Capped(self, [p for p in files if self.tree[p].mode != SYMLINK_MODE][: self.max_search_files])
        self.prefetch(capped.files)
        return search_lines(capped, pattern, None, max_results, deadline)


class _Capped:
    """The view restricted to the first files of a listing (a budget on searches)."""

    def __init__(self, view: GitHubRepo, files: list[str]) -> None:
        self.view = view
        self.files = files

    def read_text(self, path: str) -> str:
        return self.view.read_text(path)

    def list_files(self, glob: str | None = None) -> list[str]:
        return self.files

    def list_folder(self, path: str) -> list[Entry]:
        return self.view.list_folder(path)

    def search_text(
        self, pattern: str, glob: str | None = None, max_results: int = 100, deadline: Deadline = NEVER
    ) -> list[TextMatch]:
        return search_lines(self, pattern, glob, max_results, deadline)
