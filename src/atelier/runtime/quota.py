"""A job held to its owner's daily quota: its budgets capped at what is left today.

The job's meter then stops it, with what it has, where the day's allowance ends
(the per-job budget machinery of `pipeline.metering`).
"""

from __future__ import annotations

from atelier.domain.job import JobResult
from atelier.domain.quota import cap_budgets, day_start
from atelier.domain.spec import Spec
from atelier.store import AsyncSession, QuotaRepo

# What the meter's reason names for each budget a quota may cap.
_BUDGET_WORDS = {"max_tokens": "token budget", "max_cost_usd": "cost budget"}


async def cap_to_quota(
    session: AsyncSession, user_id: str, job_id: str, spec: Spec
) -> tuple[Spec, frozenset[str]]:
    """The spec with its token and cost budgets lowered to what `user_id` has left today
    (the job's own calls aside: its meter counts them), and the names of the budgets the
    quota lowered."""
    repo = QuotaRepo(session)
    quota = await repo.get(user_id)
    if quota.daily_tokens is None and quota.daily_cost_usd is None:
        return spec, frozenset()
    used = await repo.usage(user_id, day_start(), exclude_job=job_id)
    before = spec.options.budgets
    budgets = cap_budgets(before, quota, used)
    capped = frozenset(
        name for name in _BUDGET_WORDS if getattr(budgets, name) != getattr(before, name)
    )
    if not capped:
        return spec, capped
    options = spec.options.model_copy(update={"budgets": budgets})
    return spec.model_copy(update={"options": options}), capped


def explain_quota_stop(result: JobResult, capped: frozenset[str]) -> JobResult:
    """The result, its reason saying so when a budget the quota capped stopped the job."""
    reason = result.reason or ""
    if not reason.startswith("stopped early:"):
        return result
    if not any(_BUDGET_WORDS[name] in reason for name in capped):
        return result
    reason = reason.replace("stopped early:", "stopped early by your daily quota:", 1)
    return result.model_copy(update={"reason": reason})
