"""ResponseCache: bounded, per installation, never keeps oversized answers."""

from __future__ import annotations

from bot.github.conditional import ResponseCache, cache_key


def test_least_recently_used_answers_go_first() -> None:
    cache = ResponseCache(max_entries=2)
    a, b, c = (cache_key(1, f"/x/{n}", None, "") for n in "abc")
    cache.store(a, '"1"', {"n": 1})
    cache.store(b, '"2"', {"n": 2})
    assert cache.lookup(a) == ('"1"', {"n": 1})  # a is now the most recent
    cache.store(c, '"3"', {"n": 3})
    assert cache.lookup(b) is None and cache.lookup(a) is not None and cache.lookup(c) is not None


def test_keys_separate_installations_queries_and_media_types() -> None:
    keys = {cache_key(1, "/p", {"page": 1}, ""), cache_key(2, "/p", {"page": 1}, ""),
            cache_key(1, "/p", {"page": 2}, ""), cache_key(1, "/p", {"page": 1}, "application/vnd.github.diff")}
    assert len(keys) == 4
    assert cache_key(1, "/p", {"a": 1, "b": 2}, "") == cache_key(1, "/p", {"b": 2, "a": 1}, "")


def test_oversized_or_untagged_answers_are_not_kept() -> None:
    cache = ResponseCache(max_entry_chars=100)
    big, untagged = cache_key(1, "/big", None, ""), cache_key(1, "/plain", None, "")
    cache.store(big, '"e"', {"data": "x" * 500})
    cache.store(untagged, "", {"n": 1})
    assert cache.lookup(big) is None and cache.lookup(untagged) is None
