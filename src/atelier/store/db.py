"""Engines, sessions and the unit of work.

`create_engine` knows the two supported engines: ``sqlite+aiosqlite:///path`` (WAL,
foreign keys on, a busy timeout so concurrent writers wait instead of failing) and
``postgresql+asyncpg://…``. Repositories only flush; the edge commits through
`session_scope`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000

# The session types, named once so layers above the store need not import SQLAlchemy.
SessionMaker: TypeAlias = async_sessionmaker[AsyncSession]


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`, configured for its backend.

    For a SQLite file the parent directory is created. Raises ValueError for a URL
    that is neither ``sqlite+aiosqlite`` nor ``postgresql+asyncpg``.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = parsed.get_driver_name()
    if backend == "sqlite":
        if driver != "aiosqlite":
            raise ValueError(f"SQLite needs the aiosqlite driver (got {url!r})")
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(wal=path is not None))
        return engine
    if backend == "postgresql":
        if driver != "asyncpg":
            raise ValueError(f"PostgreSQL needs the asyncpg driver (got {url!r})")
        return create_async_engine(url, echo=echo, pool_pre_ping=True)
    raise ValueError(f"unsupported database {url!r}: use sqlite+aiosqlite or postgresql+asyncpg")


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return on_connect


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose rows stay readable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that commits when the block succeeds and rolls back when it raises.

    The exception is re-raised after the rollback; a failing commit raises too.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
