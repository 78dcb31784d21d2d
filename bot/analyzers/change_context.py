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
    # the head's files of one folder with one extension, (path, text), bounded (`folder_reader`)
    head_folder: Callable[[str, str], list[tuple[str, str]]] | None = None


MAX_FOLDER_FILES = 40  # files read per folder
MAX_FOLDER_BYTES = 1_500_000  # bytes read through `head_folder`, per review
MAX_FOLDERS = 8  # folders read per review


def folder_reader(
    list_folder: Callable[[str], list[tuple[str, str]]],
    read: Callable[[str], str],
    errors: tuple[type[Exception], ...],
) -> Callable[[str, str], list[tuple[str, str]]]:
    """Reads a folder's files of one extension (from `list_folder`: (path, kind) pairs), cached per folder,
    within per-review caps on folders, files and bytes; what is over a cap or unreadable is left out."""
    cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
    spent = [0]

    def read_folder(folder: str, extension: str) -> list[tuple[str, str]]:
        key = (folder, extension)
        if key not in cache:
            if len(cache) >= MAX_FOLDERS:
                return []
            out: list[tuple[str, str]] = []
            try:
                entries = list_folder(folder)
            except errors:
                entries = []
            for path, kind in sorted(entries)[: MAX_FOLDER_FILES * 4]:
                if kind != "file" or not path.endswith(extension) or len(out) >= MAX_FOLDER_FILES:
                    continue
                if spent[0] >= MAX_FOLDER_BYTES:
                    break
                try:
                    text = read(path)
                except errors:
                    continue
                spent[0] += len(text)
                out.append((path, text))
            cache[key] = out
        return cache[key]

    return read_folder


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
