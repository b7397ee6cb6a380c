"""What the caller has used today and what is left of their quota."""

from __future__ import annotations

from fastapi import APIRouter

from atelier.api.deps import CurrentUser, SessionDep
from atelier.api.quotas import todays_usage
from atelier.api.schemas import AllowanceOut, DailyUsageOut
from atelier.domain.quota import day_start, next_reset, remaining_cost, remaining_tokens

router = APIRouter(prefix="/api", tags=["usage"])


@router.get("/usage", response_model=DailyUsageOut)
async def usage(user: CurrentUser, session: SessionDep) -> DailyUsageOut:
    """Tokens and cost (USD) of your model calls today (UTC), your queued and running
    jobs, each with your limit and what is left (null: unlimited)."""
    quota, used = await todays_usage(session, user.user_id)
    jobs_left = (
        None
        if quota.max_concurrent_jobs is None
        else max(0, quota.max_concurrent_jobs - used.active_jobs)
    )
    return DailyUsageOut(
        user_id=user.user_id,
        day=day_start().date().isoformat(),
        resets_at=next_reset(),
        tokens=AllowanceOut(
            used=used.tokens, limit=quota.daily_tokens, remaining=remaining_tokens(quota, used)
        ),
        cost_usd=AllowanceOut(
            used=round(used.cost_usd, 6),
            limit=quota.daily_cost_usd,
            remaining=remaining_cost(quota, used),
        ),
        concurrent_jobs=AllowanceOut(
            used=used.active_jobs, limit=quota.max_concurrent_jobs, remaining=jobs_left
        ),
    )
