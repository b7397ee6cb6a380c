"""Jobs: CRUD, ownership, pagination and filters, progress, leases, stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from atelier.domain.errors import InvalidSpec, NotFound
from atelier.domain.report import TestReport
from atelier.domain.spec import Spec
from atelier.domain.usage import Usage
from atelier.domain.verdict import Verdict
from atelier.store import JobRepo, SessionMaker, UserRepo, percentile, session_scope
from atelier.store.types import utcnow


@dataclass(frozen=True)
class Who:
    user_id: str
    role: str = "user"


async def test_create_and_get_round_trips_the_spec(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
    assert job.status == "queued" and job.progress == 0.0 and job.attempts == 0
    assert set(job.steps) == {"plan", "code", "test", "fix", "review", "docs", "package"}
    async with session_scope(sessionmaker) as session:
        loaded = await JobRepo(session).get(job.id)
    assert loaded.parsed_spec() == spec
    assert loaded.created_at.tzinfo is not None
    async with session_scope(sessionmaker) as session:
        with pytest.raises(NotFound):
            await JobRepo(session).get("no-such-job")
    with pytest.raises(NotFound):
        async with session_scope(sessionmaker) as session:
            await JobRepo(session).create("no-such-user", spec)


async def test_only_owner_or_admin_sees_a_job(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        bob = await UserRepo(session).create("bob")
        admin = await UserRepo(session).create("root", "admin")
        job = await JobRepo(session).create(user_id, spec)
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        assert (await jobs.get_for_user(job.id, Who(user_id))).id == job.id
        assert (await jobs.get_for_user(job.id, Who(admin.id, "admin"))).id == job.id
        assert (await jobs.get_for_user(job.id, admin)).id == job.id  # a UserRow fits too
        with pytest.raises(NotFound):
            await jobs.get_for_user(job.id, Who(bob.id))


async def test_list_paginates_newest_first_and_filters(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        bob = await UserRepo(session).create("bob")
        jobs = JobRepo(session)
        mine = [await jobs.create(user_id, spec) for _ in range(5)]
        await jobs.create(bob.id, spec)
        await jobs.finish(mine[0].id, "failed", reason="boom")
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        page, total = await jobs.list(user_id, limit=2, offset=0)
        assert total == 5 and len(page) == 2
        page2, _ = await jobs.list(user_id, limit=2, offset=2)
        page3, _ = await jobs.list(user_id, limit=2, offset=4)
        ids = [j.id for j in page + page2 + page3]
        assert ids == [j.id for j in reversed(mine)]
        everyone, total_all = await jobs.list(None)
        assert total_all == 6 and len(everyone) == 6
        failed, n_failed = await jobs.list(user_id, status="failed")
        assert n_failed == 1 and failed[0].id == mine[0].id
        with pytest.raises(InvalidSpec):
            await jobs.list(status="exploded")


async def test_progress_running_and_finish(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        running = await jobs.mark_running(job.id, worker_id="w1", lease_s=60)
        assert running.status == "running" and running.attempts == 1
        assert running.lease_expires_at is not None and running.started_at is not None
        await jobs.update_progress(
            job.id, progress=0.4, current_step="code",
            steps={"plan": {"status": "done"}},
            usage=Usage(calls=2, prompt_tokens=10, completion_tokens=5, cost_usd=0.01),
            tests=TestReport(passed=3, failed=1),
        )
    async with session_scope(sessionmaker) as session:
        loaded = await JobRepo(session).get(job.id)
        assert loaded.progress == pytest.approx(0.4) and loaded.current_step == "code"
        assert loaded.steps["plan"] == {"status": "done"}
        assert loaded.steps["code"] == {"status": "pending"}
        assert loaded.usage["prompt_tokens"] == 10
        assert loaded.tests == {"passed": 3, "failed": 1, "errors": 0, "skipped": 0}
    async with session_scope(sessionmaker) as session:
        done = await JobRepo(session).finish(
            job.id, "succeeded", tests={"passed": 4, "failed": 0, "errors": 0}, duration=12.5
        )
        assert done.status == "succeeded" and done.progress == 1.0
        assert done.duration_s == 12.5 and done.finished_at is not None
        assert done.worker_id is None and done.lease_expires_at is None
        with pytest.raises(InvalidSpec):
            await JobRepo(session).finish(job.id, "running")


async def test_finish_stores_the_verdict_and_its_detail(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    verdict = Verdict(verdict="failing", passed=1, failed=1,
                      failing_tests=["tests.test_ops::test_add"],
                      reason="1 of 2 tests fails: tests.test_ops::test_add")
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
        assert job.verdict is None and job.verdict_detail is None  # not judged before the end
    async with session_scope(sessionmaker) as session:
        await JobRepo(session).finish(job.id, "succeeded", verdict=verdict)
    async with session_scope(sessionmaker) as session:
        loaded = await JobRepo(session).get(job.id)
    assert loaded.verdict == "failing"
    assert loaded.verdict_detail == verdict.detail()
    assert Verdict(verdict="failing", **loaded.verdict_detail) == verdict


async def test_claim_interrupted_takes_orphans_but_not_live_leases(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        queued = await jobs.create(user_id, spec)
        dead = await jobs.create(user_id, spec)
        live = await jobs.create(user_id, spec)
        finished = await jobs.create(user_id, spec)
        await jobs.mark_running(dead.id, worker_id="old", lease_s=60)
        dead.lease_expires_at = utcnow() - timedelta(seconds=1)
        await jobs.mark_running(live.id, worker_id="other", lease_s=600)
        await jobs.finish(finished.id, "failed", reason="x")
    async with session_scope(sessionmaker) as session:
        claimed = await JobRepo(session).claim_interrupted("new", lease_s=60)
    assert claimed == [queued.id, dead.id]
    async with session_scope(sessionmaker) as session:
        # a second process finds nothing left to claim
        assert await JobRepo(session).claim_interrupted("third") == []
        assert (await JobRepo(session).get(dead.id)).worker_id == "new"
    async with session_scope(sessionmaker) as session:
        forced = await JobRepo(session).claim_interrupted("solo", force=True)
    assert set(forced) == {queued.id, dead.id, live.id}


async def test_heartbeat_extends_only_own_lease(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        job = await jobs.create(user_id, spec)
        await jobs.mark_running(job.id, worker_id="w1", lease_s=5)
    async with session_scope(sessionmaker) as session:
        assert await JobRepo(session).heartbeat(job.id, "w1", 600)
        assert not await JobRepo(session).heartbeat(job.id, "w2", 600)


async def test_delete_removes_job_and_children(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    from atelier.domain.events import Event
    from atelier.store import EventLog, VersionRepo

    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        job = await jobs.create(user_id, spec)
        child = await jobs.create(user_id, spec, job.id, parent_version=1, instructions="more")
        await EventLog(session).append(Event(job_id=job.id, type="job_queued"))
        await VersionRepo(session).create(job.id, {"a.py": "x = 1\n"}, {})
    async with session_scope(sessionmaker) as session:
        await JobRepo(session).delete(job.id)
    async with session_scope(sessionmaker) as session:
        with pytest.raises(NotFound):
            await JobRepo(session).get(job.id)
        assert await EventLog(session).list(job.id) == []
        orphan = await JobRepo(session).get(child.id)
        assert orphan.parent_job_id is None and orphan.instructions == "more"
        with pytest.raises(NotFound):
            await JobRepo(session).delete(job.id)


async def test_delete_sweeps_the_blobs_only_that_job_used(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    from atelier.store import BlobStore, VersionRepo, content_hash

    shared, own = "x = 1\n", "only = 'mine'\n"
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        first, second = await jobs.create(user_id, spec), await jobs.create(user_id, spec)
        await VersionRepo(session).create(first.id, {"a.py": shared, "b.py": own}, {})
        await VersionRepo(session).create(first.id, {"a.py": shared}, {})
        await VersionRepo(session).create(second.id, {"c.py": shared}, {})
    async with session_scope(sessionmaker) as session:
        assert await JobRepo(session).delete(first.id) == 1
    async with session_scope(sessionmaker) as session:
        blobs = BlobStore(session)
        assert await blobs.exists(content_hash(shared.encode()))  # the second job uses it
        assert not await blobs.exists(content_hash(own.encode()))
        assert await VersionRepo(session).contents(second.id) == {"c.py": shared}


async def test_stats(sessionmaker: SessionMaker, user_id: str, spec: Spec) -> None:
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        created = [await jobs.create(user_id, spec) for _ in range(6)]
        for job, duration in zip(created[:4], (1.0, 2.0, 3.0, 10.0), strict=True):
            await jobs.finish(job.id, "succeeded", duration=duration,
                              usage={"calls": 1, "prompt_tokens": 100,
                                     "completion_tokens": 50, "cost_usd": 0.5})
        await jobs.finish(created[4].id, "failed", reason="budget_exceeded", duration=4.0)
        await jobs.mark_running(created[5].id)
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        assert await jobs.counts_by_status() == {
            "queued": 0, "running": 1, "succeeded": 4, "failed": 1, "cancelled": 0
        }
        assert await jobs.durations() == [1.0, 2.0, 3.0, 4.0, 10.0]
        summary = await jobs.duration_summary()
        assert summary == {"count": 5, "mean_s": 4.0, "p95_s": 10.0}
        assert await jobs.failures_by_reason() == {"budget_exceeded": 1}
        (today,) = await jobs.usage_per_day()
        assert today["jobs"] == 6 and today["prompt_tokens"] == 400
        assert today["cost_usd"] == pytest.approx(2.0)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
