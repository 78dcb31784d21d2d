"""The memory a finished specialist review leaves in its check run, and when a push may build on it."""

from __future__ import annotations

import base64
import hashlib
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.model import Category, Finding, Severity
from bot.specialist.memory import (
    MAX_CHARS,
    PREFIX,
    SUFFIX,
    ReviewMemory,
    current_prompts,
    decode,
    encode,
    remember,
    reuse_problem,
)
from bot.specialist.outcome import SpecialistResult

HEAD = "a" * 40
PROMPTS = {"system": "scalability-architect.system@3", "task": "scalability-architect.task@2",
           "scope": "scalability-architect.scope-full@1"}


def finding(n: int, suggestion: str | None = None) -> Finding:
    return Finding(id=f"SR-{n:010x}", category=Category.n_plus_one, severity=Severity.high, path=f"app/m{n}.py",
                   start_line=3, end_line=4, title=f"query per item {n}", evidence="e" * 300, risk="r" * 300,
                   rollback="revert", monitoring="queries", source="specialist", suggestion=suggestion)


def result(**fields: object) -> SpecialistResult:
    values: dict[str, object] = {"findings": [finding(1)], "complete": True, "model": "claude-sonnet-4-6",
                                 "prompts": PROMPTS}
    values.update(fields)
    return SpecialistResult.model_validate(values)


def test_a_finished_review_round_trips_through_the_check_run_text() -> None:
    memory = remember(result(), HEAD)
    assert memory is not None
    block = encode(memory)
    assert block is not None and block.startswith(PREFIX) and block.endswith(SUFFIX)
    assert decode("## Summary\n\nsome text\n" + block + "\nmore") == memory


def test_a_review_that_did_not_finish_leaves_no_memory() -> None:
    assert remember(result(complete=False), HEAD) is None  # budget or model stopped it
    assert remember(result(degraded="model unavailable"), HEAD) is None
    assert remember(None, HEAD) is None  # static analysis only


def test_a_memory_too_big_drops_suggestions_then_gives_up() -> None:
    def noise(n: int) -> str:  # suggestions that do not compress away
        return "".join(f"x_{k} = '{hashlib.sha256(f'{n}.{k}'.encode()).hexdigest()}'\n" for k in range(40))

    big = ReviewMemory(head_sha=HEAD, model="m", findings=[finding(n, suggestion=noise(n)) for n in range(40)])
    slim = encode(big, limit=20_000)
    assert slim is not None and all(f.suggestion is None for f in decode(slim).findings)  # type: ignore[union-attr]
    assert encode(big, limit=300) is None  # the next push gets a full review instead of a cut memory
    assert len(encode(big) or "") <= MAX_CHARS


def _block(raw: bytes) -> str:
    return PREFIX + base64.b64encode(zlib.compress(raw)).decode() + SUFFIX


def test_garbage_and_forged_memories_are_refused() -> None:
    assert decode(None) is None and decode("") is None
    assert decode(PREFIX + "not base64!" + SUFFIX) is None
    assert decode(PREFIX + base64.b64encode(b"not zlib").decode() + SUFFIX) is None
    assert decode(_block(b"{not json")) is None
    assert decode(_block(b'{"head_sha": "../../etc/passwd", "model": "m"}')) is None
    assert decode(_block(b'{"head_sha": "' + b"a" * 40 + b'", "model": "m", "findings": [{"id": 1}]}')) is None
    bomb = _block(b'{"head_sha": "' + b"a" * 40 + b'", "model": "' + b"m" * 5_000_000 + b'"}')
    assert len(bomb) < 20_000 and decode(bomb) is None  # a zip bomb is not inflated past its cap


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_decodes_to_a_memory_or_none(text: str) -> None:
    assert decode(text) is None or isinstance(decode(text), ReviewMemory)


def test_a_memory_is_reused_only_for_its_head_model_and_prompts() -> None:
    memory = remember(result(), HEAD)
    assert memory is not None
    assert reuse_problem(memory, HEAD, "claude-sonnet-4-6", PROMPTS) is None
    assert reuse_problem(memory, HEAD, "claude-sonnet-4-6", {**PROMPTS, "scope": "other@9"}) is None
    assert "another commit" in (reuse_problem(memory, "b" * 40, "claude-sonnet-4-6", PROMPTS) or "")
    assert "model changed" in (reuse_problem(memory, HEAD, "claude-opus-4-1", PROMPTS) or "")
    newer = {**PROMPTS, "system": "scalability-architect.system@4"}
    assert "prompts changed" in (reuse_problem(memory, HEAD, "claude-sonnet-4-6", newer) or "")


def test_current_prompts_are_the_versioned_files() -> None:
    refs = current_prompts()
    assert set(refs) == {"system", "task"} and all("@" in r for r in refs.values())
