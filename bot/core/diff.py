"""Unified diff -> ChangeSet: files, hunks, and which head-side lines a review may point at.

Built on unidiff. Never raises on odd input: CRLF, missing trailing newlines, non-UTF-8 bytes,
binary and mode-only changes and empty diffs all give a ChangeSet; only text that is not a
diff at all raises DiffError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

_GIT_HEADER = re.compile(r"^diff --git a/(.+?) b/(.+)$")
_SECTION_START = re.compile(r"(?m)^(?=diff --git )")


def git_sections(diff: str) -> list[tuple[tuple[str, str] | None, str]]:
    """A git diff cut before each `diff --git` line, in order and losslessly (the pieces join back to
    `diff`): each piece with its header's (old path, new path), or None for text before any header."""
    out: list[tuple[tuple[str, str] | None, str]] = []
    for section in _SECTION_START.split(diff):
        match = _GIT_HEADER.match(section.split("\n", 1)[0])
        out.append(((match.group(1), match.group(2)) if match else None, section))
    return out


def without_files(diff: str, paths: set[str] | frozenset[str]) -> str:
    """The diff without the sections of `paths` (files left out as generated are never sent to the model)."""
    if not paths:
        return diff
    return "".join(section for pair, section in git_sections(diff) if not (pair and pair[1] in paths))


class DiffError(ValueError):
    """The text is not a unified diff."""


class FileStatus(StrEnum):
    added = "added"
    modified = "modified"
    deleted = "deleted"
    renamed = "renamed"
    binary = "binary"
    mode_only = "mode_only"


@dataclass(frozen=True)
class Hunk:
    """One hunk. Line numbers are 1-based; `head_*` is the new (RIGHT) side."""

    base_start: int
    base_length: int
    head_start: int
    head_length: int
    added: tuple[int, ...]  # head-side numbers of '+' lines
    removed: tuple[int, ...]  # base-side numbers of '-' lines
    visible: tuple[int, ...]  # head-side numbers of '+' and context lines (RIGHT-commentable)
    removed_at: tuple[int, ...] = ()  # head line n such that base lines were removed between n-1 and n

    def contains_head_line(self, line: int) -> bool:
        return self.head_start <= line < self.head_start + max(self.head_length, 1) and line in self.visible


@dataclass(frozen=True)
class FileChange:
    """One file of the change. `path` is the head-side path (the old one for deletions)."""

    path: str
    old_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    added_lines: frozenset[int] = field(default_factory=frozenset)
    visible_lines: frozenset[int] = field(default_factory=frozenset)
    additions: int = 0
    deletions: int = 0
    removal_points: frozenset[int] = field(default_factory=frozenset)

    @property
    def reviewable(self) -> bool:
        """A file has head-side text to look at."""
        return self.status not in (FileStatus.deleted, FileStatus.binary, FileStatus.mode_only)

    @property
    def changed(self) -> bool:
        """The change added lines to this file or removed some from it (a pure deletion counts)."""
        return bool(self.added_lines or self.removal_points)

    def touches(self, start: int, end: int) -> bool:
        """True when the change added a line in start..end (inclusive), or removed lines inside it or
        next to it.

        A removal at `p` (lines removed between p-1 and p) counts when p-1 or p is in the range:
        deleting `timeout=5,` from a multi-line call changes that call even though no line was added,
        and a statement right after a deleted line may have depended on it. Whether the finding is
        new is decided against the base side (bot.analyzers.matching), not here.
        """
        if end - start < len(self.added_lines):
            if any(n in self.added_lines for n in range(start, end + 1)):
                return True
        elif any(start <= n <= end for n in self.added_lines):
            return True
        return any(start <= p <= end + 1 for p in self.removal_points)

    def can_comment(self, line: int) -> bool:
        """GitHub accepts a RIGHT-side review comment on this line."""
        return line in self.visible_lines

    def hunk_of(self, line: int) -> Hunk | None:
        for hunk in self.hunks:
            if line in hunk.visible:
                return hunk
        return None

    def can_comment_range(self, start: int, end: int) -> bool:
        """A multi-line comment: both ends visible and in the same hunk."""
        if start == end:
            return self.can_comment(end)
        hunk = self.hunk_of(end)
        return hunk is not None and start < end and start in hunk.visible

    def anchor(self, start: int, end: int) -> tuple[int, int] | None:
        """The widest commentable range inside start..end that touches the change, or None.

        Clamps a finding's lines to what the diff shows, so a comment never lands outside it.
        """
        for hunk in self.hunks:
            inside = [n for n in hunk.visible if start <= n <= end]
            if inside and any(n in self.added_lines for n in inside):
                return inside[0], inside[-1]
        for hunk in self.hunks:
            inside = [n for n in hunk.visible if start <= n <= end]
            if inside:
                return inside[0], inside[-1]
        return None


@dataclass(frozen=True)
class ChangeSet:
    files: tuple[FileChange, ...] = ()

    def get(self, path: str) -> FileChange | None:
        for f in self.files:
            if f.path == path:
                return f
        return None

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    @property
    def changed_lines(self) -> int:
        return sum(f.additions + f.deletions for f in self.files)


def _decode(diff: str | bytes) -> str:
    if isinstance(diff, bytes):
        return diff.decode("utf-8", errors="replace")
    return diff


def _strip_prefix(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def _status(pf: object, old: str | None, new: str | None, has_hunks: bool) -> FileStatus:
    if getattr(pf, "is_binary_file", False):
        return FileStatus.binary
    if getattr(pf, "is_added_file", False):
        return FileStatus.added
    if getattr(pf, "is_removed_file", False):
        return FileStatus.deleted
    if old and new and old != new:
        return FileStatus.renamed
    if not has_hunks:
        return FileStatus.mode_only
    return FileStatus.modified


def _hunk(h: object) -> Hunk:
    added: list[int] = []
    removed: list[int] = []
    visible: list[int] = []
    removed_at: list[int] = []
    pending_removal = False
    for line in h:  # type: ignore[attr-defined]
        if line.is_removed:
            removed.append(line.source_line_no)
            pending_removal = True
            continue
        if line.target_line_no is None:
            continue
        if pending_removal:
            removed_at.append(line.target_line_no)
            pending_removal = False
        if line.is_added:
            added.append(line.target_line_no)
            visible.append(line.target_line_no)
        elif line.is_context:
            visible.append(line.target_line_no)
    if pending_removal:
        removed_at.append(h.target_start + h.target_length)  # type: ignore[attr-defined]
    return Hunk(
        base_start=h.source_start,  # type: ignore[attr-defined]
        base_length=h.source_length,  # type: ignore[attr-defined]
        head_start=h.target_start,  # type: ignore[attr-defined]
        head_length=h.target_length,  # type: ignore[attr-defined]
        added=tuple(added),
        removed=tuple(removed),
        visible=tuple(visible),
        removed_at=tuple(removed_at),
    )


def _check_order(path: str, hunks: tuple[Hunk, ...]) -> None:
    """Git writes a file's hunks in order and never overlapping; anything else is a broken diff."""
    for before, after in zip(hunks, hunks[1:], strict=False):
        if after.head_start < before.head_start + before.head_length or (
            after.base_start < before.base_start + before.base_length
        ):
            raise DiffError(f"not a unified diff: hunks of {path} overlap or are out of order")


def parse_diff(diff: str | bytes) -> ChangeSet:
    """Parse a unified (git) diff into a ChangeSet."""
    text = _decode(diff).replace("\r\n", "\n")
    if not text.strip():
        return ChangeSet()
    try:
        patch = PatchSet(text)
    except UnidiffParseError as exc:
        raise DiffError(f"not a unified diff: {exc}") from exc
    if not len(patch) and not text.lstrip().startswith(("diff ", "--- ", "From ")):
        raise DiffError("not a unified diff: no file headers found")
    files = []
    for pf in patch:
        old = _strip_prefix(pf.source_file)
        new = _strip_prefix(pf.target_file)
        hunks = tuple(_hunk(h) for h in pf)
        _check_order(pf.path, hunks)
        status = _status(pf, old, new, bool(hunks))
        path = new or old or pf.path
        added = frozenset(n for h in hunks for n in h.added)
        visible = frozenset(n for h in hunks for n in h.visible)
        files.append(
            FileChange(
                path=path,
                old_path=old if old != path else None,
                status=status,
                hunks=hunks,
                added_lines=added,
                visible_lines=visible,
                additions=pf.added,
                deletions=pf.removed,
                removal_points=frozenset(n for h in hunks for n in h.removed_at),
            )
        )
    return ChangeSet(files=tuple(files))
