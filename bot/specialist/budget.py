"""Hard limits on one specialist review: turns, tokens, dollars, wall clock.

Checked before every model request (like pydantic-ai's UsageLimits): `Budget.exhausted` names
the budget that ends the review, and the user-facing note says which one and its limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.core.repo_config import LlmConfig
from bot.specialist.pricing import Price

STOP_NOTE = "stopped: {what} reached"
MIN_OUTPUT_TOKENS_PER_TURN = 256
DEFAULT_MAX_TOKENS_PER_TURN = 4096


class Usage(BaseModel):
    """Tokens and dollars spent so far (summed over every model request)."""

    input_tokens: int = 0  # uncached input
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    priced: bool = True  # False when the model was missing from the price table (fallback price used)

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def add(self, *, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int, price: Price) -> Usage:
        cost = price.cost(
            input_tokens=input_tokens, output_tokens=output_tokens, cache_write=cache_write, cache_read=cache_read
        )
        return Usage(
            input_tokens=self.input_tokens + input_tokens,
            output_tokens=self.output_tokens + output_tokens,
            cache_read_tokens=self.cache_read_tokens + cache_read,
            cache_write_tokens=self.cache_write_tokens + cache_write,
            cost_usd=round(self.cost_usd + cost, 6),
            requests=self.requests + 1,
            priced=self.priced,
        )

    def stats(self) -> dict[str, Any]:
        return self.model_dump()


@dataclass(frozen=True)
class BudgetStop:
    name: str  # "turns" | "input_tokens" | "output_tokens" | "cost" | "time"
    note: str


@dataclass(frozen=True)
class Budget:
    max_turns: int = 12
    max_input_tokens: int = 400_000
    max_output_tokens: int = 32_000
    max_cost_usd: float = 1.0
    max_seconds: float = 300.0
    max_tokens_per_turn: int = DEFAULT_MAX_TOKENS_PER_TURN

    @classmethod
    def from_config(cls, cfg: LlmConfig) -> Budget:
        return cls(
            max_turns=cfg.max_turns,
            max_input_tokens=cfg.max_input_tokens,
            max_output_tokens=cfg.max_output_tokens,
            max_cost_usd=cfg.max_cost_usd,
            max_seconds=float(cfg.max_seconds),
        )

    def output_allowance(self, usage: Usage) -> int:
        """max_tokens for the next request: never more than what is left of the output budget."""
        return max(0, min(self.max_tokens_per_turn, self.max_output_tokens - usage.output_tokens))

    def exhausted(
        self, *, usage: Usage, turns: int, elapsed: float, next_input: int, price: Price
    ) -> BudgetStop | None:
        """The budget the next request would break, or None. `next_input` estimates its input tokens."""
        if turns >= self.max_turns:
            return _stop("turns", f"turn budget of {self.max_turns}")
        if elapsed >= self.max_seconds:
            return _stop("time", f"time budget of {self.max_seconds:g} s")
        if usage.total_input_tokens + next_input > self.max_input_tokens:
            return _stop("input_tokens", f"input token budget of {self.max_input_tokens:,}")
        if self.output_allowance(usage) < MIN_OUTPUT_TOKENS_PER_TURN:
            return _stop("output_tokens", f"output token budget of {self.max_output_tokens:,}")
        if usage.cost_usd + self.projected_cost(usage, next_input, price) > self.max_cost_usd:
            return _stop("cost", f"cost budget of ${self.max_cost_usd:.2f}")
        return None

    def projected_cost(self, usage: Usage, next_input: int, price: Price) -> float:
        """The next request's cost if it fills its output allowance; the part of its input that the
        previous request already cached is priced as a cache read."""
        cached = min(next_input, _last_request_input(usage))
        return price.cost(
            input_tokens=next_input - cached,
            output_tokens=self.output_allowance(usage),
            cache_write=0,
            cache_read=cached,
        )


def _last_request_input(usage: Usage) -> int:
    return usage.total_input_tokens // max(usage.requests, 1) if usage.requests else 0


def _stop(name: str, what: str) -> BudgetStop:
    return BudgetStop(name=name, note=STOP_NOTE.format(what=what))
