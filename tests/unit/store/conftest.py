"""Store fixtures: every test runs on a fresh, migrated SQLite file and on PostgreSQL.

PostgreSQL (127.0.0.1:5432, trust auth, user postgres or root) gets one throwaway
database per test session, migrated once and truncated before each test; the
``postgresql`` cases are marked ``integration`` and skipped only when the server is
unreachable.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from tests.pg import PG_HOST, PG_USERS, empty_tables, find_admin_dsn, throwaway_database

from atelier.domain.spec import Spec
from atelier.store import (
    SessionMaker,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)


@pytest.fixture(scope="session")
def postgres_admin_dsn() -> str:
    """A DSN (asyncpg form) of a PostgreSQL database we may create databases from."""
    admin = asyncio.run(find_admin_dsn())
    if admin is None:
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST} (users {PG_USERS})")
    return admin


@pytest.fixture
def fresh_postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    """An empty, unmigrated PostgreSQL database for this test only."""
    with throwaway_database(postgres_admin_dsn, "atelier_test", migrated=False) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_dsn: str) -> Iterator[str]:
    """A freshly created and migrated PostgreSQL database, dropped at the end."""
    with throwaway_database(postgres_admin_dsn, "atelier_test", migrated=True) as url:
        yield url


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
    empty_tables(url)
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
