"""Facts read from one commit, kept for the next review of the same commit (a small, thread-safe LRU)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from bot.core.repo import RepoView

T = TypeVar("T")


def commit_key(view: RepoView) -> tuple[str, str] | None:
    """(where, revision) of a view pinned to one commit; None for a view that is not (nothing is cached)."""
    rev = getattr(view, "rev", None)
    where = getattr(view, "root", None) or getattr(view, "repo", None)
    return (str(where), str(rev)) if rev and where else None


class CommitCache(Generic[T]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, view: RepoView, build: Callable[[], T]) -> T:
        """The value for `view`'s commit, built by `build` once per commit and then shared."""
        key = commit_key(view)
        if key is not None:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
        value = build()
        if key is not None:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
