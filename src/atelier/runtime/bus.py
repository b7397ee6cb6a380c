"""The event bus: live job events from whoever runs the job to whoever watches it.

The event log in the database is the record; the bus only carries events that are
already in it, so a subscriber that falls behind (or misses one) fills the gap from
the log by sequence number. `InMemoryEventBus` serves one process; `RedisEventBus`
fans out across API replicas and workers over Redis pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any, Protocol

from atelier.domain.events import Event
from atelier.observability.logging import get_logger
from atelier.settings import Settings

log = get_logger("atelier.bus")

SUBSCRIBER_QUEUE_SIZE = 10_000
CHANNEL_PREFIX = "atelier:events:"


class EventBus(Protocol):
    """Publish a job's events; deliver them to every queue subscribed to that job."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    async def subscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None: ...

    async def unsubscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None: ...


class _LocalFanout:
    """Per-process subscriber registry shared by both buses."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    def add(self, job_id: str, queue: asyncio.Queue[Event]) -> bool:
        """Register; True when this is the job's first local subscriber."""
        first = not self._subscribers.get(job_id)
        self._subscribers[job_id].add(queue)
        return first

    def remove(self, job_id: str, queue: asyncio.Queue[Event]) -> bool:
        """Unregister; True when the job has no local subscriber left."""
        queues = self._subscribers.get(job_id)
        if queues is None:
            return False
        queues.discard(queue)
        if not queues:
            del self._subscribers[job_id]
            return True
        return False

    def deliver(self, event: Event) -> None:
        for queue in list(self._subscribers.get(event.job_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # The subscriber is too slow; it will notice the gap in sequence
                # numbers and refill from the event log.
                log.warning("event_dropped_slow_subscriber", job_id=event.job_id, seq=event.seq)

    def subscriber_count(self, job_id: str) -> int:
        return len(self._subscribers.get(job_id, ()))


class InMemoryEventBus:
    """Single-process bus: publish hands the event straight to local queues."""

    def __init__(self) -> None:
        self._fanout = _LocalFanout()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def publish(self, event: Event) -> None:
        self._fanout.deliver(event)

    async def subscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None:
        self._fanout.add(job_id, queue)

    async def unsubscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None:
        self._fanout.remove(job_id, queue)

    def subscriber_count(self, job_id: str) -> int:
        return self._fanout.subscriber_count(job_id)


class RedisEventBus:
    """Multi-process bus over Redis pub/sub, one channel per job.

    Each process holds one pub/sub connection, subscribed to the channels of the jobs
    its local clients watch, and fans messages out to local queues.
    """

    def __init__(self, url: str, *, channel_prefix: str = CHANNEL_PREFIX) -> None:
        self._url = url
        self._prefix = channel_prefix
        self._fanout = _LocalFanout()
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        # Counts the failures of Redis seen here; each may have lost messages, which
        # the WebSocket connections then refill from the event log.
        self.outages = 0

    async def start(self) -> None:
        # Imported here: redis is only needed when this bus is configured.
        import redis.asyncio as aioredis
        import redis.exceptions

        self._errors = (OSError, redis.exceptions.RedisError)
        self._redis = aioredis.from_url(self._url)
        await self._redis.ping()
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        # A pub/sub connection must subscribe to something before it can be read.
        await self._pubsub.subscribe(self._prefix + "__control__")
        self._reader = asyncio.create_task(self._read_loop(), name="redis-event-bus")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
            self._pubsub = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self, event: Event) -> None:
        """Publish; a Redis outage is logged, not raised: the event is in the log already,
        and subscribers catch up from it (see `outages`), so the job goes on."""
        if self._redis is None:
            raise RuntimeError("RedisEventBus.publish before start()")
        try:
            await self._redis.publish(self._prefix + event.job_id, event.model_dump_json())
        except self._errors as exc:
            self.outages += 1
            log.warning("redis_bus_publish_failed", job_id=event.job_id, error=str(exc))

    async def subscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None:
        async with self._lock:
            if self._fanout.add(job_id, queue) and self._pubsub is not None:
                await self._pubsub.subscribe(self._prefix + job_id)

    async def unsubscribe(self, job_id: str, queue: asyncio.Queue[Event]) -> None:
        async with self._lock:
            if self._fanout.remove(job_id, queue) and self._pubsub is not None:
                await self._pubsub.unsubscribe(self._prefix + job_id)

    def subscriber_count(self, job_id: str) -> int:
        return self._fanout.subscriber_count(job_id)

    async def _read_loop(self) -> None:
        assert self._pubsub is not None
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except self._errors as exc:
                self.outages += 1
                failing = True
                log.warning("redis_bus_read_failed", error=str(exc))
                await asyncio.sleep(1.0)
                continue
            if failing:
                # Back, and subscribed again: what was published before that is lost
                # here; count it, so that subscribers catch up once more.
                failing = False
                self.outages += 1
            if message is None or message.get("type") != "message":
                continue
            try:
                event = Event.model_validate_json(message["data"])
            except ValueError:
                log.warning("redis_bus_bad_message", channel=str(message.get("channel")))
                continue
            self._fanout.deliver(event)


def build_bus(settings: Settings) -> EventBus:
    """The configured event bus: in-memory (one process) or Redis pub/sub."""
    if settings.event_bus == "redis":
        return RedisEventBus(settings.redis_url)
    return InMemoryEventBus()
