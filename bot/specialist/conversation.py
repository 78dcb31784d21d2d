"""The conversation: a SpecialistRequest -> the first state, and a state -> the next Messages request.

The state is plain JSON (the workflow checkpoints it after every turn). Requests put
`cache_control` on the stable prefix: the system prompt (which, with the tool definitions before it,
forms the first cached prefix), the task message carrying the diff, the message that ended the previous
request and the newest message (four breakpoints, the API's maximum), so each turn reads everything
before it from the cache.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from typing import Any

from pydantic import BaseModel, Field

from bot.core.credentials import mask_credentials
from bot.core.diff import ChangeSet, FileChange, git_sections, parse_diff
from bot.core.model import Finding
from bot.core.repo import is_secret_path
from bot.core.verdicts import Verdict, judgeable
from bot.specialist.budget import Usage
from bot.specialist.prompts import load_prompt
from bot.specialist.tools import tool_definitions

STATE_SCHEMA = 1
DEFAULT_MODEL = "claude-sonnet-4-6"
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 8_000
MAX_DIFF_CHARS = 160_000
MAX_CANDIDATES = 60
MAX_PREVIOUS = 40
MAX_INSTRUCTIONS = 20
CACHE = {"type": "ephemeral"}

NO_FOCUS = "(none configured: cover the whole change)"
NO_INSTRUCTIONS = "(none)"
NO_CANDIDATES = "(none: the analyzers found nothing on this change)"
NO_JUDGE = "(none: every analyzer finding on this change is confident enough to stand on its own)"
MAX_JUDGE = 25
MAX_JUDGE_CHARS = 12_000
NO_FACTS = "(none: no data model was read for this change)"
MAX_FACTS_CHARS = 8000
NO_PREVIOUS = "(none)"
DIFF_CUT = "\n[diff cut at {limit:,} characters; {rest} more files not shown here: read them with read_file]\n"
EMPTY = "(empty)"
NOTHING_NEW = "No change to the pull request's files since {since}: the earlier findings stand."
SECRET_OMITTED = "[diff of {path} omitted: secrets files are never sent to the model]\n"  # noqa: S105


class SpecialistRequest(BaseModel):
    """Everything one specialist review needs, JSON-serialisable (workflow arguments)."""

    diff: str = Field(description="unified diff of the change (for a follow-up push: the commits since `since`)")
    candidates: list[Finding] = Field(default_factory=list, description="the analyzers' findings")
    pr_title: str = ""
    pr_body: str = ""
    focus: list[str] = Field(default_factory=list)
    instructions: dict[str, str] = Field(default_factory=dict)
    model: str = DEFAULT_MODEL
    max_turns: int = 12  # only shown to the model; the Budget enforces the limit
    previous_findings: list[Finding] = Field(default_factory=list)
    previous_verdicts: list[Verdict] = Field(default_factory=list)  # from the last reviewed head (incremental)
    since: str | None = None  # last reviewed head sha, for an incremental review
    system_prompt: str = "system"
    task_prompt: str = "task"
    facts: str = ""  # the slice of the repository model graph the change touches (bot.review.specialist_facts)
    min_confidence: float = Field(default=0.8, ge=0.0, le=1.0)  # gate.min_confidence: below it, open to a verdict


def shown_ranges(fc: FileChange) -> list[list[int]]:
    """Head-side line ranges the diff shows for one file (contiguous runs of visible lines)."""
    out: list[list[int]] = []
    for hunk in fc.hunks:
        for n in hunk.visible:
            if out and out[-1][1] == n - 1:
                out[-1][1] = n
            else:
                out.append([n, n])
    return out


# `<` and its look-alikes (fullwidth, small form, angle brackets), then up to 3 spaces, an optional slash
# (or fullwidth slash) and a `u` in any case or width: the start of anything that reads as an untrusted tag
_TAG_LIKE = re.compile("[<\uff1c\ufe64\u2039\u3008\u27e8\u2329\u276e][ \t]{0,3}[/\uff0f]?[ \t]{0,3}[uU\uff55\uff35]")


def fence_token() -> str:
    """The random suffix of this request's untrusted-block tags: text from the pull request cannot know it."""
    return secrets.token_hex(8)


def _fence(text: str, limit: int, token: str = "") -> str:
    """Untrusted text for a fenced block: capped, and unable to close our fence tags. The tags carry a
    per-request random token; besides, anything shaped like an untrusted tag (any case, fullwidth or
    look-alike brackets) has its bracket escaped, and the token itself never survives in the text."""
    text = _TAG_LIKE.sub(lambda m: "&lt;" + m.group(0)[1:], text)
    if token:
        text = text.replace(token, "[token]")
    return (text[:limit] + "…") if len(text) > limit else (text or EMPTY)


def redact_secrets(diff: str) -> str:
    """Drop the hunks of secrets files (.env, keys) from a git diff: they never go to the model."""
    out: list[str] = []
    for paths, section in git_sections(diff):
        if paths and (is_secret_path(paths[0]) or is_secret_path(paths[1])):
            out.append(section.split("\n", 1)[0] + "\n" + SECRET_OMITTED.format(path=paths[1]))
        else:
            out.append(section)
    return "".join(out)


def _cut_diff(diff: str, limit: int) -> str:
    if len(diff) <= limit:
        return diff
    head = diff[:limit]
    rest = diff[limit:].count("\ndiff --git ")
    return head + DIFF_CUT.format(limit=limit, rest=rest)


def _row(c: Finding) -> str:
    kind = f", {c.path_kind}" if c.path_kind else ""
    return (f"- [{c.id}] {c.severity.value} {c.category.value} at {c.path}:{c.start_line}-{c.end_line}{kind}: "
            f"{c.title} ({c.source}) — {c.evidence[:200]}")


def _candidate_lines(candidates: list[Finding], token: str, min_confidence: float = 0.0) -> str:
    unsure = " (confidence {:.2f}: shown, never blocks)"
    rows = [_row(c) + (unsure.format(c.confidence) if c.confidence < min_confidence else "")
            for c in candidates[:MAX_CANDIDATES]]
    if len(candidates) > MAX_CANDIDATES:
        rows.append(f"- ... and {len(candidates) - MAX_CANDIDATES} more")
    return _fence("\n".join(rows), 40_000, token) if rows else NO_CANDIDATES


def judged_ids(request: SpecialistRequest) -> list[str]:
    """The ids the model may confirm or dismiss (`judge_finding`): low-confidence analyzer findings, bounded."""
    return [f.id for f in judgeable(request.candidates, request.min_confidence)][:MAX_JUDGE]


def _judge_lines(request: SpecialistRequest, token: str) -> str:
    low = judgeable(request.candidates, request.min_confidence)
    rows = [_row(c) + f" (confidence {c.confidence:.2f})" for c in low[:MAX_JUDGE]]
    if len(low) > MAX_JUDGE:
        rows.append(f"- ... and {len(low) - MAX_JUDGE} more, shown without a verdict")
    return _fence("\n".join(rows), MAX_JUDGE_CHARS, token) if rows else NO_JUDGE


def _scope(request: SpecialistRequest, changes: ChangeSet, token: str) -> tuple[str, str]:
    common = {"files_changed": len(changes.files), "lines_changed": changes.changed_lines}
    if request.since:
        prompt = load_prompt("scope_incremental")
        previous = "\n".join(
            f"- {f.path}:{f.start_line}-{f.end_line} {f.category.value}: {f.title}"
            for f in request.previous_findings[:MAX_PREVIOUS]
        )
        text = prompt.render(since=request.since[:40], fence=token,
                             previous=_fence(previous, 20_000, token) if previous else NO_PREVIOUS, **common)
        return text, prompt.ref
    prompt = load_prompt("scope_full")
    return prompt.render(**common), prompt.ref


def render_task(request: SpecialistRequest, changes: ChangeSet) -> tuple[str, dict[str, str]]:
    """The first user message, and the refs of the prompts used."""
    token = fence_token()
    scope, scope_ref = _scope(request, changes, token)
    instructions = "\n".join(
        f"- `{glob[:200]}`: {text[:1000]}" for glob, text in list(request.instructions.items())[:MAX_INSTRUCTIONS]
    )
    prompt = load_prompt(request.task_prompt)
    judged = set(judged_ids(request))  # listed once: in the block to judge, not among the confident ones
    text = prompt.render(
        fence=token,
        title=_fence(request.pr_title, MAX_TITLE_CHARS, token),
        body=_fence(request.pr_body, MAX_BODY_CHARS, token),
        scope=scope,
        focus=", ".join(f[:60] for f in request.focus[:20]) or NO_FOCUS,
        instructions=instructions or NO_INSTRUCTIONS,
        candidates=_candidate_lines([c for c in request.candidates if c.id not in judged], token,
                                    request.min_confidence),
        judge=_judge_lines(request, token),
        min_confidence=f"{request.min_confidence:.2f}",
        facts=_fence(request.facts, MAX_FACTS_CHARS, token) if request.facts.strip() else NO_FACTS,
        diff=_fence(_cut_diff(redact_secrets(request.diff), MAX_DIFF_CHARS), MAX_DIFF_CHARS + 500, token),
        max_turns=request.max_turns,
    )
    return text, {"task": prompt.ref, "scope": scope_ref}


def start_state(request: SpecialistRequest) -> dict[str, Any]:
    """The conversation before the first turn (plain JSON)."""
    changes = parse_diff(request.diff)
    system = load_prompt(request.system_prompt)
    task, refs = render_task(request, changes)
    masked = mask_credentials(task)  # keys in a settings module never reach the model provider
    task = masked.text
    state = {
        "schema": STATE_SCHEMA,
        "model": request.model,
        "system": system.render(),
        "prompts": {"system": system.ref, **refs},
        "messages": [{"role": "user", "content": [{"type": "text", "text": task}]}],
        "shown": {f.path: shown_ranges(f) for f in changes.files if f.reviewable},
        "previous_findings": [f.model_dump(mode="json") for f in request.previous_findings],
        "previous_verdicts": [v.model_dump(mode="json") for v in request.previous_verdicts],
        "since": request.since,
        "usage": Usage().model_dump(),
        "plan": [],
        "reported": [],
        "judgeable": judged_ids(request),
        "verdicts": [],
        "reads": {},
        "finished": None,
        "turns": 0,
        "elapsed": 0.0,
        "last_turn_noted": False,
        "done": False,
        "stop_reason": None,
        "degraded": None,
        "notes": [],
        "secrets_masked": masked.count,
    }
    if request.since and not changes.files:  # the push changed none of the PR's files: no model call
        state.update(done=True, stop_reason="nothing_new", finished={"summary": NOTHING_NEW.format(
            since=request.since[:12])})
    return state


def build_request(state: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """Keyword arguments for `client.messages.create`, with cache breakpoints on the stable prefix."""
    messages = copy.deepcopy(state["messages"])
    messages[0]["content"][0]["cache_control"] = CACHE  # the task message: diff and candidates
    if len(messages) > 1:
        messages[-1]["content"][-1]["cache_control"] = CACHE  # the conversation so far (written now)
    if len(messages) > 3:
        # where the previous request ended: its cache entry is read even when this turn added more
        # blocks than the API's automatic look-back covers (many parallel tool calls)
        messages[-3]["content"][-1]["cache_control"] = CACHE
    return {
        "model": state["model"],
        "max_tokens": max_tokens,
        "system": [{"type": "text", "text": state["system"], "cache_control": CACHE}],
        "tools": tool_definitions(state.get("toolset", "review")),
        "messages": messages,
    }


def estimate_tokens(state: dict[str, Any]) -> int:
    """A deliberately rough size of the next request (4 characters a token), for budget checks."""
    tools = tool_definitions(state.get("toolset", "review"))
    size = len(state["system"]) + len(json.dumps(tools)) + len(json.dumps(state["messages"]))
    return size // 4 + 1
