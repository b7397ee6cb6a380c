"""Per-user quotas and what each user has spent today."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.quota import Quota, QuotaUsage
from atelier.store.models import JobRow, LlmCallRow, UserQuotaRow
from atelier.store.types import utcnow
from atelier.store.users import UserRepo

ACTIVE_STATUSES = ("queued", "running")


class QuotaRepo:
    """Quotas and usage. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str) -> Quota:
        """The user's quota (unlimited when none was set)."""
        row = await self.session.get(UserQuotaRow, user_id)
        if row is None:
            return Quota()
        return Quota(row.daily_tokens, row.daily_cost_usd, row.max_concurrent_jobs)

    async def set(self, user_id: str, quota: Quota) -> Quota:
        """Replace the user's quota. Raises NotFound when the user does not exist."""
        await UserRepo(self.session).get(user_id)
        row = await self.session.get(UserQuotaRow, user_id)
        if row is None:
            row = UserQuotaRow(user_id=user_id)
            self.session.add(row)
        row.daily_tokens = quota.daily_tokens
        row.daily_cost_usd = quota.daily_cost_usd
        row.max_concurrent_jobs = quota.max_concurrent_jobs
        row.updated_at = utcnow()
        await self.session.flush()
        return quota

    async def usage(
        self, user_id: str, since: datetime, *, exclude_job: str | None = None
    ) -> QuotaUsage:
        """Tokens and cost of the user's model calls made since `since` (every call
        paid for, replays are not recorded twice), and their queued or running jobs.
        `exclude_job` leaves one job's calls out."""
        spent = (
            select(
                func.coalesce(func.sum(LlmCallRow.prompt_tokens + LlmCallRow.completion_tokens), 0),
                func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0),
            )
            .join(JobRow, JobRow.id == LlmCallRow.job_id)
            .where(JobRow.user_id == user_id, LlmCallRow.created_at >= since)
        )
        if exclude_job is not None:
            spent = spent.where(LlmCallRow.job_id != exclude_job)
        tokens, cost = (await self.session.execute(spent)).one()
        active = await self.session.scalar(
            select(func.count())
            .select_from(JobRow)
            .where(JobRow.user_id == user_id, JobRow.status.in_(ACTIVE_STATUSES))
        )
        return QuotaUsage(
            tokens=int(tokens or 0), cost_usd=float(cost or 0.0), active_jobs=active or 0
        )
