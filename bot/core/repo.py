"""RepoView: read-only access to one snapshot of a repository, confined to it.

Every read goes through `check_path` (no absolute paths, no `..`, no secrets files) and a size
cap; symlinks are followed only while they stay inside the snapshot. `LocalGitRepo` serves a
revision of a local git checkout; the App serves the same interface from GitHub.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
import time
from dataclasses import dataclass
from typing import Protocol

from bot.core.deadline import NEVER, Deadline

MAX_FILE_BYTES = 1_000_000
MAX_SYMLINK_HOPS = 8
MATCH_SECONDS = 0.1  # CPU on slow lines, together: a sane pattern needs microseconds a line
SLOW_LINE_SECONDS = 0.002  # CPU: a line that takes longer counts against MATCH_SECONDS
SEARCH_SECONDS = 5.0  # the whole search over the snapshot
PATTERN_TOO_SLOW = (
    "pattern too slow: matching took over {seconds:g} s (nested or overlapping repetition such as (a+)+ or "
    "(a|a)+ backtracks exponentially); use a simpler pattern"
)
SEARCH_TOO_SLOW = "search stopped at its {seconds:g} s budget after {files} file(s); use a narrower glob or pattern"

_SECRET_NAMES = {
    ".env", ".envrc", ".netrc", ".pgpass", ".npmrc", ".pypirc", "id_rsa", "id_dsa", "id_ecdsa",
    "id_ed25519", "credentials", "credentials.json", "secrets.yml", "secrets.yaml", ".git-credentials",
}
_SECRET_GLOBS = ("*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", ".env.*", "*.env", "id_rsa*")


class RepoAccessError(Exception):
    """A read was refused or failed; the message says why (shown to users and to the model)."""


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str  # "file" | "dir" | "symlink"
    size: int = 0


@dataclass(frozen=True)
class TextMatch:
    path: str
    line: int
    text: str


def is_secret_path(path: str) -> bool:
    name = posixpath.basename(path).lower()
    if name in _SECRET_NAMES:
        return True
    if name in (".env.example", ".env.sample", ".env.template"):
        return False
    return any(fnmatch.fnmatch(name, g) for g in _SECRET_GLOBS)


def check_path(path: str) -> str:
    """Normalise a repository-relative path or refuse it with a reason."""
    if not isinstance(path, str) or not path.strip():
        raise RepoAccessError("empty path")
    if "\0" in path:
        raise RepoAccessError("path contains a NUL byte")
    p = path.replace("\\", "/").strip()
    if p.startswith("/") or re.match(r"^[A-Za-z]:", p):
        raise RepoAccessError(f"{path}: absolute paths are outside the repository")
    parts = [s for s in p.split("/") if s not in ("", ".")]
    if any(s == ".." for s in parts):
        raise RepoAccessError(f"{path}: '..' leads outside the repository")
    if parts and parts[0] == ".git":
        raise RepoAccessError(f"{path}: the .git folder is not part of the snapshot")
    norm = "/".join(parts)
    if not norm:
        return ""
    if is_secret_path(norm):
        raise RepoAccessError(f"{path}: secrets files are never read")
    return norm


def follow_link(link: str, target: str) -> str:
    """Where a symlink at `link` pointing to `target` leads, refused when that is outside the snapshot."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    if target.startswith("/") or joined.startswith(".."):
        raise RepoAccessError(f"{link}: symlink leads outside the repository")
    return check_path(joined)


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def decode_text(path: str, data: bytes, limit: int = MAX_FILE_BYTES) -> str:
    """Bytes of a file -> text, or a refusal for binary and oversized files."""
    if len(data) > limit:
        raise RepoAccessError(f"{path}: {len(data):,} bytes is over the {limit:,}-byte limit")
    if is_binary(data):
        raise RepoAccessError(f"{path}: binary file")
    return data.decode("utf-8", errors="replace")


class RepoView(Protocol):
    """What analyzers and the specialist's tools may read."""

    def read_text(self, path: str) -> str: ...

    def list_files(self, glob: str | None = None) -> list[str]: ...

    def list_folder(self, path: str) -> list[Entry]: ...

    def search_text(
        self, pattern: str, glob: str | None = None, max_results: int = 100, deadline: Deadline = NEVER
    ) -> list[TextMatch]: ...


def glob_match(path: str, glob: str | None) -> bool:
    """fnmatch where '**/' may also match nothing (so '**/*.py' matches 'a.py')."""
    if not glob:
        return True
    if fnmatch.fnmatch(path, glob):
        return True
    if glob.startswith("**/") and fnmatch.fnmatch(path, glob[3:]):
        return True
    return "/" not in glob and fnmatch.fnmatch(posixpath.basename(path), glob)


def search_lines(
    view: RepoView, pattern: str, glob: str | None, max_results: int, deadline: Deadline = NEVER
) -> list[TextMatch]:
    """Shared search over a view's readable text files (regex, case-sensitive), bounded in time.

    The pattern may come from a model reading hostile code: each line's match runs with a timeout
    (the `regex` module's, which the engine checks while backtracking) and the whole search within
    `SEARCH_SECONDS` or `deadline`, whichever comes first; running out raises RepoAccessError.
    """
    import regex  # the third-party engine (timeouts while backtracking): only the specialist's search needs it

    try:
        rx = regex.compile(pattern)
    except (regex.error, re.error, ValueError, OverflowError) as exc:
        raise RepoAccessError(f"invalid regular expression: {exc}") from exc
    deadline = deadline.within(SEARCH_SECONDS)
    slow = 0.0  # CPU seconds spent on lines that took over SLOW_LINE_SECONDS (CPU: preemption is not slowness)
    out: list[TextMatch] = []
    for files, path in enumerate(view.list_files(glob)):
        if deadline.expired():
            raise RepoAccessError(SEARCH_TOO_SLOW.format(seconds=SEARCH_SECONDS, files=files))
        try:
            text = view.read_text(path)
        except RepoAccessError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            started = time.thread_time()
            try:
                hit = rx.search(line, timeout=max(min(MATCH_SECONDS - slow, deadline.remaining()), 0.001))
            except TimeoutError as exc:
                if deadline.expired():
                    raise RepoAccessError(SEARCH_TOO_SLOW.format(seconds=SEARCH_SECONDS, files=files)) from exc
                raise RepoAccessError(PATTERN_TOO_SLOW.format(seconds=MATCH_SECONDS)) from exc
            took = time.thread_time() - started
            if took > SLOW_LINE_SECONDS:
                slow += took
                if slow > MATCH_SECONDS:
                    raise RepoAccessError(PATTERN_TOO_SLOW.format(seconds=MATCH_SECONDS))
            if hit:
                out.append(TextMatch(path, n, line[:300]))
                if len(out) >= max_results:
                    return out
    return out


@dataclass(frozen=True)
class _TreeEntry:
    mode: str
    kind: str
    sha: str
    size: int


class LocalGitRepo:
    """A read-only view of one revision of a local git repository."""

    def __init__(self, root: str, rev: str = "HEAD", max_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.rev = self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        self._tree: dict[str, _TreeEntry] | None = None
        self._cache: dict[str, bytes] = {}

    def _git(self, *args: str, input_: bytes | None = None) -> bytes:
        try:
            proc = subprocess.run(
                ["git", "-C", self.root, *args], input=input_, capture_output=True, check=False, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RepoAccessError(f"git failed: {exc}") from exc
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise RepoAccessError(msg[-1] if msg else f"git {args[0]} failed")
        return proc.stdout

    @property
    def tree(self) -> dict[str, _TreeEntry]:
        if self._tree is None:
            raw = self._git("ls-tree", "-r", "-z", "--long", self.rev)
            tree: dict[str, _TreeEntry] = {}
            for rec in raw.split(b"\0"):
                if not rec:
                    continue
                meta, _, name = rec.partition(b"\t")
                mode, kind, sha, size = meta.decode().split()
                tree[name.decode(errors="surrogateescape")] = _TreeEntry(
                    mode, kind, sha, int(size) if size.isascii() and size.isdigit() else 0
                )
            self._tree = tree
        return self._tree

    def _resolve(self, path: str) -> tuple[str, _TreeEntry]:
        norm = check_path(path)
        for _ in range(MAX_SYMLINK_HOPS):
            entry = self.tree.get(norm)
            if entry is None:
                if any(p.startswith(norm + "/") for p in self.tree):
                    raise RepoAccessError(f"{path}: is a folder")
                raise RepoAccessError(f"{path}: no such file at {self.rev[:12]}")
            if entry.kind != "blob":
                raise RepoAccessError(f"{path}: not a file ({entry.kind})")
            if entry.mode != "120000":
                return norm, entry
            norm = follow_link(norm, self._git("cat-file", "blob", entry.sha).decode(errors="replace"))
        raise RepoAccessError(f"{path}: too many symlink hops")

    def read_bytes(self, path: str) -> bytes:
        norm, entry = self._resolve(path)
        if entry.size > self.max_bytes:
            raise RepoAccessError(f"{path}: {entry.size:,} bytes is over the {self.max_bytes:,}-byte limit")
        if norm not in self._cache:
            self._cache[norm] = self._git("cat-file", "blob", entry.sha)
        return self._cache[norm]

    def read_text(self, path: str) -> str:
        return decode_text(path, self.read_bytes(path), self.max_bytes)

    def prefetch(self, paths: list[str]) -> None:
        """Load many blobs with one `git cat-file --batch` (fast path for analyzers)."""
        wanted: list[tuple[str, str]] = []
        for p in paths:
            entry = self.tree.get(p)
            if entry and entry.kind == "blob" and entry.mode != "120000" and entry.size <= self.max_bytes:
                if p not in self._cache:
                    wanted.append((p, entry.sha))
        if not wanted:
            return
        out = self._git("cat-file", "--batch", input_="".join(f"{sha}\n" for _, sha in wanted).encode())
        pos = 0
        for path, _sha in wanted:
            header_end = out.index(b"\n", pos)
            header = out[pos:header_end].split()
            size = int(header[2])
            self._cache[path] = out[header_end + 1 : header_end + 1 + size]
            pos = header_end + 1 + size + 1

    def list_files(self, glob: str | None = None) -> list[str]:
        return sorted(
            p for p, e in self.tree.items()
            if e.kind == "blob" and not is_secret_path(p) and glob_match(p, glob)
        )

    def list_folder(self, path: str) -> list[Entry]:
        norm = check_path(path) if path not in ("", ".", "/") else ""
        prefix = norm + "/" if norm else ""
        seen: dict[str, Entry] = {}
        for p, e in self.tree.items():
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix):]
            head, sep, _ = rest.partition("/")
            full = prefix + head
            if sep:
                seen.setdefault(full, Entry(full, "dir"))
            elif not is_secret_path(full):
                seen[full] = Entry(full, "symlink" if e.mode == "120000" else "file", e.size)
        if not seen and norm:
            raise RepoAccessError(f"{path}: no such folder at {self.rev[:12]}")
        return sorted(seen.values(), key=lambda e: (e.kind != "dir", e.path))

    def search_text(
        self, pattern: str, glob: str | None = None, max_results: int = 100, deadline: Deadline = NEVER
    ) -> list[TextMatch]:
        return search_lines(self, pattern, glob, max_results, deadline)
