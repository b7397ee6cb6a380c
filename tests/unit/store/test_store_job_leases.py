"""Taking a job under a lease: what makes a duplicated or re-delivered start idempotent."""

from __future__ import annotations

from datetime import timedelta

from atelier.domain.spec import Spec
from atelier.store import JobRepo, SessionMaker, session_scope
from atelier.store.types import utcnow


async def test_take_starts_a_queued_job_once_and_refuses_a_second_worker(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
    async with session_scope(sessionmaker) as session:
        taken = await JobRepo(session).take(job.id, "w1", lease_s=60)
    assert taken is not None
    assert (taken.status, taken.worker_id, taken.attempts) == ("running", "w1", 1)
    assert taken.started_at is not None and taken.lease_expires_at is not None
    async with session_scope(sessionmaker) as session:
        # The same message delivered to another worker: the live lease says no.
        assert await JobRepo(session).take(job.id, "w2", lease_s=60) is None
        # The holder itself may take it again (a re-delivery to the same worker).
        again = await JobRepo(session).take(job.id, "w1", lease_s=60)
    assert again is not None and again.attempts == 2


async def test_take_over_only_once_the_lease_expired(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
        await JobRepo(session).take(job.id, "dead", lease_s=60)
    async with session_scope(sessionmaker) as session:
        assert await JobRepo(session).take(job.id, "next", lease_s=60) is None
        row = await JobRepo(session).get(job.id)
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
    async with session_scope(sessionmaker) as session:
        taken = await JobRepo(session).take(job.id, "next", lease_s=60)
    assert taken is not None and taken.worker_id == "next" and taken.attempts == 2


async def test_take_leaves_finished_jobs_alone(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        job = await JobRepo(session).create(user_id, spec)
        await JobRepo(session).finish(job.id, "cancelled", reason="by request")
    async with session_scope(sessionmaker) as session:
        assert await JobRepo(session).take(job.id, "w1", lease_s=60) is None
        assert await JobRepo(session).take("no-such-job", "w1", lease_s=60) is None


async def test_running_only_claims_leave_queued_jobs_to_the_queue(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with session_scope(sessionmaker) as session:
        jobs = JobRepo(session)
        queued = await jobs.create(user_id, spec)
        orphan = await jobs.create(user_id, spec)
        await jobs.take(orphan.id, "dead", lease_s=60)
        row = await jobs.get(orphan.id)
        row.lease_expires_at = utcnow() - timedelta(seconds=1)
    async with session_scope(sessionmaker) as session:
        claimed = await JobRepo(session).claim_interrupted("w", lease_s=60, running_only=True)
        assert claimed == [orphan.id]
        assert (await JobRepo(session).get(queued.id)).worker_id is None
