"""WebSocket /ws: live job events, replayed from the log then streamed, per job in order.

Protocol (JSON text frames):
- authenticate with ``?token=`` (JWT or API key), an ``X-API-Key`` header, or a first
  message ``{"action": "auth", "token": ...}``; the server answers ``{"type": "welcome"}``.
- ``{"action": "subscribe", "job_id", "since"?}`` → the stored events with seq > since,
  each ``{"type": "event", "event": {job_id, seq, type, step, data, ts}}``, then
  ``{"type": "subscribed", "job_id", "last_seq", "status"}``, then live events.
- ``{"action": "unsubscribe", "job_id"}``, ``{"action": "ping"}``.
- the server sends ``{"type": "heartbeat", "ts"}`` every `heartbeat_s` seconds, and
  ``{"type": "error", "error", "detail"}`` for a bad message or a job that is not
  yours (``not_found``, exactly as for a job that does not exist).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from atelier.api.deps import Services, authenticate, get_services
from atelier.api.schemas import MAX_INT, reject_unstorable
from atelier.auth import Principal
from atelier.domain.errors import AtelierError, NotFound, RateLimited, Unauthorized
from atelier.domain.events import Event
from atelier.observability.logging import get_logger
from atelier.store import EventLog, JobRepo, session_scope

router = APIRouter()
log = get_logger("atelier.ws")

AUTH_TIMEOUT_S = 10.0
REPLAY_PAGE = 1000
CLOSE_UNAUTHORIZED = 4401
CLOSE_RATE_LIMITED = 4429


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: str = Field(max_length=32)
    job_id: str | None = Field(default=None, max_length=64)
    since: int = Field(default=0, ge=0, le=MAX_INT)
    token: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        reject_unstorable(data, "message")
        return data


def event_message(event: Event) -> dict[str, Any]:
    return {"type": "event", "event": event.model_dump(mode="json")}


class EventTexts:
    """The wire text of recent events, serialised once for all their subscribers."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._texts: OrderedDict[tuple[str, int], str] = OrderedDict()

    def text(self, event: Event) -> str:
        key = (event.job_id, event.seq or 0)
        text = self._texts.get(key)
        if text is None:
            text = json.dumps(event_message(event), separators=(",", ":"))
            self._texts[key] = text
            if len(self._texts) > self.size:
                self._texts.popitem(last=False)
        return text


class OpenSockets:
    """How many WebSockets each user holds open in this process (ATELIER_WS_MAX_PER_USER)."""

    def __init__(self) -> None:
        self.by_user: dict[str, int] = {}

    def take(self, user_id: str, limit: int) -> bool:
        """Count one more socket of `user_id`; False (nothing counted) when at `limit`."""
        held = self.by_user.get(user_id, 0)
        if held >= limit:
            return False
        self.by_user[user_id] = held + 1
        return True

    def release(self, user_id: str) -> None:
        held = self.by_user.get(user_id, 0) - 1
        if held > 0:
            self.by_user[user_id] = held
        else:
            self.by_user.pop(user_id, None)


class Connection:
    """One authenticated WebSocket client and the jobs it watches."""

    def __init__(
        self, ws: WebSocket, services: Services, user: Principal, texts: EventTexts | None = None
    ) -> None:
        self.ws = ws
        self.texts = texts or EventTexts()
        self.services = services
        self.user = user
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10_000)
        self.last_seq: dict[str, int] = {}
        # Held while sending: a replay and live events of a job never interleave.
        self.lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message, separators=(",", ":")))

    async def error(self, code: str, detail: Any, **extra: Any) -> None:
        async with self.lock:
            await self.send({"type": "error", "error": code, "detail": detail, **extra})

    # --- subscriptions ------------------------------------------------------------
    async def subscribe(self, job_id: str, since: int) -> None:
        async with session_scope(self.services.sessionmaker) as session:
            row = await JobRepo(session).get_for_user(job_id, self.user)
            status = row.status
        async with self.lock:
            if job_id not in self.last_seq:
                await self.services.bus.subscribe(job_id, self.queue)
            self.last_seq[job_id] = since
            await self._send_stored(job_id, since, None)
            async with session_scope(self.services.sessionmaker) as session:
                status = (await JobRepo(session).get(job_id)).status
            await self.send(
                {
                    "type": "subscribed",
                    "job_id": job_id,
                    "last_seq": self.last_seq[job_id],
                    "status": status,
                }
            )

    async def unsubscribe(self, job_id: str) -> None:
        async with self.lock:
            if self.last_seq.pop(job_id, None) is not None:
                await self.services.bus.unsubscribe(job_id, self.queue)
            await self.send({"type": "unsubscribed", "job_id": job_id})

    async def close(self) -> None:
        for job_id in list(self.last_seq):
            await self.services.bus.unsubscribe(job_id, self.queue)
        self.last_seq.clear()

    async def _send_stored(self, job_id: str, after: int, until: int | None) -> None:
        """Send stored events with after < seq (<= until); caller holds the lock."""
        while True:
            async with session_scope(self.services.sessionmaker) as session:
                events = await EventLog(session).list(job_id, after, REPLAY_PAGE)
            for event in events:
                seq = event.seq or 0
                if until is not None and seq > until:
                    return
                await self.send(event_message(event))
                self.last_seq[job_id] = after = seq
            if len(events) < REPLAY_PAGE:
                return

    # --- loops --------------------------------------------------------------------
    async def forward_live(self) -> None:
        while True:
            event = await self.queue.get()
            async with self.lock:
                last = self.last_seq.get(event.job_id)
                seq = event.seq or 0
                if last is None or seq <= last:
                    continue  # unsubscribed, or already sent by the replay
                if seq > last + 1:
                    # Missed some (slow consumer or a dropped message): refill from the log.
                    await self._send_stored(event.job_id, last, seq - 1)
                await self.ws.send_text(self.texts.text(event))
                self.last_seq[event.job_id] = seq

    async def heartbeat(self, every_s: float) -> None:
        outages = getattr(self.services.bus, "outages", 0)
        while True:
            await asyncio.sleep(every_s)
            async with self.lock:
                await self.send({"type": "heartbeat", "ts": time.time()})
                now = getattr(self.services.bus, "outages", 0)
                if now != outages:
                    # The bus lost messages (Redis restarted): catch up from the log.
                    outages = now
                    for job_id, last in list(self.last_seq.items()):
                        await self._send_stored(job_id, last, None)

    async def read_commands(self) -> None:
        while True:
            raw = await self.ws.receive_text()
            try:
                message = _Message.model_validate_json(raw)
            except ValidationError as exc:
                await self.error("bad_request", exc.errors(include_url=False, include_input=False))
                continue
            await self.handle(message)

    async def handle(self, message: _Message) -> None:
        if message.action == "ping":
            async with self.lock:
                await self.send({"type": "pong", "ts": time.time()})
            return
        if message.action == "auth":
            await self.error("bad_request", "already authenticated")
            return
        if message.action not in ("subscribe", "unsubscribe"):
            await self.error("bad_request", f"unknown action {message.action!r}")
            return
        if not message.job_id:
            await self.error("bad_request", "job_id is required")
            return
        if message.action == "unsubscribe":
            await self.unsubscribe(message.job_id)
            return
        try:
            await self.subscribe(message.job_id, message.since)
        except NotFound:
            await self.error("not_found", f"job {message.job_id} not found", job_id=message.job_id)


async def _authenticate(ws: WebSocket, services: Services) -> Principal:
    token = ws.query_params.get("token")
    if not token and not ws.headers.get("x-api-key") and not ws.headers.get("authorization"):
        raw = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
        try:
            first = _Message.model_validate_json(raw)
        except ValidationError as exc:
            raise Unauthorized('first message must be {"action": "auth", "token"}') from exc
        if first.action != "auth" or not first.token:
            raise Unauthorized('first message must be {"action": "auth", "token"}')
        token = first.token
    return await authenticate(
        ws,
        services.sessionmaker,
        services.settings,
        token,
        services.principals,
        failures=services.sign_in_failures,
    )


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    services = await get_services(ws)
    heartbeat_s: float = getattr(ws.app.state, "ws_heartbeat_s", 15.0)
    await ws.accept()
    try:
        await services.limiter.check(ws)
        user = await _authenticate(ws, services)
    except RateLimited as exc:
        await ws.send_text(
            json.dumps(
                {
                    "type": "error",
                    "error": exc.code,
                    "detail": exc.detail,
                    "retry_after": exc.retry_after_s,
                }
            )
        )
        await ws.close(CLOSE_RATE_LIMITED)
        return
    except (AtelierError, TimeoutError) as exc:
        detail = exc.detail if isinstance(exc, AtelierError) else "no credentials in time"
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.send_text(
                json.dumps({"type": "error", "error": "unauthorized", "detail": detail})
            )
            await ws.close(CLOSE_UNAUTHORIZED)
        return
    except WebSocketDisconnect:
        return
    open_sockets: OpenSockets = ws.app.state.ws_open
    limit = services.settings.ws_max_per_user
    if not open_sockets.take(user.user_id, limit):
        detail = f"at most {limit} open WebSockets per user"
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.send_text(
                json.dumps({"type": "error", "error": "too_many_connections", "detail": detail})
            )
            await ws.close(CLOSE_RATE_LIMITED, detail)
        return
    conn = Connection(ws, services, user, ws.app.state.ws_event_texts)
    services.metrics.ws_connections.inc()
    tasks: list[asyncio.Task[None]] = []
    try:
        await conn.send(
            {
                "type": "welcome",
                "user": {"id": user.user_id, "name": user.name, "role": user.role},
                "heartbeat_s": heartbeat_s,
            }
        )
        tasks = [
            asyncio.create_task(conn.read_commands()),
            asyncio.create_task(conn.forward_live()),
            asyncio.create_task(conn.heartbeat(heartbeat_s)),
        ]
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            failure = task.exception()
            if failure is not None and not isinstance(failure, WebSocketDisconnect | RuntimeError):
                log.warning("websocket_failed", error=repr(failure))
    except WebSocketDisconnect:
        pass
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task
        await conn.close()
        open_sockets.release(user.user_id)
        services.metrics.ws_connections.dec()
