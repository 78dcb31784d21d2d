"""What the whole change offers the analysis of one of its files: the head's model graph, base-side
reads of other files, and the texts of every changed file. The engine builds it once per review and
hands it to analyzers that ask for it (`needs_change_context`); each part is read only when used."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.facts.graph import RepoFacts

MAX_BASE_READS = 12  # other files read at base, per review (a model file to compare a relation with)


@dataclass(frozen=True)
class ChangedText:
    """One changed file: its head text and, when it existed, its base text."""

    path: str
    base: str | None
    head: str


@dataclass(frozen=True)
class ChangeContext:
    head_facts: Callable[[], RepoFacts] | None = None
    read_base: Callable[[str], str | None] | None = None  # None: not there at base, unreadable, or over the cap
    files: tuple[ChangedText, ...] = ()


def bounded_reader(read: Callable[[str], str], errors: tuple[type[Exception], ...]) -> Callable[[str], str | None]:
    """`read` with a per-review cap and cache; a failed read is None."""
    cache: dict[str, str | None] = {}

    def read_once(path: str) -> str | None:
        if path not in cache:
            if len(cache) >= MAX_BASE_READS:
                return None
            try:
                cache[path] = read(path)
            except errors:
                cache[path] = None
        return cache[path]

    return read_once
