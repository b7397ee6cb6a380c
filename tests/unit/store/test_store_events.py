"""The event log numbers each job's events 1..n, with no gaps, also under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from atelier.domain.errors import NotFound
from atelier.domain.events import Event
from atelier.domain.spec import Spec
from atelier.store import EventLog, JobRepo, SessionMaker, session_scope


async def _job(sessionmaker: SessionMaker, user_id: str, spec: Spec) -> str:
    async with session_scope(sessionmaker) as session:
        return (await JobRepo(session).create(user_id, spec)).id


async def test_append_assigns_seq_and_list_reads_in_order(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    async with session_scope(sessionmaker) as session:
        log = EventLog(session)
        first = await log.append(Event(job_id=job_id, type="job_queued"))
        second = await log.append(
            Event(job_id=job_id, type="step_started", step="plan", data={"n": 1})
        )
    assert (first.seq, second.seq) == (1, 2)
    async with session_scope(sessionmaker) as session:
        log = EventLog(session)
        events = await log.list(job_id)
        assert [e.seq for e in events] == [1, 2]
        assert events[1].step == "plan" and events[1].data == {"n": 1}
        assert events[1].ts == pytest.approx(second.ts)
        assert [e.seq for e in await log.list(job_id, since=1)] == [2]
        assert [e.seq for e in await log.list(job_id, limit=1)] == [1]
        assert await log.last_seq(job_id) == 2


async def test_sequences_are_per_job(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    a = await _job(sessionmaker, user_id, spec)
    b = await _job(sessionmaker, user_id, spec)
    async with session_scope(sessionmaker) as session:
        log = EventLog(session)
        seqs = [(await log.append(Event(job_id=j, type="log"))).seq for j in (a, b, a, b, a)]
    assert seqs == [1, 1, 2, 2, 3]


async def test_fifty_concurrent_appends_get_1_to_50(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)

    async def append(i: int) -> int:
        async with session_scope(sessionmaker) as session:
            event = await EventLog(session).append(
                Event(job_id=job_id, type="log", data={"i": i})
            )
            await asyncio.sleep(0)  # hold the transaction open across a yield
            assert event.seq is not None
            return event.seq

    seqs = await asyncio.gather(*(append(i) for i in range(50)))
    assert sorted(seqs) == list(range(1, 51))
    async with session_scope(sessionmaker) as session:
        stored = await EventLog(session).list(job_id)
    assert [e.seq for e in stored] == list(range(1, 51))
    assert sorted(e.data["i"] for e in stored) == list(range(50))


async def test_rolled_back_append_leaves_no_gap(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    with pytest.raises(RuntimeError):
        async with session_scope(sessionmaker) as session:
            await EventLog(session).append(Event(job_id=job_id, type="log"))
            raise RuntimeError("edge failed")
    async with session_scope(sessionmaker) as session:
        assert (await EventLog(session).append(Event(job_id=job_id, type="log"))).seq == 1


async def test_append_to_unknown_job_is_not_found(sessionmaker: SessionMaker) -> None:
    with pytest.raises(NotFound):
        async with session_scope(sessionmaker) as session:
            await EventLog(session).append(Event(job_id="nope", type="log"))
