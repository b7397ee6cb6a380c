"""Per-user quotas: a daily token and cost allowance and a concurrent-job limit.

The day is the UTC calendar day. A limit of None is unlimited (the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from atelier.domain.spec import Budgets


@dataclass(frozen=True)
class Quota:
    """What one user may spend per day, and how many jobs they may run at once."""

    daily_tokens: int | None = None
    daily_cost_usd: float | None = None
    max_concurrent_jobs: int | None = None

    @property
    def unlimited(self) -> bool:
        return (
            self.daily_tokens is None
            and self.daily_cost_usd is None
            and self.max_concurrent_jobs is None
        )


@dataclass(frozen=True)
class QuotaUsage:
    """What a user has spent today and how many of their jobs are queued or running."""

    tokens: int = 0
    cost_usd: float = 0.0
    active_jobs: int = 0


def day_start(now: datetime | None = None) -> datetime:
    """Midnight UTC of the day `now` falls in (the start of today's allowance)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def next_reset(now: datetime | None = None) -> datetime:
    """When the daily allowance starts afresh: the next midnight UTC."""
    return day_start(now) + timedelta(days=1)


def remaining_tokens(quota: Quota, used: QuotaUsage) -> int | None:
    """Tokens left today, None when unlimited."""
    if quota.daily_tokens is None:
        return None
    return max(0, quota.daily_tokens - used.tokens)


def remaining_cost(quota: Quota, used: QuotaUsage) -> float | None:
    """US dollars left today, None when unlimited."""
    if quota.daily_cost_usd is None:
        return None
    return max(0.0, round(quota.daily_cost_usd - used.cost_usd, 8))


def refusal(quota: Quota, used: QuotaUsage) -> str | None:
    """Why a new job may not start now, or None when it may."""
    if quota.max_concurrent_jobs is not None and used.active_jobs >= quota.max_concurrent_jobs:
        return (
            f"{used.active_jobs} of your jobs are queued or running; your limit is "
            f"{quota.max_concurrent_jobs} at once — wait for one to finish or cancel one"
        )
    tokens = remaining_tokens(quota, used)
    if tokens is not None and tokens <= 0:
        return (
            f"daily token quota used up ({used.tokens}/{quota.daily_tokens} tokens today); "
            "it resets at midnight UTC"
        )
    cost = remaining_cost(quota, used)
    if cost is not None and cost <= 0:
        return (
            f"daily cost quota used up (${used.cost_usd:.4f}/${quota.daily_cost_usd} today); "
            "it resets at midnight UTC"
        )
    return None


def cap_budgets(budgets: Budgets, quota: Quota, used_elsewhere: QuotaUsage) -> Budgets:
    """The job's budgets lowered to what the user has left today.

    `used_elsewhere` is today's spending of the user's other jobs: the job's own
    spending counts against its budget already (a resumed job's meter starts from it).
    A job's own lower budget stays. A job crossing the cap stops with what it has.
    """
    update: dict[str, object] = {}
    tokens = remaining_tokens(quota, used_elsewhere)
    if tokens is not None:
        cap = max(1, tokens)
        if budgets.max_tokens is None or budgets.max_tokens > cap:
            update["max_tokens"] = cap
    cost = remaining_cost(quota, used_elsewhere)
    if cost is not None and (budgets.max_cost_usd is None or budgets.max_cost_usd > cost):
        update["max_cost_usd"] = cost
    return budgets.model_copy(update=update) if update else budgets
