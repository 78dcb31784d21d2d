"""A scripted Anthropic Messages API, served through respx routes on the real SDK's transport.

The SDK (anthropic 2.x) speaks httpx2; `FakeModel.client()` gives it an httpx2 MockTransport that
hands every request to a respx Router (so routes, calls and side effects are plain respx), and
converts the answer back. Each request gets the next scripted step: a reply of text/tool_use
blocks, or an HTTP error. A callable script decides from the request body instead.

Usage is computed deterministically: 4 characters a token over the serialised request, with
prompt caching honoured: the prefix up to a `cache_control` block is written on first sight and
read afterwards (prefixes under MIN_CACHE_TOKENS are not cached, as with the real API).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import httpx2
import respx

BASE_URL = "https://anthropic.fake"
MIN_CACHE_TOKENS = 1024
_ids = itertools.count(1)


def tokens(text: str) -> int:
    return (len(text) + 3) // 4


def text(t: str) -> dict[str, Any]:
    return {"type": "text", "text": t}


def tool(name: str, **input_: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": f"toolu_{next(_ids):04d}", "name": name, "input": input_}


@dataclass
class Reply:
    blocks: list[dict[str, Any]]
    stop_reason: str | None = None  # default: tool_use when there are tool calls, else end_turn


@dataclass
class Fail:
    status: int = 529
    times: int = 1  # how many consecutive requests get this error
    error_type: str = "overloaded_error"


Step = Reply | Fail
Script = Iterable[Step] | Callable[[dict[str, Any]], Step]


def _segments(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The request in cache-prefix order (tools, system, messages): (serialised block, breakpoint?)."""
    out: list[tuple[str, bool]] = []

    def add(block: Any) -> None:
        marked = isinstance(block, dict) and "cache_control" in block
        clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        out.append((json.dumps(clean, sort_keys=True), marked))

    for t in body.get("tools", []):
        add(t)
    system = body.get("system", [])
    for block in [{"type": "text", "text": system}] if isinstance(system, str) else system:
        add(block)
    for msg in body.get("messages", []):
        content = msg["content"]
        out.append((f"<{msg['role']}>", False))
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content:
            add(block)
    return out


@dataclass
class FakeModel:
    script: Script = ()
    requests: list[dict[str, Any]] = field(default_factory=list)
    usages: list[dict[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._policy = self.script if callable(self.script) else None
        self._queue: deque[Step] = deque() if callable(self.script) else deque(self.script)
        self._cache: set[str] = set()
        self._fail_left = 0
        self._fail: Fail | None = None
        self.router = respx.Router(base_url=BASE_URL, assert_all_called=False)
        self.route = self.router.post("/v1/messages").mock(side_effect=self._respond)

    # -- wiring ---------------------------------------------------------------------------------
    def _bridge(self, request: httpx2.Request) -> httpx2.Response:
        req = httpx.Request(request.method, str(request.url), headers=list(request.headers.items()),
                            content=request.content)
        resp = self.router.handler(req)
        return httpx2.Response(resp.status_code, headers=list(resp.headers.items()), content=resp.content)

    def http_client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self._bridge), base_url=BASE_URL)

    def client(self, max_retries: int = 2) -> anthropic.Anthropic:
        return anthropic.Anthropic(api_key="sk-test", base_url=BASE_URL, http_client=self.http_client(),
                                   max_retries=max_retries)

    # -- behaviour ------------------------------------------------------------------------------
    def _next(self, body: dict[str, Any]) -> Step:
        if self._fail_left > 0 and self._fail is not None:
            self._fail_left -= 1
            return self._fail
        if self._policy is not None:
            step = self._policy(body)
        elif self._queue:
            step = self._queue.popleft()
        else:
            step = Reply([text("(script exhausted)")], stop_reason="end_turn")
        if isinstance(step, Fail):
            self._fail, self._fail_left = step, step.times - 1
        return step

    def _usage(self, body: dict[str, Any]) -> dict[str, int]:
        segs = _segments(body)
        digest = hashlib.sha256()
        total = read = written_to = 0
        breakpoints: list[tuple[str, int]] = []
        for blob, marked in segs:
            digest.update(blob.encode())
            total += tokens(blob)
            if marked and total >= MIN_CACHE_TOKENS:
                breakpoints.append((digest.hexdigest(), total))
        for key, upto in breakpoints:
            if key in self._cache:
                read = upto
        for key, upto in breakpoints:
            if upto > read:
                self._cache.add(key)
                written_to = upto
        written = max(0, written_to - read)
        return {"input_tokens": total - read - written, "cache_read_input_tokens": read,
                "cache_creation_input_tokens": written}

    def _respond(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        step = self._next(body)
        if isinstance(step, Fail):
            payload = {"type": "error", "error": {"type": step.error_type, "message": "scripted failure"}}
            return httpx.Response(step.status, json=payload, headers={"retry-after-ms": "1"})
        usage = self._usage(body)
        usage["output_tokens"] = max(1, tokens(json.dumps(step.blocks)))
        self.usages.append(usage)
        has_tools = any(b["type"] == "tool_use" for b in step.blocks)
        message = {
            "id": f"msg_fake_{len(self.requests)}", "type": "message", "role": "assistant",
            "model": body.get("model", "fake"), "content": step.blocks,
            "stop_reason": step.stop_reason or ("tool_use" if has_tools else "end_turn"),
            "stop_sequence": None, "usage": usage,
        }
        return httpx.Response(200, json=message)

    # -- inspection -----------------------------------------------------------------------------
    @property
    def calls(self) -> int:
        return len(self.requests)

    def tool_results(self, index: int = -1) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message of request `index`."""
        last = self.requests[index]["messages"][-1]
        return [b for b in last["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
