"""Concurrent writers (SQLite queues them in the event loop): none fails, none is lost,
and a transaction that ends in a rollback or an error lets the next writer in."""

from __future__ import annotations

import asyncio

import pytest

from atelier.domain.events import Event
from atelier.domain.spec import Spec
from atelier.store import EventLog, JobRepo, SessionMaker, session_scope


async def _job_with_events(sessionmaker: SessionMaker, user_id: str, spec: Spec) -> str:
    async with session_scope(sessionmaker) as session:
        row = await JobRepo(session).create(user_id, spec)
        await EventLog(session).append(Event(job_id=row.id, type="job_queued"))
    for _ in range(2):
        async with session_scope(sessionmaker) as session:
            await EventLog(session).append(Event(job_id=row.id, type="log"))
    return row.id


async def test_many_concurrent_writers_all_commit(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    async with asyncio.timeout(60):
        job_ids = await asyncio.gather(
            *(_job_with_events(sessionmaker, user_id, spec) for _ in range(30))
        )
    async with session_scope(sessionmaker) as session:
        log = EventLog(session)
        for job_id in job_ids:
            assert [e.seq for e in await log.list(job_id)] == [1, 2, 3]


async def test_a_failed_write_transaction_lets_the_next_writer_in(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    with pytest.raises(RuntimeError):
        async with session_scope(sessionmaker) as session:
            await JobRepo(session).create(user_id, spec)
            raise RuntimeError("boom")
    async with sessionmaker() as session:
        await JobRepo(session).create(user_id, spec)  # closed without commit
    async with asyncio.timeout(5):
        job_id = await _job_with_events(sessionmaker, user_id, spec)
    async with session_scope(sessionmaker) as session:
        assert (await JobRepo(session).get(job_id)).status == "queued"
