"""Per-line safeguard patterns for Go, Ruby, JavaScript/TypeScript and SQL: general API names a
reviewer would name (ORM eager loading, index declarations, client timeouts, batch helpers, limits,
concurrency caps), never one project's identifiers.

A pattern's `key` group names what the safeguard protects (a relation, a column list, an option), so
an equivalent on the other side of the change gets the same key; `value` is a literal size or duration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.analyzers.safeguards.model import Kind


@dataclass(frozen=True)
class Pattern:
    name: str
    kind: Kind
    regex: re.Pattern[str]
    prefix: str  # key prefix; the key is prefix + the `key` group (or prefix alone)
    split: bool = False  # the key group lists several relations: one key each


def _p(name: str, kind: Kind, regex: str, prefix: str, split: bool = False) -> Pattern:
    return Pattern(name, kind, re.compile(regex), prefix, split)


_TIMEOUT_OPT = (
    r"\b(?P<key>(?:open_|read_|write_|connect_|idle_|statement_|lock_|request_|response_|socket_)?timeout"
    r"(?:_ms|_seconds|Ms|Seconds)?|(?:[A-Z]\w*)?Timeout|(?!set|clear)[a-z]\w*Timeout)\b\s*(?::(?![:=])|=>|=(?!=)|\()\s*(?P<value>[^,;)}\n]{0,60})"
)
_COMMON_JS_GO_RB = [
    _p("timeout option", Kind.timeout, _TIMEOUT_OPT, "timeout:"),
]

PATTERNS: dict[str, list[Pattern]] = {
    "go": [
        *_COMMON_JS_GO_RB,
        _p(
            "context deadline",
            Kind.timeout,
            r"context\.With(?P<key>Timeout|Deadline)\([^,]*,\s*(?P<value>[^)]{0,60})",
            "timeout:ctx",
        ),
        _p("timer", Kind.timeout, r"\btime\.(?P<key>After|AfterFunc|NewTimer)\(\s*(?P<value>[^,)]{0,60})", "timeout:"),
        _p(
            "gorm preload",
            Kind.eager_loading,
            r"(?:\.|^\s*)(?:Preload|EagerPreload)\(\s*(?P<key>\"[^\"]{1,80}\"(?:\s*,\s*\"[^\"]{1,80}\")*)",
            "eager:",
            True,
        ),
        _p(
            "gorm index tag",
            Kind.db_index,
            r"^\s*(?P<key>\w+)\s[^`]*`[^`]*(?:gorm|xorm|db):\"[^\"]*\b(?:unique)?[iI]ndex\b",
            "index:",
        ),
        _p(
            "batch helper",
            Kind.batching,
            r"\b(?P<key>CreateInBatches|FindInBatches|Chunk|ChunkBy|InBatches)\(\s*(?:[^,()]*,\s*)?(?P<value>\d+)?",
            "batch:",
        ),
        _p("query limit", Kind.limit, r"\.(?P<key>Limit|Paginate|Page)\(\s*(?P<value>[^)]{0,40})", "limit:"),
        _p(
            "size cap",
            Kind.limit,
            r"\b(?P<key>MaxBytesReader|LimitReader|LimitedReader|MaxResults|PageSize|PerPage|MaxBodySize)\b\s*(?::|\(|=)?\s*(?P<value>[^,)}\n]{0,40})",
            "limit:",
        ),
        _p("query max option", Kind.limit, r"\b(?P<key>Max|Limit)\s*:\s*(?P<value>[^,}\n]{1,40})", "limit:"),
        _p("errgroup limit", Kind.concurrency, r"\.(?P<key>SetLimit)\(\s*(?P<value>[^)]{0,40})", "bound:"),
        _p(
            "semaphore",
            Kind.concurrency,
            r"\b(?P<key>semaphore\.NewWeighted|NewSemaphore)\(\s*(?P<value>[^)]{0,40})",
            "bound:",
        ),
        _p(
            "semaphore acquire",
            Kind.concurrency,
            r"\b\w*(?:[sS]em|[sS]emaphore|[lL]imiter)\w*\.(?P<key>Acquire|TryAcquire)\(",
            "bound:",
        ),
        _p("bounded channel", Kind.concurrency, r"make\(chan struct\{\}\s*,\s*(?P<value>[^)]{1,40})\)", "bound:chan"),
        _p(
            "pool size",
            Kind.concurrency,
            r"\b(?P<key>SetMaxOpenConns|SetMaxIdleConns|MaxConns|MaxOpenConns|MaxWorkers|PoolSize|MaxConnsPerHost)\b\s*(?::|\(|=)\s*(?P<value>[^,)}\n]{0,40})",
            "bound:",
        ),
        _p("sql limit", Kind.limit, r"(?i)\bLIMIT\s+(?P<value>\d+|\?|\$\d+|%d)", "limit:sql"),
    ],
    "ruby": [
        *_COMMON_JS_GO_RB,
        _p(
            "add_index",
            Kind.db_index,
            r"\badd_index\s*\(?\s*:?[\"']?(?P<table>\w+)[\"']?\s*,\s*(?P<key>\[[^\]]{0,160}\]|:\w+|[\"'][^\"']{1,60}[\"'])",
            "index:",
        ),
        _p(
            "t.index",
            Kind.db_index,
            r"\bt\.index\s*\(?\s*(?P<key>\[[^\]]{0,160}\]|:\w+|[\"'][^\"']{1,60}[\"'])",
            "index:",
        ),
        _p("index option", Kind.db_index, r"^\s*t\.\w+\s+:?[\"']?(?P<key>\w+)[\"']?.*\bindex:\s*(?!false)", "index:"),
        _p(
            "batch helper",
            Kind.batching,
            r"\.(?P<key>find_each|find_in_batches|in_batches|insert_all!?|upsert_all|update_all|delete_all|import|each_slice|each_batch)\b(?:\(?\s*(?:batch_size:|of:)?\s*(?P<value>\d+))?",
            "batch:",
        ),
        _p("batch size", Kind.batching, r"\b(?P<key>batch_size|chunk_size):\s*(?P<value>[^,)\n]{1,40})", "batch:"),
        _p(
            "query limit",
            Kind.limit,
            # (ActiveSupport's `mb_chars.limit(n)` cuts a string, not a query)
            r"(?<!mb_chars)\.(?P<key>limit|per|page|paginate|first|take)\(\s*(?P<value>(?![\"'])[^)]{1,40})",
            "limit:",
        ),
        _p(
            "page size",
            Kind.limit,
            r"\b(?P<key>per_page|max_per_page|page_size|max_size|max_length|maximum(?=:))\b\s*(?::|=|\()\s*(?P<value>[^,)\n]{0,40})",
            "limit:",
        ),
        _p(
            "ruby timeout block",
            Kind.timeout,
            r"\bTimeout\.(?P<key>timeout)\(\s*(?P<value>[^,)]{0,40})",
            "timeout:block",
        ),
        _p(
            "pool size",
            Kind.concurrency,
            r"\b(?P<key>pool|pool_size|concurrency|max_threads|FixedThreadPool|max_connections)\b\s*(?::|=|\(|\.new\()\s*(?P<value>[^,)\n]{0,40})",
            "bound:",
        ),
        _p("sql limit", Kind.limit, r"(?i)\bLIMIT\s+(?P<value>\d+|\?|\$\d+)", "limit:sql"),
    ],
    "js": [
        *_COMMON_JS_GO_RB,
        _p("limit shorthand", Kind.limit, r"^\s*(?P<key>take|limit|pageSize|perPage|first|maxItems)\s*,\s*$", "limit:"),
        _p("abort timeout", Kind.timeout, r"AbortSignal\.(?P<key>timeout)\(\s*(?P<value>[^)]{0,40})", "timeout:signal"),
        _p(
            "join select",
            Kind.eager_loading,
            r"\.(?:leftJoinAndSelect|innerJoinAndSelect|populate|withGraphFetched|withRelated)\(\s*(?P<key>[^)\n]{1,120})",
            "eager:",
            True,
        ),
        _p(
            "index decorator",
            Kind.db_index,
            r"@@?(?P<key>[Ii]ndex|[Uu]nique)\b\s*(?P<value>\([^)\n]{0,120}\))?",
            "index:",
        ),
        _p("index option", Kind.db_index, r"\b(?P<key>index|indexes)\s*:\s*(?!false)", "index:"),
        _p(
            "knex index", Kind.db_index, r"\.(?P<key>index|createIndex|addIndex)\(\s*(?P<value>[^)\n]{0,120})", "index:"
        ),
        _p(
            "batch helper",
            Kind.batching,
            r"\b(?P<key>chunk|bulkCreate|bulkInsert|insertMany|createMany|bulkWrite|batchInsert|batchSize|chunkSize|stream)\b\s*(?:\(|:|=)\s*(?:[^,()]*,\s*)?(?P<value>\d+)?",
            "batch:",
        ),
        _p("query limit", Kind.limit, r"\.(?P<key>limit|take|paginate)\(\s*(?P<value>[^)]{1,40})", "limit:"),
        _p(
            "limit option",
            Kind.limit,
            r"\b(?P<key>take|limit|pageSize|perPage|maxPageSize|first|maxBodyLength|maxContentLength|bodyLimit|maxFileSize|fileSize|maxItems|maxLength)\s*:\s*(?P<value>[^,}\n]{1,40})",
            "limit:",
        ),
        _p(
            "concurrency cap",
            Kind.concurrency,
            r"\b(?P<key>pLimit|plimit|concurrency|maxConcurrent\w*|maxConcurrency|maxSockets|connectionLimit|poolSize|max_connections|Semaphore)\b\s*(?::|=|\()\s*(?P<value>[^,)}\n]{0,40})",
            "bound:",
        ),
        _p("sql limit", Kind.limit, r"(?i)\bLIMIT\s+(?P<value>\d+|\?|\$\d+|\$\{)", "limit:sql"),
    ],
    "sql": [
        _p(
            "create index",
            Kind.db_index,
            r"(?i)\bcreate\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?(?P<key>[\w.\"]+)",
            "index:",
        ),
        _p(
            "sql timeout",
            Kind.timeout,
            r"(?i)\b(?P<key>statement_timeout|lock_timeout|idle_in_transaction_session_timeout)\b\s*(?:=|to)\s*'?(?P<value>\d+)?",
            "timeout:",
        ),
        _p("sql limit", Kind.limit, r"(?i)\bLIMIT\s+(?P<value>\d+|\?|\$\d+|:\w+)", "limit:sql"),
    ],
}

_WORD = re.compile(r"[A-Za-z_][\w.]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0, "ms": 0.001}
_SKIP_WORDS = frozenset(
    {
        "true",
        "false",
        "null",
        "nil",
        "undefined",
        "model",
        "as",
        "where",
        "required",
        "select",
        "attributes",
        "include",
        "through",
        "const",
        "new",
        "return",
    }
)


def keys_of(pattern: Pattern, match: re.Match[str], line: str) -> list[str]:
    """The key(s) one match stands for."""
    groups = match.groupdict()
    raw = groups.get("key")
    if raw is None:
        return [pattern.prefix]
    if pattern.split:
        words = [w.lower() for w in _WORD.findall(raw) if w.lower() not in _SKIP_WORDS]
        return [pattern.prefix + w for w in dict.fromkeys(words)] or [pattern.prefix + "*"]
    key = raw.lower().strip("\"' ")
    for prefix in ("set", "with"):
        if pattern.kind is Kind.timeout and key.startswith(prefix) and key != prefix:
            key = key[len(prefix) :]
    table = groups.get("table")
    return [pattern.prefix + (f"{table.lower()}:" if table else "") + "".join(key.split())]


def value_of(match: re.Match[str]) -> float | None:
    """A literal number in the match's `value` (times a time unit when one is named), else None."""
    raw = match.groupdict().get("value")
    if not raw:
        return None
    numbers = _NUMBER.findall(raw)
    if not numbers or any(ch.isalpha() for ch in raw.split(numbers[0])[0].strip(" (*")):
        return None
    value = 1.0
    for n in numbers[:3]:
        value *= float(n)
    lowered = raw.lower()
    for unit, factor in _UNITS.items():
        if unit in lowered:
            return value * factor
    return value


def unbounded(match: re.Match[str]) -> bool:
    """`per_page: -1`, `limit: 0`: the conventional spelling of "no limit"."""
    raw = (match.groupdict().get("value") or "").strip()
    return raw.startswith("-") or raw in ("0", "nil", "null", "None", "undefined", "Infinity", "false", "False")
