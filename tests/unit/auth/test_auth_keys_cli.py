"""`atelier keys create | list | revoke` against a temporary data dir."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier.cli.keys import keys_app
from atelier.settings import Settings
from atelier.store import ApiKeyRepo, create_engine, create_sessionmaker, session_scope


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("ATELIER_DATA_DIR", str(path))
    monkeypatch.delenv("ATELIER_DATABASE_URL", raising=False)
    return path


def _authenticates(data_dir: Path, plaintext: str) -> str | None:
    async def check() -> str | None:
        engine = create_engine(Settings(data_dir=data_dir).effective_database_url)
        try:
            async with session_scope(create_sessionmaker(engine)) as session:
                user = await ApiKeyRepo(session).authenticate(plaintext)
                return None if user is None else f"{user.name}:{user.role}"
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_create_prints_the_key_alone_on_the_last_line(data_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(keys_app, ["create", "--name", "root", "--admin"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("atl_") and " " not in key
    assert (data_dir / "atelier.db").exists()
    assert _authenticates(data_dir, key) == "root:admin"

    again = runner.invoke(keys_app, ["create", "--name", "root"])
    second = again.stdout.strip().splitlines()[-1]
    assert again.exit_code == 0 and second != key and "exists" in again.stdout
    assert _authenticates(data_dir, second) == "root:admin"


def test_list_and_revoke(data_dir: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(keys_app, ["create", "--name", "alice", "--key-name", "laptop"])
    key = created.stdout.strip().splitlines()[-1]
    prefix = "_".join(key.split("_")[:2])

    listed = runner.invoke(keys_app, ["list"])
    assert listed.exit_code == 0
    assert prefix in listed.stdout and "alice" in listed.stdout and "active" in listed.stdout
    assert key not in listed.stdout

    revoked = runner.invoke(keys_app, ["revoke", prefix])
    assert revoked.exit_code == 0 and f"revoked {prefix}" in revoked.stdout
    assert "revoked" in runner.invoke(keys_app, ["list", "--user", "alice"]).stdout
    assert _authenticates(data_dir, key) is None

    missing = runner.invoke(keys_app, ["revoke", "atl_ffffffff"])
    assert missing.exit_code == 1 and "not found" in missing.output
