"""Running the Alembic migrations from code (`make run`, `atelier migrate`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from atelier.settings import Settings
from atelier.store.db import create_engine

# migrations/ and alembic.ini live at the repository root (src/atelier/store → ../../..).
REPO_ROOT = Path(__file__).resolve().parents[3]
MIGRATIONS_DIR = REPO_ROOT / "migrations"
# Arbitrary, fixed key of the PostgreSQL advisory lock held while migrating.
MIGRATION_LOCK = 0x41_54_45_4C  # "ATEL"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` pointing at the repository's migrations.

    Raises FileNotFoundError when the migrations directory is missing (a
    non-editable install without the repository).
    """
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise FileNotFoundError(f"Alembic migrations not found at {MIGRATIONS_DIR}")
    ini = REPO_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.is_file() else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url
    return config


async def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database at `url` (default: the settings' database) to `revision`.

    Idempotent, and safe to call from several processes at once on PostgreSQL (an
    advisory lock serialises them). Raises whatever the driver raises when the
    database is unreachable, FileNotFoundError when the migrations are missing.
    """
    url = url or Settings().effective_database_url
    config = alembic_config(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, config, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, config: Config, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        # Replicas starting at once would race to create the same tables: the first
        # migrates, the others wait here and then find the database at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    # env.py runs on this connection instead of opening its own (and its own loop).
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(url: str | None = None) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    url = url or Settings().effective_database_url
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
