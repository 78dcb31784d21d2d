"""Facts are read once per commit and shared; a view not pinned to a commit is never cached."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.facts.commit_cache import CommitCache, commit_key


def test_one_build_per_commit_and_the_oldest_commit_leaves_first() -> None:
    cache: CommitCache[int] = CommitCache(2)
    builds: list[str] = []

    def view(rev: str) -> Any:
        return SimpleNamespace(root="/r", rev=rev)

    def build(rev: str) -> int:
        builds.append(rev)
        return len(builds)

    assert cache.get(view("a"), lambda: build("a")) == cache.get(view("a"), lambda: build("a")) == 1
    cache.get(view("b"), lambda: build("b"))
    cache.get(view("c"), lambda: build("c"))  # evicts a
    cache.get(view("a"), lambda: build("a"))
    assert builds == ["a", "b", "c", "a"]


def test_a_view_without_a_revision_is_built_every_time() -> None:
    cache: CommitCache[int] = CommitCache(4)
    unpinned: Any = SimpleNamespace(root="/r")
    assert commit_key(unpinned) is None
    assert cache.get(unpinned, lambda: 1) == 1 and cache.get(unpinned, lambda: 2) == 2
