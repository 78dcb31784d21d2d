"""Reading a list of repository files within a budget of time and bytes (the model graph and the database facts).

What could not be read, and why, goes to `not_read`; what was read goes to `files_read`: a partial graph says
what it left out instead of passing for complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from bot.core.repo import RepoAccessError, RepoView


class ReadBudget(Protocol):
    @property
    def max_seconds(self) -> float: ...

    @property
    def max_file_bytes(self) -> int: ...

    @property
    def max_bytes(self) -> int: ...


class ReadLog(Protocol):
    files_read: list[str]
    not_read: list[str]


def read_within_budget(
    view: RepoView,
    paths: Sequence[str],
    budget: ReadBudget,
    log: ReadLog,
    clock: Callable[[], float],
    started: float,
) -> Iterator[tuple[str, str]]:
    """(path, text) of each file in order (fetched together first when the view can), until the time or the byte
    budget runs out; unreadable and oversized files are skipped and noted."""
    prefetch = getattr(view, "prefetch", None)
    if callable(prefetch):
        try:
            prefetch(list(paths))
        except RepoAccessError:
            pass
    used = 0
    for index, path in enumerate(paths):
        if clock() - started > budget.max_seconds:
            log.not_read.append(f"{len(paths) - index} files left unread after {budget.max_seconds:g}s")
            return
        try:
            text = view.read_text(path)
        except RepoAccessError as exc:
            log.not_read.append(str(exc))
            continue
        if len(text) > budget.max_file_bytes or used + len(text) > budget.max_bytes:
            log.not_read.append(f"{path}: over the size budget")
            continue
        used += len(text)
        log.files_read.append(path)
        yield path, text
