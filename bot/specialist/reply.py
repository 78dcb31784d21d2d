"""The specialist answering a reply under one of its findings: the conversation's first state and its result.

The same loop, budget, read-only tools, credential masking and untrusted-data fences as a review
(bot.specialist.loop). It is sent the review's system prompt and tool definitions unchanged, so it reads the
review's cached prefix; what it may call is the read tools and `answer_in_thread`, whose input names no
finding, so the model can withdraw the thread's finding and nothing else. What it says is neutralised
before it is posted (bot.render.sanitize); whether anything is withdrawn is a validated tool call, never prose.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from bot.core.credentials import mask_credentials
from bot.specialist.budget import Usage
from bot.specialist.conversation import DEFAULT_MODEL, STATE_SCHEMA, fence_token
from bot.specialist.conversation import _fence as fence
from bot.specialist.prompts import load_prompt
from bot.specialist.tools import number_lines

MAX_FINDING_CHARS = 6_000
MAX_EXCERPT_CHARS = 12_000
MAX_HUNK_CHARS = 6_000
MAX_REPLY_CHARS = 4_000
EXCERPT_AROUND = 40
MAX_REPLY_TURNS = 6
NO_ANSWER = "stopped before answering: {reason}"


class ReplyRequest(BaseModel):
    finding_id: str
    rule: str
    severity: str
    path: str
    start_line: int
    end_line: int
    finding: str  # our comment's text
    file_text: str = ""  # the file at the head ("" when it could not be read)
    diff_hunk: str = ""
    reply: str
    asker: str
    model: str = DEFAULT_MODEL
    max_turns: int = MAX_REPLY_TURNS


class ReplyAnswer(BaseModel):
    answered: bool
    answer: str = ""
    decision: Literal["keep", "withdraw"] = "keep"
    reason: str = ""
    stop_reason: str | None = None
    turns: int = 0
    usage: dict[str, Any] = {}
    prompts: dict[str, str] = {}


def _excerpt(req: ReplyRequest) -> str:
    if not req.file_text:
        return "(the file could not be read; use read_file)"
    start = max(1, req.start_line - EXCERPT_AROUND)
    body, _ = number_lines(req.path, req.file_text, start, req.end_line + EXCERPT_AROUND, MAX_EXCERPT_CHARS)
    return body


def start_reply_state(req: ReplyRequest) -> dict[str, Any]:
    """The conversation before the first turn, in the loop's state shape (plain JSON)."""
    token = fence_token()
    system, task = load_prompt("system"), load_prompt("reply_task")  # the review's system prompt: its cache
    text = task.render(
        fence=token, finding_id=req.finding_id, rule=fence(req.rule, 80, token), severity=req.severity,
        path=fence(req.path, 300, token), start_line=req.start_line, end_line=req.end_line,
        asker=fence(req.asker, 40, token), finding=fence(req.finding, MAX_FINDING_CHARS, token),
        excerpt=fence(_excerpt(req), MAX_EXCERPT_CHARS + 200, token),
        diff_hunk=fence(req.diff_hunk, MAX_HUNK_CHARS, token), reply=fence(req.reply, MAX_REPLY_CHARS, token),
        max_turns=req.max_turns,
    )
    masked = mask_credentials(text)
    return {
        "schema": STATE_SCHEMA, "model": req.model, "toolset": "reply", "last_turn_prompt": "reply_last_turn",
        "system": system.render(), "prompts": {"system": system.ref, "reply_task": task.ref},
        "messages": [{"role": "user", "content": [{"type": "text", "text": masked.text}]}],
        "shown": {}, "previous_findings": [], "since": None, "usage": Usage().model_dump(), "plan": [],
        "reported": [], "reads": {}, "finished": None, "turns": 0, "elapsed": 0.0, "last_turn_noted": False,
        "done": False, "stop_reason": None, "degraded": None, "notes": [], "secrets_masked": masked.count,
    }


def reply_answer(state: dict[str, Any]) -> ReplyAnswer:
    """What the model decided, from a finished state: only a validated `answer_in_thread` call counts."""
    done = state.get("finished") or {}
    common: dict[str, Any] = {"stop_reason": state.get("stop_reason"), "turns": int(state.get("turns", 0)),
                              "usage": dict(state.get("usage") or {}), "prompts": dict(state.get("prompts") or {})}
    if not isinstance(done, dict) or "decision" not in done:
        reason = state.get("degraded") or state.get("stop_reason") or "no answer"
        return ReplyAnswer(answered=False, reason=NO_ANSWER.format(reason=reason), **common)
    return ReplyAnswer(answered=True, answer=str(done["answer"]), decision=done["decision"],
                       reason=str(done["reason"]), **common)
