"""Shared pieces of the plain-parser analyzers' fixture tests (SQL migrations, Kubernetes manifests).

A fixture file marks each line a rule must report with a comment `expect: <rule-id> [<rule-id> ...]`;
its path below `fire/` or `quiet/` is the path the analyzer sees.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.diff import FileChange, FileStatus


def change_for(text: str, path: str, added: set[int] | None = None) -> FileChange:
    """A new file `path` holding `text`; `added` lines (default: all) are the ones the change adds."""
    n = text.count("\n") + 1
    lines = frozenset(added if added is not None else range(1, n + 1))
    return FileChange(path=path, old_path=None, status=FileStatus.added, added_lines=lines, visible_lines=lines)


def marked_lines(text: str, marker: re.Pattern[str]) -> set[tuple[int, str]]:
    """(line, rule id) for every rule id an `expect:` marker (matched by `marker`, group 1) names."""
    out = set()
    for number, line in enumerate(text.splitlines(), start=1):
        m = marker.search(line)
        if m:
            out.update((number, rule) for rule in m.group(1).split())
    return out


def fixture_path(p: Path, fixtures: Path) -> str:
    """The path the analyzer sees: the fixture's path below its `fire/` or `quiet/` folder."""
    return str(p.relative_to(fixtures / p.relative_to(fixtures).parts[0]))
