"""The WebSocket connection logic without a socket: replay, dedupe, gap refill."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from atelier.api.routers.ws import Connection
from atelier.auth import Principal
from atelier.domain.events import Event
from atelier.domain.spec import Spec
from atelier.runtime.bus import InMemoryEventBus
from atelier.store import (
    EventLog,
    JobRepo,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))


async def test_live_events_are_deduplicated_and_gaps_refilled_from_the_log(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await migrate(url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with session_scope(sessionmaker) as session:
            user = await UserRepo(session).create("alice")
            job_id = (await JobRepo(session).create(user.id, Spec(prompt="p"))).id
            log = EventLog(session)
            stored = [
                await log.append(Event(job_id=job_id, type="log", data={"n": n}))
                for n in range(1, 7)
            ]
        bus = InMemoryEventBus()
        ws = FakeSocket()
        services = SimpleNamespace(sessionmaker=sessionmaker, bus=bus)
        conn = Connection(ws, services, Principal(user.id, "alice", "user"))  # type: ignore[arg-type]

        await conn.subscribe(job_id, since=2)
        replayed = [m["event"]["seq"] for m in ws.sent if m["type"] == "event"]
        assert replayed == [3, 4, 5, 6]
        assert ws.sent[-1] == {
            "type": "subscribed",
            "job_id": job_id,
            "last_seq": 6,
            "status": "queued",
        }

        forward = asyncio.create_task(conn.forward_live())
        async with session_scope(sessionmaker) as session:
            log = EventLog(session)
            later = [await log.append(Event(job_id=job_id, type="log")) for _ in range(3)]
        # The bus lost 7 and 8 (a slow consumer); 6 comes again (already sent).
        await bus.publish(stored[5])
        await bus.publish(later[2])
        for _ in range(100):
            if ws.sent[-1].get("event", {}).get("seq") == 9:
                break
            await asyncio.sleep(0.01)
        forward.cancel()
        seqs = [m["event"]["seq"] for m in ws.sent if m["type"] == "event"]
        assert seqs == [3, 4, 5, 6, 7, 8, 9]
        await conn.close()
        assert bus.subscriber_count(job_id) == 0
    finally:
        await engine.dispose()
