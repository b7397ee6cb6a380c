"""Per-user quotas at the API: refusing a job the quota does not allow, today's usage.

A running job is held to what is left of the day by the runner, which caps its
budgets when it starts (`runtime.quota`); here a job is refused at submission when
the user already spent their day or runs as many jobs as they may.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from atelier.domain.errors import QuotaExceeded
from atelier.domain.quota import (
    Quota,
    QuotaUsage,
    day_start,
    next_reset,
    refusal,
)
from atelier.store import AsyncSession, QuotaRepo, SessionMaker, session_scope

# Retry-After of a refusal for too many jobs at once: one may finish soon.
CONCURRENCY_RETRY_S = 10


async def todays_usage(session: AsyncSession, user_id: str) -> tuple[Quota, QuotaUsage]:
    """The user's quota and what they have used of it today (UTC)."""
    repo = QuotaRepo(session)
    return await repo.get(user_id), await repo.usage(user_id, day_start())


def _retry_after_s(quota: Quota, used: QuotaUsage) -> int:
    if quota.max_concurrent_jobs is not None and used.active_jobs >= quota.max_concurrent_jobs:
        return CONCURRENCY_RETRY_S
    return max(1, int((next_reset() - datetime.now(UTC)).total_seconds()))


class QuotaGate:
    """Admits new jobs within their owner's quota, one submission per user at a time
    (so two concurrent submissions cannot both take the last concurrent-job slot)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def admit(self, sessionmaker: SessionMaker, user_id: str) -> AsyncIterator[None]:
        """Hold the user's slot while the block creates the job.

        Raises QuotaExceeded (429) when the user has no tokens or dollars left today or
        runs as many jobs as their quota allows. A user without a quota costs one read.
        """
        async with session_scope(sessionmaker) as session:
            quota = await QuotaRepo(session).get(user_id)
        if quota.unlimited:
            yield
            return
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            async with session_scope(sessionmaker) as session:
                quota, used = await todays_usage(session, user_id)
            reason = refusal(quota, used)
            if reason is not None:
                raise QuotaExceeded(_retry_after_s(quota, used), reason)
            yield
