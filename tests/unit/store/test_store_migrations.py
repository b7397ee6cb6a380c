"""The migration creates exactly the schema the models describe, on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from atelier.store import SessionMaker, migrate
from atelier.store.migrate import current_revision
from atelier.store.models import Base

TABLES = {
    "users", "api_keys", "jobs", "job_counters", "checkpoints", "events", "llm_calls",
    "blobs", "versions", "version_files", "templates",
}


async def test_migration_creates_every_table(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        conn = await session.connection()
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert names >= TABLES
    assert "alembic_version" in names


async def test_migration_matches_models(sessionmaker: SessionMaker) -> None:
    def diff(sync: Any) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with sessionmaker() as session:
        conn = await session.connection()
        assert await conn.run_sync(diff) == []


async def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    await migrate(db_url)
    assert await current_revision(db_url) == "0001"


async def test_migrate_creates_a_fresh_sqlite_file(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'fresh.db'}"
    assert await current_revision(url) is None
    await migrate(url)
    assert await current_revision(url) == "0001"


@pytest.mark.integration
async def test_concurrent_migrations_on_postgres_serialise(fresh_postgres_url: str) -> None:
    await asyncio.gather(*(migrate(fresh_postgres_url) for _ in range(3)))
    assert await current_revision(fresh_postgres_url) == "0001"


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Any) -> None:
    from atelier.store import create_engine

    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
    finally:
        await engine.dispose()


def test_unsupported_urls_are_refused() -> None:
    from atelier.store import create_engine

    for url in ("sqlite:///x.db", "postgresql://u@h/db", "mysql+aiomysql://u@h/db"):
        with pytest.raises(ValueError):
            create_engine(url)
