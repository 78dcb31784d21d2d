"""What the specialist is told about the repository around a change: one function for the CLI and the App.

The slice of the model graph the change touches (models it declares or names, their relations and indexes:
bot.facts.slice) and the kind of code path each changed file's hunks sit on (request handler, background
task, migration, command, test, seed script, library: bot.analyzers.context). Both are read from the head
through the same RepoView the analyzers used, so in the App the graph and the files come from that view's
cache (the graph is also cached per commit). Names and paths are repository text: only identifier and
path characters are kept, counts and size are capped, and the whole text is fenced again in the prompt.
"""

from __future__ import annotations

import re

from bot.analyzers.context import classify
from bot.core.diff import ChangeSet, FileChange, without_files
from bot.core.repo import RepoAccessError, RepoView
from bot.facts import facts_for
from bot.facts.slice import facts_slice

MAX_KIND_FILES = 40
MAX_KINDS_PER_FILE = 3
KINDS_HEADING = "Code path kind of each changed file (where its hunks sit):"
MORE_FILES = "- ... {n} more files"
_PATH_CHARS = re.compile(r"[^\w./@+-]")


def _kinds(text: str, fc: FileChange) -> list[str]:
    lines = [h.added[0] if h.added else (h.visible[0] if h.visible else None) for h in fc.hunks]
    kinds: list[str] = []
    for line in lines or [None]:
        kind = classify(fc.path, text, line).kind.value
        if kind not in kinds:
            kinds.append(kind)
        if len(kinds) >= MAX_KINDS_PER_FILE:
            break
    return kinds


def path_kinds(repo: RepoView, changes: ChangeSet) -> str:
    """One line per changed file with head-side text: its path and the code path kinds of its hunks."""
    files = [fc for fc in changes.files if fc.reviewable]
    rows: list[str] = []
    for fc in files[:MAX_KIND_FILES]:
        try:
            text = repo.read_text(fc.path)
        except RepoAccessError:
            continue
        rows.append(f"- {_PATH_CHARS.sub('', fc.path)[:200]}: {', '.join(_kinds(text, fc))}")
    if len(files) > MAX_KIND_FILES:
        rows.append(MORE_FILES.format(n=len(files) - MAX_KIND_FILES))
    return KINDS_HEADING + "\n" + "\n".join(rows) if rows else ""


def specialist_facts(repo: RepoView, changes: ChangeSet, diff: str, leave_out: frozenset[str] = frozenset()) -> str:
    """The facts for the specialist's first message (models, relations, indexes, code path kinds).
    `leave_out`: paths the review left out (generated, vendored); the model hears nothing of them."""
    if leave_out:
        changes = ChangeSet(tuple(fc for fc in changes.files if fc.path not in leave_out))
        diff = without_files(diff, leave_out)
    graph = facts_slice(facts_for(repo), changes.paths, diff)
    kinds = path_kinds(repo, changes)
    return f"{graph}\n\n{kinds}" if kinds else graph
