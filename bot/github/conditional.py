"""Conditional requests: GET answers kept with their ETag, so a repeated read sends `If-None-Match`
and a `304 Not Modified` reuses the kept answer (GitHub does not count a 304 against the rate limit).

One `ResponseCache` per process, shared by every gateway like the token cache; bounded by entries
and by size; answers are kept per installation, so one installation never sees another's data.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

MAX_ENTRIES = 512
MAX_ENTRY_CHARS = 2_000_000  # a bigger answer (a huge diff) is not kept

CacheKey = tuple[int, str, str, str]  # installation, url, query, accept


def cache_key(installation_id: int, url: str, params: dict[str, Any] | None, accept: str) -> CacheKey:
    query = json.dumps(sorted((params or {}).items()), default=str)
    return (installation_id, url, query, accept)


class ResponseCache:
    """ETag-validated GET answers, least recently used dropped first; thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_entry_chars: int = MAX_ENTRY_CHARS) -> None:
        self.max_entries = max_entries
        self.max_entry_chars = max_entry_chars
        self._items: OrderedDict[CacheKey, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    def lookup(self, key: CacheKey) -> tuple[str, Any] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def store(self, key: CacheKey, etag: str, data: Any) -> None:
        if not etag or data is None or len(json.dumps(data, default=str)) > self.max_entry_chars:
            return
        with self._lock:
            self._items[key] = (etag, data)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def hit(self) -> None:
        with self._lock:
            self.hits += 1
