"""Git-shaped data for the fake: blob/commit ids, trees, unified diffs and hunk maps.

Independent of `bot.core.diff` on purpose: the fake must judge our anchors by its own reading of the diff.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field

NO_NEWLINE = "\\ No newline at end of file"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def blob_sha(data: bytes) -> str:
    """Git's blob id: sha1 of `blob <len>\\0<data>`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def commit_sha(parent: str | None, tree: dict[str, bytes], salt: int) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    h.update(f"{parent}|{salt}".encode())
    for path in sorted(tree):
        h.update(path.encode() + b"\0" + blob_sha(tree[path]).encode())
    return h.hexdigest()


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def hunks_text(old: bytes, new: bytes, context: int = 3) -> str:
    """Only the hunks (`@@ ... @@` and their lines) of old -> new, as in the files API `patch`."""
    out: list[str] = []
    for i, line in enumerate(difflib.unified_diff(_lines(old), _lines(new), n=context)):
        if i < 2:  # '---' / '+++' headers
            continue
        if line.startswith("@@"):
            out.append(line if line.endswith("\n") else line + "\n")
        elif line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + NO_NEWLINE + "\n")
    return "".join(out)


def file_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    """A `diff --git` section for one path (old None: added, new None: deleted)."""
    head = [f"diff --git a/{path} b/{path}"]
    if old is None:
        head.append("new file mode 100644")
    elif new is None:
        head.append("deleted file mode 100644")
    a_sha = blob_sha(old)[:7] if old is not None else "0000000"
    b_sha = blob_sha(new)[:7] if new is not None else "0000000"
    head.append(f"index {a_sha}..{b_sha}" + (" 100644" if old is not None and new is not None else ""))
    if is_binary(old or b"") or is_binary(new or b""):
        a = f"a/{path}" if old is not None else "/dev/null"
        b = f"b/{path}" if new is not None else "/dev/null"
        head.append(f"Binary files {a} and {b} differ")
        return "\n".join(head) + "\n"
    head.append(f"--- a/{path}" if old is not None else "--- /dev/null")
    head.append(f"+++ b/{path}" if new is not None else "+++ /dev/null")
    return "\n".join(head) + "\n" + hunks_text(old or b"", new or b"")


def changed_paths(base: dict[str, bytes], head: dict[str, bytes]) -> list[str]:
    return sorted(p for p in set(base) | set(head) if base.get(p) != head.get(p))


def tree_diff(base: dict[str, bytes], head: dict[str, bytes]) -> str:
    """The whole unified diff between two trees, files sorted by path."""
    return "".join(file_diff(p, base.get(p), head.get(p)) for p in changed_paths(base, head))


@dataclass
class HunkMap:
    """Which lines of one file a review comment may point at, and in which hunk they sit."""

    right: dict[int, int] = field(default_factory=dict)  # head line -> hunk index
    left: dict[int, int] = field(default_factory=dict)  # base line -> hunk index
    additions: int = 0
    deletions: int = 0


def hunk_map(patch: str) -> HunkMap:
    """Read a patch's hunks: RIGHT = context and added lines, LEFT = context and removed lines."""
    hm = HunkMap()
    index = -1
    old_no = new_no = 0
    for line in patch.splitlines():
        m = _HUNK.match(line)
        if m:
            index += 1
            old_no, new_no = int(m.group(1)), int(m.group(3))
            continue
        if index < 0 or line.startswith("\\"):
            continue
        if line.startswith("+"):
            hm.right[new_no] = index
            hm.additions += 1
            new_no += 1
        elif line.startswith("-"):
            hm.left[old_no] = index
            hm.deletions += 1
            old_no += 1
        else:
            hm.right[new_no] = index
            hm.left[old_no] = index
            old_no += 1
            new_no += 1
    return hm
