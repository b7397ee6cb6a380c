"""Service statistics: host, jobs, usage per day."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query

from atelier.api.deps import CurrentUser, ServicesDep, SessionDep
from atelier.observability.system import system_stats
from atelier.store import JobRepo, JobStatsRepo

router = APIRouter(prefix="/api", tags=["stats"])


@router.get("/stats")
async def stats(
    user: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> dict[str, Any]:
    """Host CPU/memory/disk; job counts by status, success rate, mean/p95 duration,
    failures by reason; tokens and cost per day. Admins see every user's jobs, users
    their own."""
    scope = None if user.is_admin else user.user_id
    repo = JobRepo(session)
    counts = await repo.counts_by_status(scope)
    finished = counts["succeeded"] + counts["failed"] + counts["cancelled"]
    durations = await repo.duration_summary(scope)
    system = await asyncio.to_thread(system_stats, services.settings.data_dir)
    system["runner"] = {
        "running": len(services.runner.running_jobs()),
        "queued": len(services.runner.queued_jobs()),
        "max_concurrent_jobs": services.settings.max_concurrent_jobs,
    }
    return {
        "scope": "all" if scope is None else "own",
        "system": system,
        "jobs": {
            "total": sum(counts.values()),
            "by_status": counts,
            "success_rate": round(counts["succeeded"] / finished, 4) if finished else None,
            "duration_s": {
                "count": durations["count"],
                "mean": durations["mean_s"],
                "p95": durations["p95_s"],
            },
            "failures_by_reason": await repo.failures_by_reason(scope),
        },
        "usage_per_day": await repo.usage_per_day(days, scope),
    }


@router.get("/stats/series")
async def stats_series(
    user: CurrentUser,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> dict[str, Any]:
    """Series for charts over the last `days` UTC days: jobs per day by status, the
    duration distribution, tokens and cost per day and per model, verdict counts.
    Admins see every user's jobs, users their own."""
    scope = None if user.is_admin else user.user_id
    series = await JobStatsRepo(session).series(days, scope)
    return {"scope": "all" if scope is None else "own", **series}
