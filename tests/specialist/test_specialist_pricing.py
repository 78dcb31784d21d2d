"""Dollars from the price table (data), including provider-specific model ids."""

from __future__ import annotations

import pytest

from bot.specialist.budget import Budget, Usage
from bot.specialist.pricing import Price, normalize_model, parse_price_table, price_table


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-1", "claude-opus-4-1"),
    ],
)
def test_provider_ids_map_to_table_names(model: str, name: str) -> None:
    assert normalize_model(model) == name
    _, known = price_table().lookup(model)
    assert known


def test_an_unknown_model_is_priced_conservatively_and_flagged() -> None:
    table = price_table()
    price, known = table.lookup("some-gateway-model")
    assert not known and price == table.fallback
    assert table.fallback.input >= max(p.input for p in table.models.values())


def test_cost_uses_all_four_rates() -> None:
    p = Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.3)
    assert p.cost(input_tokens=1_000_000, output_tokens=0, cache_write=0, cache_read=0) == 3.0
    assert p.cost(input_tokens=100, output_tokens=200, cache_write=300, cache_read=400) == pytest.approx(
        (300 + 3000 + 1125 + 120) / 1e6)


def test_the_table_parses_from_yaml() -> None:
    t = parse_price_table("models:\n  m: {input: 1, output: 2, cache_write: 3, cache_read: 4}\n"
                          "fallback: {input: 9, output: 9, cache_write: 9, cache_read: 9}\n")
    assert t.lookup("m") == (Price(1, 2, 3, 4), True)


@pytest.mark.parametrize(
    ("budget", "usage", "turns", "elapsed", "name"),
    [
        (Budget(max_turns=3), Usage(), 3, 0.0, "turns"),
        (Budget(max_seconds=10), Usage(), 0, 10.0, "time"),
        (Budget(max_input_tokens=5_000), Usage(cache_read_tokens=4_500, requests=1), 1, 0.0, "input_tokens"),
        (Budget(max_output_tokens=1_000), Usage(output_tokens=900, requests=1), 1, 0.0, "output_tokens"),
        (Budget(max_cost_usd=0.05), Usage(cost_usd=0.049, requests=1), 1, 0.0, "cost"),
    ],
)
def test_the_budget_names_what_ran_out(budget: Budget, usage: Usage, turns: int, elapsed: float, name: str) -> None:
    stop = budget.exhausted(usage=usage, turns=turns, elapsed=elapsed, next_input=1_000, price=price_table().fallback)
    assert stop is not None and stop.name == name and stop.note.startswith("stopped: ")


def test_a_fresh_budget_allows_the_first_turn() -> None:
    assert Budget().exhausted(usage=Usage(), turns=0, elapsed=0, next_input=5_000,
                              price=price_table().lookup("claude-sonnet-4-6")[0]) is None


def test_max_tokens_never_exceeds_what_is_left() -> None:
    assert Budget(max_output_tokens=5_000).output_allowance(Usage(output_tokens=4_000)) == 1_000
