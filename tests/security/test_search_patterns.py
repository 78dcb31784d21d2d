"""Issue 14 item 6: the model's `search_text` tool cannot be made to run for ever. Hostile patterns:
catastrophic backtracking (`((a+))+$`, `(?:a|a)+$`, ...) on long lines of the pull request's own files;
each returns a clear "pattern too slow" error in under a second, and ordinary searches still work."""

from __future__ import annotations

import time

import pytest

from bot.core.deadline import Deadline
from bot.core.repo import RepoAccessError
from bot.specialist.tools import ToolContext, run_tool
from tests.support.memrepo import MemoryRepo

LINE = "a" * 27 + "!"
FILES = {"app/a.py": f"x = '{LINE}'\n" * 3 + "a" * 5000 + "!\n", "app/b.py": "def ok():\n    return 1\n"}


@pytest.mark.parametrize("pattern", [r"((a+))+$", r"(?:a|a)+$", r"(a+)+$", r"(a|aa)+$", r"(\w+\s?)+$"])
def test_a_catastrophic_pattern_answers_pattern_too_slow_within_a_second(pattern: str) -> None:
    ctx = ToolContext(repo=MemoryRepo(FILES), shown={})
    started = time.perf_counter()
    out = run_tool(ctx, "search_text", {"pattern": pattern})
    assert time.perf_counter() - started < 1.0
    assert out.is_error and ("pattern too slow" in out.content or "repeated group" in out.content), out.content


def test_an_ordinary_search_still_finds_lines() -> None:
    ctx = ToolContext(repo=MemoryRepo(FILES), shown={})
    out = run_tool(ctx, "search_text", {"pattern": r"def \w+\(\)"})
    assert not out.is_error and out.content == "app/b.py:1: def ok():"


def test_the_tool_call_budget_stops_a_search_over_many_files() -> None:
    repo = MemoryRepo({f"f{i}.py": "x = 1\n" for i in range(50)})
    with pytest.raises(RepoAccessError, match="budget"):
        repo.search_text("y", deadline=Deadline.after(0))
