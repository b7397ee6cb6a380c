"""The migration creates exactly the schema the models describe, on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from atelier.store import SessionMaker, create_engine, migrate
from atelier.store.migrate import alembic_config, current_revision
from atelier.store.models import Base

HEAD = "0003"
TABLES = {
    "users", "api_keys", "jobs", "job_counters", "checkpoints", "events", "llm_calls",
    "blobs", "versions", "version_files", "templates", "audit_log", "user_quotas",
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
    assert await current_revision(db_url) == HEAD


async def test_migrate_creates_a_fresh_sqlite_file(tmp_path: Any) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'fresh.db'}"
    assert await current_revision(url) is None
    await migrate(url)
    assert await current_revision(url) == HEAD


async def _job_columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("jobs")})
    finally:
        await engine.dispose()


async def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    config = alembic_config(url)

    def run(sync: Any) -> None:
        config.attributes["connection"] = sync
        command.downgrade(config, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


async def _verdict_migration_keeps_existing_jobs(url: str) -> None:
    """0001 → 0002 → 0001 on a database holding a job and its event: the verdict columns
    come and go, the job stays unjudged (NULL), and nothing hanging off it is lost."""
    await migrate(url, "0001")
    assert not {"verdict", "verdict_detail"} & await _job_columns(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO users (id, name, role, active, created_at) "
                "VALUES ('u1', 'alice', 'user', true, CURRENT_TIMESTAMP)"))
            await conn.execute(text(
                "INSERT INTO jobs (id, user_id, status, spec, progress, steps, usage, tests, "
                "created_at, attempts) VALUES ('j1', 'u1', 'succeeded', '{}', 1.0, '{}', '{}', "
                "'{}', CURRENT_TIMESTAMP, 1)"))
            await conn.execute(text(
                "INSERT INTO events (job_id, seq, type, data, ts) "
                "VALUES ('j1', 1, 'job_started', '{}', 0)"))
        await migrate(url)
        assert {"verdict", "verdict_detail"} <= await _job_columns(url)
        async with engine.connect() as conn:
            row = (await conn.execute(text(
                "SELECT status, verdict, verdict_detail FROM jobs WHERE id = 'j1'"))).one()
        assert tuple(row) == ("succeeded", None, None)
        await _downgrade(url, "0001")
        assert not {"verdict", "verdict_detail"} & await _job_columns(url)
        async with engine.connect() as conn:
            events = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
        assert events == 1
    finally:
        await engine.dispose()


async def test_the_verdict_migration_up_and_down_keeps_existing_jobs_on_sqlite(
    tmp_path: Any,
) -> None:
    await _verdict_migration_keeps_existing_jobs(f"sqlite+aiosqlite:///{tmp_path / 'v.db'}")


@pytest.mark.integration
async def test_the_verdict_migration_up_and_down_keeps_existing_jobs_on_postgres(
    fresh_postgres_url: str,
) -> None:
    await _verdict_migration_keeps_existing_jobs(fresh_postgres_url)


@pytest.mark.integration
async def test_concurrent_migrations_on_postgres_serialise(fresh_postgres_url: str) -> None:
    await asyncio.gather(*(migrate(fresh_postgres_url) for _ in range(3)))
    assert await current_revision(fresh_postgres_url) == HEAD


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


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_audit_and_quota_migration_goes_down_and_up(db_url: str) -> None:
    await migrate(db_url)
    assert {"audit_log", "user_quotas"} <= await _tables(db_url)
    await _downgrade(db_url, "0002")
    assert not {"audit_log", "user_quotas"} & await _tables(db_url)
    await migrate(db_url)
    assert {"audit_log", "user_quotas"} <= await _tables(db_url)
    assert await current_revision(db_url) == HEAD
