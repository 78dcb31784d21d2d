"""Dollars for token usage, from the price table kept as data in `prices.yml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

MTOK = 1_000_000
_PROVIDER_PREFIX = re.compile(r"^(?:[a-z]{2,4}\.)?anthropic\.")  # bedrock: "us.anthropic.", "anthropic."
_VERSION_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|@\d{8}|-\d{8})$")  # "-v1:0", "@20250929", "-20250929"


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    def cost(self, *, input_tokens: int, output_tokens: int, cache_write: int, cache_read: int) -> float:
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_write * self.cache_write
            + cache_read * self.cache_read
        ) / MTOK


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, Price]
    fallback: Price

    def lookup(self, model: str) -> tuple[Price, bool]:
        """(price, known): an unknown model gets the fallback price and known=False."""
        name = normalize_model(model)
        if name in self.models:
            return self.models[name], True
        for key in sorted(self.models, key=len, reverse=True):
            if name.startswith(key + "-"):
                return self.models[key], True
        return self.fallback, False


def normalize_model(model: str) -> str:
    """Provider-specific model ids -> the table's names."""
    name = _PROVIDER_PREFIX.sub("", model.strip().lower())
    for _ in range(2):
        name = _VERSION_SUFFIX.sub("", name)
    return name


def _price(raw: Any) -> Price:
    return Price(
        input=float(raw["input"]),
        output=float(raw["output"]),
        cache_write=float(raw["cache_write"]),
        cache_read=float(raw["cache_read"]),
    )


def parse_price_table(text: str) -> PriceTable:
    data = yaml.safe_load(text)
    return PriceTable(
        models={str(k): _price(v) for k, v in data["models"].items()}, fallback=_price(data["fallback"])
    )


@lru_cache(maxsize=1)
def price_table() -> PriceTable:
    text = resources.files("bot.specialist").joinpath("prices.yml").read_text(encoding="utf-8")
    return parse_price_table(text)
