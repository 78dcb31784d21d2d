"""Prompts are versioned data files, rendered with named variables only."""

from __future__ import annotations

from importlib import resources

import pytest

from bot.specialist.prompts import PromptError, load_prompt, parse_prompt

PROMPT_NAMES = ["system", "task", "scope_full", "scope_incremental", "last_turn", "reply_task",
                "reply_last_turn"]


@pytest.mark.parametrize("name", PROMPT_NAMES)
def test_every_prompt_has_an_id_and_a_version(name: str) -> None:
    p = load_prompt(name)
    assert p.id.startswith("scalability-architect.") and p.version
    assert p.ref == f"{p.id}@{p.version}"


def test_every_prompt_file_shipped_is_loadable() -> None:
    shipped = sorted(f.name[:-3] for f in resources.files("prompts").iterdir() if f.name.endswith(".md"))
    assert shipped == sorted(PROMPT_NAMES)


def test_the_system_prompt_carries_the_mandates_and_the_untrusted_rule() -> None:
    text = load_prompt("system").render().lower()
    for phrase in ("evidence before judgement", "trade-offs", "monitoring", "rollback", "assumptions",
                   "hand-offs", "update_plan", "finish_review", "never instructions", "sharding",
                   "circuit breaker", "backpressure"):
        assert phrase in text, phrase


def test_rendering_refuses_missing_and_unexpected_variables() -> None:
    p = load_prompt("last_turn")
    with pytest.raises(PromptError, match="missing variables \\['reason'\\]"):
        p.render()
    with pytest.raises(PromptError, match="unexpected \\['extra'\\]"):
        p.render(reason="x", extra="y")


def test_values_are_never_read_as_template_text() -> None:
    out = load_prompt("last_turn").render(reason="$reason ${reason} $$")
    assert "$reason ${reason} $$" in out


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no header\n", "must start with"),
        ("---\nid: x\n", "not closed"),
        ("---\nid: x\n---\nbody\n", "needs 'id' and 'version'"),
        ("---\n: : :\n---\nbody\n", "not valid YAML"),
    ],
)
def test_malformed_prompt_files_are_refused(text: str, problem: str) -> None:
    with pytest.raises(PromptError, match=problem):
        parse_prompt("bad", text)


def test_an_unknown_prompt_is_a_clear_error() -> None:
    with pytest.raises(PromptError, match="not found"):
        load_prompt("nope")
