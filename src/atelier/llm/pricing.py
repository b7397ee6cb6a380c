"""What model calls cost: USD per million prompt and completion tokens.

The built-in table covers common hosted OpenAI and Anthropic models at their list
prices; `settings.llm_prices` overrides or extends it (prices change, and
OpenRouter, vLLM or a company proxy charge their own). Local models cost nothing.
A model found in neither table is priced at 0 rather than failing the call: the
token counts are still recorded, so cost can be recomputed later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from atelier.domain.usage import CallUsage
from atelier.llm.base import ChatResult


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1,000,000 tokens."""

    prompt_per_m: float
    completion_per_m: float

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        total = prompt_tokens * self.prompt_per_m + completion_tokens * self.completion_per_m
        return round(total / 1_000_000, 8)


FREE = ModelPrice(0.0, 0.0)

# Keys are model-name prefixes: dated snapshots ("gpt-4o-2024-08-06",
# "claude-sonnet-4-5-20250929") match their family; the longest prefix wins, so
# "gpt-4o-mini" is not priced as "gpt-4o".
DEFAULT_PRICES: dict[str, ModelPrice] = {
    # OpenAI
    "gpt-5": ModelPrice(1.25, 10.0),
    "gpt-5-mini": ModelPrice(0.25, 2.0),
    "gpt-5-nano": ModelPrice(0.05, 0.40),
    "gpt-4.1": ModelPrice(2.0, 8.0),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40),
    "gpt-4o": ModelPrice(2.50, 10.0),
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-4-turbo": ModelPrice(10.0, 30.0),
    "gpt-3.5-turbo": ModelPrice(0.50, 1.50),
    "o1": ModelPrice(15.0, 60.0),
    "o1-mini": ModelPrice(1.10, 4.40),
    "o3": ModelPrice(2.0, 8.0),
    "o3-mini": ModelPrice(1.10, 4.40),
    "o4-mini": ModelPrice(1.10, 4.40),
    # Anthropic
    "claude-opus-4": ModelPrice(15.0, 75.0),
    "claude-opus-4-5": ModelPrice(5.0, 25.0),
    "claude-opus-4-6": ModelPrice(5.0, 25.0),
    "claude-sonnet-4": ModelPrice(3.0, 15.0),
    "claude-haiku-4-5": ModelPrice(1.0, 5.0),
    "claude-3-7-sonnet": ModelPrice(3.0, 15.0),
    "claude-3-5-sonnet": ModelPrice(3.0, 15.0),
    "claude-3-5-haiku": ModelPrice(0.80, 4.0),
    "claude-3-opus": ModelPrice(15.0, 75.0),
    "claude-3-haiku": ModelPrice(0.25, 1.25),
}


def _normalise(model: str) -> str:
    # OpenRouter-style ids carry the vendor ("openai/gpt-4o", "anthropic/claude-…").
    return model.rsplit("/", 1)[-1].strip().lower()


def _longest_prefix(name: str, table: Mapping[str, ModelPrice]) -> ModelPrice | None:
    best: tuple[int, ModelPrice] | None = None
    for key, price in table.items():
        k = key.lower()
        matches = name == k or name.startswith(k + "-") or name.startswith(k + ":")
        if matches and (best is None or len(k) > best[0]):
            best = (len(k), price)
    return None if best is None else best[1]


class PriceTable:
    """The built-in prices with `overrides` ({model: (prompt_per_m, completion_per_m)}) merged in.

    An override replaces the built-in entry of the same name and otherwise adds an
    entry; entries match a model name exactly or as a family prefix, the longest one
    winning, so overriding "gpt-4o" does not reprice "gpt-4o-mini".
    """

    def __init__(self, overrides: Mapping[str, tuple[float, float]] | None = None) -> None:
        self._table: dict[str, ModelPrice] = {k.lower(): v for k, v in DEFAULT_PRICES.items()}
        for name, (prompt, completion) in (overrides or {}).items():
            self._table[name.strip().lower()] = ModelPrice(float(prompt), float(completion))

    def price(self, model: str) -> ModelPrice | None:
        """The price of `model`, or None when the table does not know it."""
        exact = self._table.get(model.strip().lower())
        return exact or _longest_prefix(_normalise(model), self._table)

    def cost_usd(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for one call; 0.0 for a model without a known price."""
        return (self.price(model) or FREE).cost_usd(prompt_tokens, completion_tokens)

    def priced_result(
        self, *, text: str, provider: str, model: str, prompt_tokens: int,
        completion_tokens: int, latency_s: float, finish_reason: str | None,
    ) -> ChatResult:
        """A provider's reply with its usage priced: the last step of every remote call."""
        usage = CallUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self.cost_usd(model, prompt_tokens, completion_tokens),
            latency_s=round(latency_s, 6),
        )
        return ChatResult(text=text, usage=usage, provider=provider, model=model,
                          finish_reason=finish_reason)


def cost_usd(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    overrides: Mapping[str, tuple[float, float]] | None = None,
) -> float:
    """USD for one call of `model`; 0.0 when its price is unknown. Never raises."""
    return PriceTable(overrides).cost_usd(model, prompt_tokens, completion_tokens)
