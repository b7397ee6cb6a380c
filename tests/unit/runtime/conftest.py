"""Runtime fixtures: a fresh, migrated SQLite file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from atelier.store import SessionMaker, create_engine, create_sessionmaker, migrate


@pytest.fixture
async def sessionmaker(tmp_path: Path) -> AsyncIterator[SessionMaker]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'atelier.db'}"
    await migrate(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
