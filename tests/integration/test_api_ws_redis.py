"""Two service processes' worth of apps on one database and Redis: a job run by one
is watched live over the other's WebSocket (the Redis event bus), and the Redis-backed
rate limiter counts across both."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from api_harness import (
    add_user,
    api_postgres_url,
    api_sqlite_template,
    db_url,
    free_port,
    make_settings,
)
from fastapi import FastAPI

from atelier.api.app import create_app

__all__ = ["api_postgres_url", "api_sqlite_template", "db_url"]

pytestmark = pytest.mark.integration


@pytest.fixture
async def two_apps(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[FastAPI, FastAPI, int]]:
    port = free_port()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    common: dict[str, Any] = {
        "event_bus": "redis",
        "redis_url": "redis://127.0.0.1:6379/0",
        "rate_limit": f"{10_000 + uuid.uuid4().int % 1000}/minute",
    }
    worker = create_app(make_settings(tmp_path / "a", db_url, **common))
    watcher = create_app(
        make_settings(tmp_path / "b", db_url, port=port, **common), ws_heartbeat_s=5
    )
    server = uvicorn.Server(
        uvicorn.Config(watcher, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    async with worker.router.lifespan_context(worker):
        task = asyncio.create_task(server.serve())
        try:
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            assert server.started
            yield worker, watcher, port
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 30)


async def test_events_of_a_job_run_elsewhere_arrive_over_redis(
    two_apps: tuple[FastAPI, FastAPI, int], tmp_path: Path
) -> None:
    worker, _watcher, port = two_apps
    alice = await add_user(worker, "alice")
    script = worker.state.services.settings.llm_script
    transport = httpx.ASGITransport(app=worker)
    async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
        slow = tmp_path / "slow.json"
        data = json.loads(Path(script).read_text())
        slow.write_text(json.dumps({**data, "delay_s": 0.4}))
        r = await client.post(
            "/api/jobs",
            headers=alice.headers,
            json={"prompt": "calc", "options": {"script": str(slow)}},
        )
        assert r.status_code == 202
        job_id = r.json()["job_id"]

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws?token={alice.key}") as ws:
        assert json.loads(await ws.recv())["type"] == "welcome"
        await ws.send(json.dumps({"action": "subscribe", "job_id": job_id}))
        seen: list[dict[str, Any]] = []
        subscribed_at = None
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message["type"] == "subscribed":
                subscribed_at = len(seen)
            elif message["type"] == "event":
                seen.append(message["event"])
                if message["event"]["type"] == "job_finished":
                    break
    assert subscribed_at is not None and len(seen) > subscribed_at, "live events came via Redis"
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert seen[-1]["data"]["status"] == "succeeded"
