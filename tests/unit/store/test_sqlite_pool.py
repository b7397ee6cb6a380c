"""SQLite file connections are kept once opened: a burst of requests must not open and
close connections (each an aiosqlite thread with its own page cache) again and again.

With SQLAlchemy's default pool (5 kept + 10 overflow), every burst above five opened
overflow connections that were closed at check-in; the server's heap grew a step at
each burst (bench.soak). The pool is capped instead: a burst beyond it waits.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text

from atelier.settings import Settings
from atelier.store import create_engine, create_sessionmaker, session_scope
from atelier.store.db import SQLITE_CACHE_KIB, SQLITE_POOL_SIZE

BURST = 12  # above SQLAlchemy's five kept connections


async def test_a_second_burst_reuses_the_connections_of_the_first(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", sqlite_pool_size=BURST)
    opened: list[Any] = []
    closed: list[Any] = []
    event.listen(engine.sync_engine.pool, "connect", lambda conn, _rec: opened.append(conn))
    event.listen(engine.sync_engine.pool, "close", lambda conn, _rec: closed.append(conn))
    sessionmaker = create_sessionmaker(engine)
    everyone_in = asyncio.Barrier(BURST)

    async def request() -> None:
        async with session_scope(sessionmaker) as session:
            # Each kept connection's page cache is bounded.
            cache = (await session.execute(text("PRAGMA cache_size"))).scalar()
            assert cache == -SQLITE_CACHE_KIB
            await everyone_in.wait()  # all BURST connections checked out at once

    try:
        await asyncio.gather(*(request() for _ in range(BURST)))
        first_burst = len(opened)
        threads_after_first = threading.active_count()
        everyone_in = asyncio.Barrier(BURST)
        await asyncio.gather(*(request() for _ in range(BURST)))

        assert first_burst == BURST
        assert len(opened) == BURST, "the second burst opened new connections"
        assert closed == [], "connections were closed at check-in"
        assert threading.active_count() == threads_after_first
    finally:
        await engine.dispose()


async def test_the_pool_is_capped_and_waits_instead_of_overflowing(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cap.db'}")
    sessionmaker = create_sessionmaker(engine)
    release = asyncio.Event()
    inside = 0
    most_inside = 0

    async def request() -> None:
        nonlocal inside, most_inside
        async with session_scope(sessionmaker) as session:
            await session.execute(text("SELECT 1"))
            inside += 1
            most_inside = max(most_inside, inside)
            await release.wait()
            inside -= 1

    try:
        tasks = [asyncio.create_task(request()) for _ in range(SQLITE_POOL_SIZE + 3)]
        while inside < SQLITE_POOL_SIZE:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # the three beyond the cap would have got in by now
        assert inside == SQLITE_POOL_SIZE
        release.set()
        await asyncio.gather(*tasks)  # the waiting ones get a connection as others leave
        assert most_inside == SQLITE_POOL_SIZE
    finally:
        await engine.dispose()


def test_the_pool_size_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_SQLITE_POOL_SIZE", "8")
    assert Settings(_env_file=None).sqlite_pool_size == 8  # type: ignore[call-arg]
    monkeypatch.setenv("ATELIER_SQLITE_POOL_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
