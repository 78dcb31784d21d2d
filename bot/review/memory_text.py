"""The repository memory as people read it: a Markdown table for `/scale-review memory`, lines for the CLI."""

from __future__ import annotations

import time
from collections.abc import Sequence

from bot.render.sanitize import one_line
from bot.review.suppressions import KIND_WORDS, MemoryEntry

MAX_ROWS = 100
EMPTY_TEXT = "**scale-review memory**: nothing remembered for this repository yet."
HEADER = ("**scale-review memory** for this repository: {n} entr{ies}. Findings with the same code are not raised "
          "again. Remove one with `scale-review memory revoke --repo {repo} ID` (maintainers, on the server).")
TABLE_HEAD = "| ID | rule | finding | decision | by | PR | why |\n|---|---|---|---|---|---|---|"
MORE_ROWS = "\n… {n} more: `scale-review memory list --repo {repo}`."


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts)) if ts else "?"


def render_memory_markdown(repo: str, entries: Sequence[MemoryEntry]) -> str:
    live = [e for e in entries if not e.revoked]
    if not live:
        return EMPTY_TEXT
    rows = [f"| {e.id} | `{one_line(e.rule, 80)}` | `{one_line(e.finding_id, 40)}` | {KIND_WORDS[e.kind]} "
            f"| {one_line(e.by, 40)} | #{e.pr} | {one_line(e.reason, 200)} |" for e in live[:MAX_ROWS]]
    more = MORE_ROWS.format(n=len(live) - MAX_ROWS, repo=repo) if len(live) > MAX_ROWS else ""
    head = HEADER.format(n=len(live), ies="y" if len(live) == 1 else "ies", repo=repo)
    return "\n\n".join([head, TABLE_HEAD + "\n" + "\n".join(rows) + more])


def render_memory_lines(entries: Sequence[MemoryEntry]) -> list[str]:
    """One tab-separated line per entry: id, date, decision, rule, finding, by, PR, why (revoked ones marked)."""
    return ["\t".join([str(e.id), _when(e.created_at), e.kind + (" (revoked)" if e.revoked else ""), e.rule,
                       e.finding_id, e.by, f"#{e.pr}", " ".join(e.reason.split())]) for e in entries]
