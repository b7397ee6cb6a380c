"""Engines, sessions and the unit of work.

`create_engine` knows the two supported engines: ``sqlite+aiosqlite:///path`` (WAL,
foreign keys on, a busy timeout so concurrent writers wait instead of failing) and
``postgresql+asyncpg://…``. Repositories only flush; the edge commits through
`session_scope`.
"""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from atelier.concurrency import run_to_completion

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The longest a transaction waits for the in-process write gate before it goes on and
# lets SQLite's own busy timeout decide (a writer stuck behind itself, in theory).
WRITE_GATE_TIMEOUT_S = SQLITE_BUSY_TIMEOUT_MS / 1000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_GATE_KEY = "atelier_write_gate"
# SQLite file connections kept open, at most, and none beyond (no overflow). Why kept:
# SQLAlchemy's default (5 kept + 10 overflow) closed an overflow connection as soon as
# it was checked in, and each one is an aiosqlite thread with its own page cache, so at
# every request burst threads and caches came and went. Why 5: each connection opened
# for good is a step of 0.5-2 MB of RSS, and bursts opened one more now and then for
# the better part of an hour (bench.soak, 25 min: +4.3 % after warm-up with 15); with 5
# the pool is full within the first minute and RSS is flat (10 min: +1.5 %, slope
# 0.11 MB/min) at the same p99 (71 vs 74 ms), since SQLite takes one writer at a time
# anyway (the write gate) and reads take milliseconds. Opened lazily: a quiet laptop
# holds one or two. `ATELIER_SQLITE_POOL_SIZE` overrides it.
SQLITE_POOL_SIZE = 5
# Page cache per SQLite connection, in KiB (SQLite's default is 2,000): a bound on what
# each kept connection holds as the database grows. Pages not cached are read from the
# OS page cache, which every connection shares.
SQLITE_CACHE_KIB = 512

# The session types, named once so layers above the store need not import SQLAlchemy.
SessionMaker: TypeAlias = async_sessionmaker[AsyncSession]


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory SQLite."""
    if make_url(url).get_backend_name() != "sqlite":
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(
    url: str, *, echo: bool = False, sqlite_pool_size: int = SQLITE_POOL_SIZE
) -> AsyncEngine:
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
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        pool_args: dict[str, Any] = (
            {"pool_size": sqlite_pool_size, "max_overflow": 0} if path is not None else {}
        )
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool_args,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(wal=path is not None))
        event.listen(engine.sync_engine, "handle_error", _keep_connection_on_cancel)
        _install_write_gate(engine)
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
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    return on_connect


def _keep_connection_on_cancel(context: ExceptionContext) -> None:
    """A statement interrupted by a cancellation does not make a SQLite connection
    unusable: keep it, so the session's rollback ends its transaction.

    Why: SQLAlchemy treats a cancellation during a statement as a lost connection and
    closes it without a rollback. aiosqlite still finishes the statement in its
    thread, so nothing is lost — but a cursor of the interrupted statement that is
    still referenced (from the cancellation's traceback) turns the close into a
    "zombie" close (sqlite3_close_v2), which keeps the connection's open transaction,
    and with it the database's write lock, until the garbage collector frees that
    cursor. Every other writer fails "database is locked" meanwhile.
    """
    if not isinstance(context.original_exception, Exception):  # CancelledError & co
        context.is_disconnect = False


class _WriteGate:
    """One writer at a time per SQLite engine, queued in the event loop.

    SQLite takes one write lock per database. Without the gate, concurrent writers
    that find it taken wait in SQLite's busy handler, which sleeps in growing steps
    (up to 100 ms each) instead of waking when the lock is released: under load that
    turns a 1 ms transaction into a second. With it, a transaction takes the gate at
    its first write statement and gives it back with its commit or rollback (or when
    its connection leaves the pool's hands), and the next writer starts at once.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    def before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = conn.info
        if info.get(_GATE_KEY) or not statement.lstrip()[:7].upper().startswith(_WRITES):
            return
        # Free: returns without a trip through the loop. Taken: queue for it.
        if await_only(self._acquire()):
            info[_GATE_KEY] = True

    async def _acquire(self) -> bool:
        # asyncio.timeout, not wait_for: a cancellation never loses an acquired lock.
        try:
            async with asyncio.timeout(WRITE_GATE_TIMEOUT_S):
                await self.lock.acquire()
        except TimeoutError:
            return False  # go on ungated; SQLite's busy timeout still applies
        return True

    def _release(self, info: Any) -> None:
        if info is not None and info.pop(_GATE_KEY, False) and self.lock.locked():
            self.lock.release()

    def end_transaction(self, conn: Any) -> None:
        try:
            info = conn.info
        except SQLAlchemyError:
            return  # an invalidated connection: the pool's "invalidate" event releases
        self._release(info)

    def release(self, _dbapi_connection: Any, record: Any, *_args: Any) -> None:
        self._release(getattr(record, "info", None))


def _install_write_gate(engine: AsyncEngine) -> None:
    gate = _WriteGate()
    event.listen(engine.sync_engine, "before_cursor_execute", gate.before_execute)
    # The next writer is let in as the COMMIT (or ROLLBACK) is sent: by the time its
    # first statement reaches SQLite, that short call is over (in WAL mode with
    # synchronous=NORMAL a commit does not fsync), and SQLite's lock still decides.
    for name in ("commit", "rollback"):
        event.listen(engine.sync_engine, name, gate.end_transaction)
    for name in ("checkin", "close", "invalidate", "soft_invalidate", "detach"):
        event.listen(engine.sync_engine.pool, name, gate.release)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory whose rows stay readable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session that commits when the block succeeds and rolls back when it raises.

    The exception is re-raised after the rollback; a failing commit raises too. The
    commit, the rollback and the close each run to their end even when the task is
    cancelled meanwhile; the cancellation is delivered after them. Cut short, they
    would leave the connection mid-transaction (see `_keep_connection_on_cancel`).
    """
    session = sessionmaker()
    try:
        try:
            yield session
        except BaseException:
            await run_to_completion(session.rollback())
            raise
        await run_to_completion(session.commit())
    finally:
        await run_to_completion(session.close())


# What a database that is down, restarting or full raises through SQLAlchemy and the
# drivers (asyncpg connects raise plain OSErrors): the API handles these classes, and
# `database_unavailable` tells an outage from a bug among them.
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, OSError)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database cannot serve right now —
    down, restarting, connection lost, disk full, locked — rather than a bug: the API
    answers 503 for it instead of 500."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, ConnectionError):  # refused, reset (asyncpg connects raw)
            return True
        if type(current).__module__.startswith("asyncpg") and type(current).__name__ in (
            "CannotConnectNowError", "ConnectionDoesNotExistError", "AdminShutdownError",
            "ConnectionFailureError", "InterfaceError",
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


# ENOSPC: no space left on the device; EDQUOT: the user's disk quota is used up — the
# same for whoever has to write.
_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# SQLITE_FULL's message: the drivers re-wrap sqlite3's error in their own classes, and
# only the innermost one carries the code.
_SQLITE_FULL_MESSAGE = "database or disk is full"


def disk_full(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is a write refused for want of disk space:
    an OSError ENOSPC/EDQUOT, or SQLite's "database or disk is full". PostgreSQL's own
    disk is the database server's business: its errors stay `database_unavailable`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_SPACE_ERRNOS:
            return True
        if getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if _SQLITE_FULL_MESSAGE in str(current):
            return True
        if isinstance(current, DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False
