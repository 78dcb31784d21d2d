"""A FileChange between two texts of one file, as git would show it (3 lines of context)."""

from __future__ import annotations

import difflib

from bot.analyzers.base import FileInput
from bot.core.diff import FileChange, parse_diff


def change_between(base: str, head: str, path: str) -> FileChange:
    lines = difflib.unified_diff(
        base.splitlines(keepends=True), head.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
    )
    diff = f"diff --git a/{path} b/{path}\n" + "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return parse_diff(diff).files[0]


def file_input(base: str, head: str, path: str) -> FileInput:
    return FileInput(change=change_between(base, head, path), text=head, base_text=base)
