"""A scripted specialist for the verdict tests: it reads the ids it was asked to judge from its first message.

`judge(policy)` returns a FakeModel script: on the first turn it calls `judge_finding` for the ids the
policy picks (a dict id -> "confirm" | "dismiss"), then finishes. `ids_to_judge` and `facts_block` read
the first message the way a test looks at what the model was sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.support.fakemodel import Reply, tool

_ID = re.compile(r"^- \[([^\]]+)\]", re.MULTILINE)


def first_message(body: dict[str, Any]) -> str:
    return str(body["messages"][0]["content"][0]["text"])


def block(task: str, name: str) -> str:
    """The text inside `<untrusted-NAME-TOKEN>` ... `</untrusted-NAME-TOKEN>` (the request's own token)."""
    opening = re.search(rf"<untrusted-{name}-([0-9a-f]{{16}})>", task)
    assert opening is not None, f"no {name} block in the first message"
    return task[opening.end() : task.index(f"</untrusted-{name}-{opening.group(1)}>")]


def ids_to_judge(task: str) -> list[str]:
    return _ID.findall(block(task, "judge"))


def ids_listed(task: str) -> list[str]:
    """Every finding id the first message shows (confident candidates and those to judge)."""
    return _ID.findall(block(task, "candidates")) + ids_to_judge(task)


def judge(pick: Callable[[str], dict[str, str]]) -> Callable[[dict[str, Any]], Reply]:
    """One turn: `judge_finding` for each id `pick(first message)` returns, then `finish_review`."""

    def script(body: dict[str, Any]) -> Reply:
        if len(body["messages"]) > 1:  # after the tool results: done
            return Reply([tool("finish_review", summary="judged")])
        calls = [tool("judge_finding", id=i, verdict=v, reason=f"read the code at {i}: {v}")
                 for i, v in pick(first_message(body)).items()]
        return Reply(calls or [tool("finish_review", summary="nothing to judge")])

    return script


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results a request carries (the model's previous calls, answered)."""
    return [b for b in body["messages"][-1]["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
