"""Auth fixtures: settings with a temporary data dir and a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atelier.settings import Settings
from atelier.store import SessionMaker, create_engine, create_sessionmaker, migrate


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", jwt_ttl_s=600)


@pytest.fixture
async def sessionmaker(settings: Settings) -> AsyncIterator[SessionMaker]:
    url = settings.effective_database_url
    await migrate(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
