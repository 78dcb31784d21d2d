"""The specialist loop: one model turn at a time over a JSON state, with hard budgets.

`run_turn` makes ONE Messages API call and runs the tool calls it asked for (several per turn
are fine), then returns the new state; the App's workflow checkpoints each turn as a durable
step, so a crash never pays for a finished turn twice. `finish` validates what was reported and
`run_specialist` drives the whole loop (the CLI). Model errors never raise out of here: they
end the review with `stop_reason` set, and `degraded` when no turn could be made at all.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.core.credentials import mask_credentials
from bot.core.diff import ChangeSet, parse_diff
from bot.core.repo import RepoView
from bot.specialist.budget import Budget, Usage
from bot.specialist.client import ModelFailure, call_model, make_client
from bot.specialist.conversation import SpecialistRequest, build_request, estimate_tokens, start_state
from bot.specialist.outcome import SpecialistResult, carry_forward, finish
from bot.specialist.pricing import price_table
from bot.specialist.prompts import load_prompt
from bot.specialist.tools import ToolContext, ToolOutcome, run_tool

__all__ = [
    "Budget", "SpecialistRequest", "SpecialistResult", "carry_forward", "finish", "make_client",
    "run_specialist", "run_turn", "start_state",
]

RECORDING_TOOLS = {"update_plan", "report_finding", "judge_finding", "finish_review", "answer_in_thread"}
MAX_PARALLEL_READS = 4
NOTE_DEGRADED_BUDGET = "budget spent before the first model turn ({note})"
NOTE_MODEL_STOPPED = "stopped: the model ended its turn without calling finish_review"
NOTE_REFUSED = "stopped: the model declined to continue ({reason})"
NOTE_UNAVAILABLE_LATE = "stopped after {turns} turn(s): {reason}; findings reported so far are kept"
NOTE_NO_CLIENT = "no model configured (no credentials): static analysis only"
CUT_OFF = "Your last reply hit the output limit. Continue with short tool calls; end with finish_review."


def _block_param(block: Any) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    dumped: dict[str, Any] = block.model_dump(mode="json", exclude_none=True)
    return dumped


def _stop(state: dict[str, Any], reason: str, note: str | None = None, degraded: str | None = None) -> None:
    state["done"] = True
    state["stop_reason"] = reason
    if note:
        state["notes"].append(note)
    if degraded:
        state["degraded"] = degraded


def _check_budget(state: dict[str, Any], budget: Budget) -> bool:
    usage = Usage.model_validate(state["usage"])
    price, _ = price_table().lookup(state["model"])
    stop = budget.exhausted(
        usage=usage, turns=state["turns"], elapsed=state["elapsed"], next_input=estimate_tokens(state), price=price
    )
    if stop is None:
        return True
    degraded = NOTE_DEGRADED_BUDGET.format(note=stop.note) if state["turns"] == 0 else None
    _stop(state, f"budget:{stop.name}", stop.note, degraded)
    return False


def _note_last_turn(state: dict[str, Any], budget: Budget) -> None:
    """Tell the model when the coming turn is its last, so it can finish properly."""
    if state["turns"] + 1 < budget.max_turns or state["last_turn_noted"]:
        return
    prompt = load_prompt(state.get("last_turn_prompt", "last_turn"))  # a reply has its own (bot.specialist.reply)
    text = prompt.render(reason=f"turn {budget.max_turns} of {budget.max_turns}")
    state["messages"][-1]["content"].append({"type": "text", "text": text})
    state["last_turn_noted"] = True


def _record_usage(state: dict[str, Any], message: Any) -> None:
    u = message.usage
    price, known = price_table().lookup(state["model"])
    usage = Usage.model_validate(state["usage"]).add(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_read=getattr(u, "cache_read_input_tokens", None) or 0,
        cache_write=getattr(u, "cache_creation_input_tokens", None) or 0,
        price=price,
    )
    usage.priced = usage.priced and known
    state["usage"] = usage.model_dump()


def _run_tools(state: dict[str, Any], calls: list[Any], repo: RepoView) -> list[dict[str, Any]]:
    """Run one turn's tool calls: reads in parallel, recording tools in order; results in call order."""
    ctx = ToolContext(repo=repo, shown=state["shown"], reads=state["reads"], plan=state["plan"],
                      reported=state["reported"], finished=state["finished"],
                      judgeable=list(state.get("judgeable", [])), verdicts=state.setdefault("verdicts", []))
    outcomes: dict[int, ToolOutcome] = {}
    toolset = state.get("toolset", "review")
    reads = [(i, c) for i, c in enumerate(calls) if c.name not in RECORDING_TOOLS]
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_READS) as pool:
        for (i, _), out in zip(reads, pool.map(lambda ic: run_tool(ctx, ic[1].name, ic[1].input, toolset), reads),
                               strict=True):
            outcomes[i] = out
    for i, c in enumerate(calls):
        if i not in outcomes:
            outcomes[i] = run_tool(ctx, c.name, c.input, toolset)
    state["plan"], state["finished"] = ctx.plan, ctx.finished
    results = []
    for i, c in enumerate(calls):
        masked = mask_credentials(outcomes[i].content)  # file contents go to the model provider: no keys
        state["secrets_masked"] = state.get("secrets_masked", 0) + masked.count
        item: dict[str, Any] = {"type": "tool_result", "tool_use_id": c.id, "content": masked.text}
        if outcomes[i].is_error:
            item["is_error"] = True
        results.append(item)
    return results


def _after_reply(state: dict[str, Any], message: Any, repo: RepoView) -> None:
    calls = [b for b in message.content if b.type == "tool_use"]
    if calls:
        results = _run_tools(state, calls, repo)
        if state["finished"] is not None:
            _stop(state, "finished")
            return
        state["messages"].append({"role": "user", "content": results})
        return
    if message.stop_reason == "max_tokens":
        state["messages"].append({"role": "user", "content": [{"type": "text", "text": CUT_OFF}]})
    elif message.stop_reason == "refusal":
        _stop(state, "refusal", NOTE_REFUSED.format(reason=message.stop_reason))
    else:
        _stop(state, "model_stopped", NOTE_MODEL_STOPPED)


def _model_failed(state: dict[str, Any], failure: ModelFailure) -> None:
    if state["turns"] == 0:
        _stop(state, "model_unavailable", None, failure.reason)
    else:
        _stop(state, "model_unavailable", NOTE_UNAVAILABLE_LATE.format(turns=state["turns"], reason=failure.reason))


def run_turn(
    state: dict[str, Any],
    *,
    client: Any,
    repo: RepoView,
    budget: Budget,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """One model call plus its tool calls; returns the new state (the input is not modified)."""
    state = copy.deepcopy(state)
    if state["done"]:
        return state
    if client is None:
        _stop(state, "no_client", None, NOTE_NO_CLIENT)
        return state
    started = clock()
    try:
        if not _check_budget(state, budget):
            return state
        _note_last_turn(state, budget)
        params = build_request(state, budget.output_allowance(Usage.model_validate(state["usage"])))
        reply = call_model(client, params, timeout=budget.max_seconds - state["elapsed"], sleep=sleep)
        if isinstance(reply, ModelFailure):
            _model_failed(state, reply)
            return state
        state["turns"] += 1
        _record_usage(state, reply)
        state["messages"].append({"role": "assistant", "content": [_block_param(b) for b in reply.content]})
        _after_reply(state, reply, repo)
        return state
    finally:
        state["elapsed"] = round(state["elapsed"] + max(0.0, clock() - started), 3)


def run_specialist(
    request: SpecialistRequest,
    *,
    client: Any,
    repo: RepoView,
    changes: ChangeSet,
    budget: Budget,
    turn_step: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SpecialistResult:
    """The whole review. `changes` is the whole change; for an incremental review (`request.since`)
    `request.diff` holds only the commits since. `turn_step(state) -> state`, when given, replaces the
    default turn (`run_turn` with these arguments), e.g. to run each turn as a durable workflow step."""
    state = start_state(request)
    def default_step(s: dict[str, Any]) -> dict[str, Any]:
        return run_turn(s, client=client, repo=repo, budget=budget, clock=clock, sleep=sleep)

    step = turn_step or default_step
    for _ in range(budget.max_turns + 1):  # each turn either calls the model once or stops
        if state["done"]:
            break
        state = step(state)
    if not state["done"]:
        _stop(state, "budget:turns", f"stopped: turn budget of {budget.max_turns} reached")
    follow_up = parse_diff(request.diff) if request.since else None
    return finish(state, changes=changes, candidates=request.candidates, repo=repo, follow_up=follow_up)
