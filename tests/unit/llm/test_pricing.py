"""The price table: known models, dated snapshots, vendor prefixes, overrides, unknowns."""

from __future__ import annotations

import pytest

from atelier.llm.pricing import DEFAULT_PRICES, PriceTable, cost_usd


def test_known_model_cost() -> None:
    # gpt-4o: $2.50 / 1M prompt, $10 / 1M completion
    assert cost_usd("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert cost_usd("gpt-4o", 1000, 500) == pytest.approx(0.0075)


def test_dated_snapshot_uses_its_family_and_longest_prefix_wins() -> None:
    assert cost_usd("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(2.5)
    assert cost_usd("gpt-4o-mini-2024-07-18", 1_000_000, 0) == pytest.approx(0.15)
    assert cost_usd("claude-sonnet-4-5-20250929", 0, 1_000_000) == pytest.approx(15.0)
    assert cost_usd("claude-3-5-haiku-latest", 1_000_000, 0) == pytest.approx(0.8)


def test_vendor_prefixed_names_are_priced() -> None:
    assert cost_usd("openai/gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert cost_usd("anthropic/claude-haiku-4-5", 1_000_000, 0) == pytest.approx(1.0)


def test_a_prefix_does_not_match_inside_a_word() -> None:
    assert PriceTable().price("o1x") is None
    assert PriceTable().price("gpt-4oo") is None


def test_unknown_and_local_models_cost_nothing() -> None:
    assert cost_usd("qwen2.5-coder-0.5b", 5000, 5000) == 0.0
    assert cost_usd("SmolLM2-135M-Instruct.Q4_1.gguf", 5000, 5000) == 0.0
    assert PriceTable().price("my-own-model") is None


def test_overrides_win_and_extend() -> None:
    table = PriceTable({"gpt-4o": (1.0, 1.0), "my-vllm-model": (0.1, 0.2)})
    assert table.cost_usd("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(2.0)
    assert table.cost_usd("gpt-4o-2024-08-06", 1_000_000, 0) == pytest.approx(1.0)
    assert table.cost_usd("my-vllm-model", 1_000_000, 1_000_000) == pytest.approx(0.3)
    # a built-in entry the override does not touch keeps its price
    assert table.cost_usd("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)


def test_overrides_from_settings_shape() -> None:
    assert cost_usd("x", 2_000_000, 0, overrides={"x": (0.5, 0.0)}) == pytest.approx(1.0)


def test_every_builtin_price_is_non_negative() -> None:
    assert all(p.prompt_per_m >= 0 and p.completion_per_m >= 0 for p in DEFAULT_PRICES.values())
