"""Store fixtures: every test runs on a fresh, migrated SQLite file and on PostgreSQL.

PostgreSQL (127.0.0.1:5432, trust auth, user postgres or root) gets one throwaway
database per test session, migrated once and truncated before each test; the
``postgresql`` cases are marked ``integration`` and skipped only when the server is
unreachable.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from atelier.domain.spec import Spec
from atelier.store import (
    SessionMaker,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)
from atelier.store.models import Base

PG_HOST = "127.0.0.1:5432"
PG_USERS = ("postgres", "root")


async def _pg_admin_dsn() -> str | None:
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


async def _pg_exec(dsn: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> str:
    """A DSN (asyncpg form) of a PostgreSQL database we may create databases from."""
    admin = asyncio.run(_pg_admin_dsn())
    if admin is None:
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST} (users {PG_USERS})")
    return admin


@pytest.fixture
def fresh_postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    """An empty, unmigrated PostgreSQL database for this test only."""
    name = f"atelier_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(postgres_admin_dsn, f'CREATE DATABASE "{name}"'))
    base = postgres_admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_exec(postgres_admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    """A freshly created and migrated PostgreSQL database, dropped at the end."""
    admin = postgres_admin_dsn
    name = f"atelier_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(admin, f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
    try:
        asyncio.run(migrate(url))
        yield url
    finally:
        asyncio.run(_pg_exec(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "atelier.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "atelier.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    # DELETE is much faster than TRUNCATE on tables this small.
    wipe = "; ".join(f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    admin = url.replace("postgresql+asyncpg://", "postgresql://")
    asyncio.run(_pg_exec(admin, wipe))
    return url


@pytest.fixture
async def sessionmaker(db_url: str) -> AsyncIterator[SessionMaker]:
    engine = create_engine(db_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def user_id(sessionmaker: SessionMaker) -> str:
    """An existing ordinary user."""
    async with session_scope(sessionmaker) as session:
        return (await UserRepo(session).create("alice")).id


@pytest.fixture
def spec() -> Spec:
    return Spec(prompt="a CLI that counts words")
