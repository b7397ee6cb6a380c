"""Fixtures of the API suite: the real app on SQLite and on PostgreSQL, real users.

Test modules import the fixtures they use from here. Jobs run through the real
pipeline, the scripted LLM provider and the real sandbox.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from api_scripts import write_script
from fastapi import FastAPI
from tests.pg import PG_HOST, empty_tables, find_admin_dsn, throwaway_database

from atelier.api.app import create_app
from atelier.settings import Settings
from atelier.store import ApiKeyRepo, UserRepo, migrate, session_scope

TERMINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="session")
def api_postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session, migrated, dropped at the end."""
    admin = asyncio.run(find_admin_dsn())
    if admin is None:
        pytest.fail(f"PostgreSQL is not reachable at {PG_HOST}")
    with throwaway_database(admin, "atelier_api", migrated=True) as url:
        yield url


@pytest.fixture(scope="session")
def api_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-sqlite") / "atelier.db"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database: the whole API suite runs once per engine."""
    if request.param == "sqlite":
        path = tmp_path / "atelier.db"
        shutil.copyfile(request.getfixturevalue("api_sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("api_postgres_url")
    empty_tables(url)
    return url


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    script = write_script(tmp_path / "default-script.json")
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "llm_provider": "scripted",
        "llm_script": script,
        "rate_limit": "100000/minute",
        "jwt_secret": "test-secret-" + "x" * 32,
        "log_level": "WARNING",
        "log_format": "json",
        "sandbox_timeout_s": 60,
        "coder_concurrency": 1,
        "max_concurrent_jobs": 2,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class User:
    id: str
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass
class Api:
    """The app under test, an HTTP client for it, and three users."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    tmp_path: Path
    admin: User
    alice: User
    bob: User
    scripts: dict[str, Path] = field(default_factory=dict)

    @property
    def services(self) -> Any:
        return self.app.state.services

    def script(self, name: str = "default", **kwargs: Any) -> str:
        if name not in self.scripts:
            self.scripts[name] = write_script(self.tmp_path / f"script-{name}.json", **kwargs)
        return str(self.scripts[name])

    async def create_job(
        self,
        user: User,
        prompt: str = "A calculator module.",
        script: str | None = None,
        **body: Any,
    ) -> str:
        options = body.pop("options", {})
        options.setdefault("script", script or self.script())
        r = await self.client.post(
            "/api/jobs", headers=user.headers, json={"prompt": prompt, "options": options, **body}
        )
        assert r.status_code == 202, r.text
        job_id: str = r.json()["job_id"]
        return job_id

    async def wait(
        self, job_id: str, user: User | None = None, timeout_s: float = 90.0
    ) -> dict[str, Any]:
        """Poll the job until it reaches a terminal status; return its body."""
        headers = (user or self.admin).headers
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            r = await self.client.get(f"/api/jobs/{job_id}", headers=headers)
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if body["status"] in TERMINAL:
                return body
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"job {job_id} still {body['status']} after {timeout_s}s")
            await asyncio.sleep(0.1)

    async def finished_job(self, user: User, **kwargs: Any) -> str:
        job_id = await self.create_job(user, **kwargs)
        body = await self.wait(job_id, user)
        assert body["status"] == "succeeded", body
        return job_id


async def add_user(app: FastAPI, name: str, role: str = "user") -> User:
    async with session_scope(app.state.services.sessionmaker) as session:
        row = await UserRepo(session).create(name, role)
        _key, plaintext = await ApiKeyRepo(session).create(row.id, "test")
    return User(row.id, name, plaintext)


async def _seed(app: FastAPI) -> tuple[User, User, User]:
    return (
        await add_user(app, "root", "admin"),
        await add_user(app, "alice"),
        await add_user(app, "bob"),
    )


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path, db_url)
    app = create_app(settings, ws_heartbeat_s=0.5)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://atelier.test") as c:
            admin, alice, bob = await _seed(app)
            yield Api(app, c, settings, tmp_path, admin, alice, bob)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    api: Api
    base_url: str
    ws_url: str


@pytest.fixture
async def live(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app served by a real uvicorn on a free port (for WebSocket clients)."""
    port = free_port()
    settings = make_settings(tmp_path, db_url, port=port)
    app = create_app(settings, ws_heartbeat_s=0.5)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            admin, alice, bob = await _seed(app)
            yield LiveServer(
                Api(app, client, settings, tmp_path, admin, alice, bob),
                base,
                f"ws://127.0.0.1:{port}/ws",
            )
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
