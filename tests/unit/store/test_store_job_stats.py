"""Chart series aggregated in SQL (`JobStatsRepo.series`) and the jobs' text search,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atelier.domain.spec import Spec
from atelier.domain.verdict import Verdict
from atelier.store import JobRepo, JobStatsRepo, SessionMaker, UserRepo, session_scope
from atelier.store.models import LlmCallRow

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _job(
    sessionmaker: SessionMaker,
    user_id: str,
    *,
    day: int,
    status: str = "succeeded",
    duration: float | None = 3.0,
    prompt: str = "x",
    calls: tuple[tuple[str, int, int, float], ...] = (),
    verdict: Verdict | None = None,
) -> str:
    created = NOW - timedelta(days=day)
    async with session_scope(sessionmaker) as session:
        repo = JobRepo(session)
        row = await repo.create(user_id, Spec(prompt=prompt))
        row.created_at = created
        if status in ("succeeded", "failed", "cancelled"):
            await repo.finish(row.id, status, duration=duration, verdict=verdict)
        else:
            row.status = status
        for model, prompt_tokens, completion_tokens, cost in calls:
            session.add(
                LlmCallRow(
                    job_id=row.id,
                    key=f"{row.id}-{model}-{prompt_tokens}",
                    model=model,
                    request={},
                    response={},
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    cost_usd=cost,
                    created_at=created + timedelta(minutes=1),
                )
            )
        return row.id


async def test_series_counts_jobs_per_day_by_status_and_zero_fills(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    await _job(sessionmaker, user_id, day=0)
    await _job(sessionmaker, user_id, day=0, status="failed")
    await _job(sessionmaker, user_id, day=2, status="cancelled")
    await _job(sessionmaker, user_id, day=1, status="running")
    await _job(sessionmaker, user_id, day=40)  # outside the window
    async with session_scope(sessionmaker) as session:
        series = await JobStatsRepo(session).series(7, now=NOW)
    assert series["days"][0] == "2026-03-04" and series["days"][-1] == "2026-03-10"
    per_day = {d["day"]: d for d in series["jobs_per_day"]}
    assert len(per_day) == 7
    assert per_day["2026-03-10"]["succeeded"] == 1 and per_day["2026-03-10"]["failed"] == 1
    assert per_day["2026-03-09"]["running"] == 1
    assert per_day["2026-03-08"]["cancelled"] == 1
    assert per_day["2026-03-05"] == {
        "day": "2026-03-05",
        "queued": 0,
        "running": 0,
        "succeeded": 0,
        "failed": 0,
        "cancelled": 0,
    }


async def test_series_buckets_durations_of_finished_jobs(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    for duration in (1.0, 4.9, 5.0, 45.0, 5000.0):
        await _job(sessionmaker, user_id, day=0, duration=duration)
    await _job(sessionmaker, user_id, day=0, status="running")
    async with session_scope(sessionmaker) as session:
        series = await JobStatsRepo(session).series(3, now=NOW)
    counts = {b["bucket"]: b["count"] for b in series["duration_histogram"]}
    assert counts["0-5s"] == 2 and counts["5-10s"] == 1 and counts["30-60s"] == 1
    assert counts[">1800s"] == 1
    assert sum(counts.values()) == 5


async def test_series_sums_tokens_and_cost_per_day_and_per_model(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    await _job(
        sessionmaker,
        user_id,
        day=0,
        calls=(("qwen", 100, 20, 0.5), ("qwen", 50, 5, 0.25), ("gpt", 10, 1, 1.0)),
    )
    await _job(sessionmaker, user_id, day=1, calls=(("gpt", 7, 3, 0.125),))
    async with session_scope(sessionmaker) as session:
        series = await JobStatsRepo(session).series(2, now=NOW)
    today, yesterday = series["usage_per_day"][1], series["usage_per_day"][0]
    assert today["day"] == "2026-03-10"
    assert today["calls"] == 3 and today["prompt_tokens"] == 160
    assert today["completion_tokens"] == 26 and today["cost_usd"] == pytest.approx(1.75)
    assert yesterday["tokens"] == 10 and yesterday["cost_usd"] == pytest.approx(0.125)
    models = {m["model"]: m for m in series["usage_per_model"]}
    assert models["qwen"]["tokens"] == 175 and models["qwen"]["calls"] == 2
    assert models["gpt"]["tokens"] == 21 and models["gpt"]["cost_usd"] == pytest.approx(1.125)
    assert [m["model"] for m in series["usage_per_model"]] == ["qwen", "gpt"]


async def test_series_is_scoped_to_one_user_when_asked(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        bob = (await UserRepo(session).create("bob")).id
    await _job(
        sessionmaker,
        user_id,
        day=0,
        calls=(("m", 10, 10, 0.0),),
        verdict=Verdict(verdict="verified"),
    )
    await _job(sessionmaker, bob, day=0, calls=(("m", 1, 1, 0.0),))
    async with session_scope(sessionmaker) as session:
        mine = await JobStatsRepo(session).series(1, user_id, now=NOW)
        everyone = await JobStatsRepo(session).series(1, now=NOW)
    assert mine["jobs_per_day"][0]["succeeded"] == 1
    assert everyone["jobs_per_day"][0]["succeeded"] == 2
    assert mine["usage_per_day"][0]["tokens"] == 20
    assert everyone["usage_per_day"][0]["tokens"] == 22
    assert mine["verdicts"]["verified"] == 1
    async with session_scope(sessionmaker) as session:
        with pytest.raises(ValueError):
            await JobStatsRepo(session).series(0)


async def test_list_searches_prompt_text_case_insensitively(
    sessionmaker: SessionMaker, user_id: str
) -> None:
    async with session_scope(sessionmaker) as session:
        bob = (await UserRepo(session).create("bob")).id
    stack = await _job(sessionmaker, user_id, day=0, prompt="A Stack module stack.py")
    await _job(sessionmaker, user_id, day=0, prompt="A queue module")
    percent = await _job(sessionmaker, user_id, day=0, prompt="Show 100% of it, under_score")
    await _job(sessionmaker, bob, day=0, prompt="bob's stack")
    async with session_scope(sessionmaker) as session:
        repo = JobRepo(session)
        rows, total = await repo.list(user_id, q="STACK")
        assert [r.id for r in rows] == [stack] and total == 1
        rows, total = await repo.list(None, q="stack")
        assert total == 2
        rows, _ = await repo.list(user_id, q="100%")
        assert [r.id for r in rows] == [percent]
        # LIKE wildcards in the query match only themselves.
        assert (await repo.list(user_id, q="%"))[1] == 1
        assert (await repo.list(user_id, q="k_m"))[1] == 0  # would match "Stack module"
        assert (await repo.list(user_id, q="under_score"))[1] == 1
        assert (await repo.list(user_id, "failed", q="stack"))[1] == 0
