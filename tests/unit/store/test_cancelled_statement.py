"""A statement cut short by a cancellation must not leave SQLite's write lock behind.

SQLAlchemy used to treat the cancellation as a lost connection and close it without a
rollback; with a cursor of the interrupted statement still referenced, SQLite's close
became a "zombie" close that kept the open transaction — and the database's write
lock — until the garbage collector freed that cursor (seen as "database is locked"
after a runner restart).
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from atelier.store import create_engine, create_sessionmaker, session_scope

# A SELECT that takes long enough (hundreds of ms) to be cancelled while it runs.
SLOW_SELECT = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) "
    "SELECT i FROM n WHERE i % 1000000 = 0"
)


@pytest.fixture
def no_gc() -> Iterator[None]:
    # The defect hid behind any collection: the collector closed the zombie.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def can_write(path: Path) -> bool:
    con = sqlite3.connect(path, timeout=0.5)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        con.close()


async def test_a_statement_cancelled_mid_transaction_releases_the_write_lock(
    tmp_path: Path, no_gc: None
) -> None:
    path = tmp_path / "lock.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        sessionmaker = create_sessionmaker(engine)
        started = asyncio.Event()

        async def write_then_read() -> None:
            async with session_scope(sessionmaker) as session:
                await session.execute(text("INSERT INTO t (v) VALUES ('x')"))  # takes the lock
                started.set()
                await session.execute(text(SLOW_SELECT))

        task = asyncio.create_task(write_then_read())
        await started.wait()
        await asyncio.sleep(0.05)  # inside the slow SELECT
        task.cancel()
        outcome = await asyncio.gather(task, return_exceptions=True)
        assert isinstance(outcome[0], asyncio.CancelledError)
        # The cancelled unit of work is rolled back, the lock free for the next writer
        # at once — not after a garbage collection.
        assert await asyncio.to_thread(can_write, path)
        async with session_scope(sessionmaker) as session:
            count = (await session.execute(text("SELECT count(*) FROM t"))).scalar_one()
        assert count == 0
        del outcome
    finally:
        await engine.dispose()
