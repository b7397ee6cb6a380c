"""Quota rules: when a new job is refused, and how a starting job's budgets are capped."""

from __future__ import annotations

from datetime import UTC, datetime

from atelier.domain.quota import (
    Quota,
    QuotaUsage,
    cap_budgets,
    day_start,
    next_reset,
    refusal,
    remaining_cost,
    remaining_tokens,
)
from atelier.domain.spec import Budgets


def test_no_quota_refuses_nothing_and_caps_nothing() -> None:
    quota = Quota()
    assert quota.unlimited
    used = QuotaUsage(tokens=10**9, cost_usd=10**6, active_jobs=10**4)
    assert refusal(quota, used) is None
    budgets = Budgets(max_fix_rounds=2)
    assert cap_budgets(budgets, quota, used) is budgets
    assert remaining_tokens(quota, used) is None and remaining_cost(quota, used) is None


def test_a_spent_day_or_full_slots_refuse_with_the_reason() -> None:
    quota = Quota(daily_tokens=100, daily_cost_usd=1.0, max_concurrent_jobs=2)
    assert refusal(quota, QuotaUsage(tokens=99, cost_usd=0.5, active_jobs=1)) is None
    tokens = refusal(quota, QuotaUsage(tokens=100))
    assert tokens is not None and "daily token quota used up (100/100" in tokens
    cost = refusal(quota, QuotaUsage(cost_usd=1.0))
    assert cost is not None and "daily cost quota used up" in cost
    slots = refusal(quota, QuotaUsage(active_jobs=2))
    assert slots is not None and "your limit is 2 at once" in slots
    assert refusal(Quota(max_concurrent_jobs=0), QuotaUsage()) is not None


def test_budgets_are_capped_at_what_is_left_and_a_lower_own_budget_stays() -> None:
    quota = Quota(daily_tokens=1000, daily_cost_usd=2.0)
    used = QuotaUsage(tokens=400, cost_usd=0.5)
    capped = cap_budgets(Budgets(max_fix_rounds=1), quota, used)
    assert capped.max_tokens == 600 and capped.max_cost_usd == 1.5
    assert capped.max_fix_rounds == 1
    own = cap_budgets(Budgets(max_tokens=50, max_cost_usd=0.1), quota, used)
    assert own.max_tokens == 50 and own.max_cost_usd == 0.1
    # Nothing left: the job stops before its first call.
    spent = cap_budgets(Budgets(), quota, QuotaUsage(tokens=5000, cost_usd=9.0))
    assert spent.max_tokens == 1 and spent.max_cost_usd == 0.0


def test_the_day_is_the_utc_calendar_day() -> None:
    now = datetime(2026, 12, 2, 23, 59, tzinfo=UTC)
    assert day_start(now) == datetime(2026, 12, 2, tzinfo=UTC)
    assert next_reset(now) == datetime(2026, 12, 3, tzinfo=UTC)
