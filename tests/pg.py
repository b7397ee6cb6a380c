"""Throwaway PostgreSQL databases for the store and API suites.

The server is the local one (127.0.0.1:5432, trust auth). Each suite decides for
itself what an unreachable server means (the store suite skips, the API suite
fails), so nothing here calls ``pytest``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from atelier.store import migrate
from atelier.store.models import Base

PG_HOST = "127.0.0.1:5432"
PG_USERS = ("postgres", "root")

_ASYNCPG_SCHEME = "postgresql+asyncpg://"
_PLAIN_SCHEME = "postgresql://"


async def find_admin_dsn() -> str | None:
    """A DSN (asyncpg form) of a database we may create databases from, or None."""
    import asyncpg  # type: ignore[import-untyped]

    for user in PG_USERS:
        for db in ("test", "postgres"):
            dsn = f"postgresql://{user}@{PG_HOST}/{db}"
            try:
                conn = await asyncpg.connect(dsn, timeout=3)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                continue
            await conn.close()
            return dsn
    return None


async def execute(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_database(admin_dsn: str, prefix: str, *, migrated: bool) -> Iterator[str]:
    """Create a database named ``<prefix>_<random>``, yield its SQLAlchemy URL, drop it.

    ``WITH (FORCE)`` because a test that failed may leave connections open.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    url = admin_dsn.rsplit("/", 1)[0].replace(_PLAIN_SCHEME, _ASYNCPG_SCHEME) + "/" + name
    try:
        if migrated:
            asyncio.run(migrate(url))
        yield url
    finally:
        asyncio.run(execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def empty_tables(url: str) -> None:
    """Delete every row of a migrated database, children before parents."""
    # DELETE is much faster than TRUNCATE on tables this small.
    wipe = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    asyncio.run(execute(url.replace(_ASYNCPG_SCHEME, _PLAIN_SCHEME), wipe))
