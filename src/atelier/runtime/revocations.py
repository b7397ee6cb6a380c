"""Telling every API replica that credentials changed (a key revoked, a user disabled).

Each replica caches who a credential belongs to for a few seconds (`api/principals.py`).
With several processes (``ATELIER_EVENT_BUS=redis``) a revocation is published on a
Redis channel; every replica listening clears its cache on the message, so a revoked
key is refused everywhere within the pub/sub delay (milliseconds), not the cache TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from atelier.observability.logging import get_logger

log = get_logger("atelier.revocations")

CHANNEL = "atelier:auth:revoked"


async def announce_revocation(redis_url: str) -> None:
    """Publish one revocation (from a process that does not listen, e.g. the CLI).
    Raises redis' connection errors."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        await client.publish(CHANNEL, b"revoked")
    finally:
        await client.aclose()


class RevocationFeed:
    """Publishes revocations and calls `on_revoked` for every one, its own included."""

    def __init__(self, redis_url: str, on_revoked: Callable[[], None]) -> None:
        self._url = redis_url
        self._on_revoked = on_revoked
        self._redis: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._errors: tuple[type[BaseException], ...] = (OSError,)

    async def start(self) -> None:
        import redis.asyncio as aioredis
        import redis.exceptions

        self._errors = (OSError, redis.exceptions.RedisError)
        self._redis = aioredis.from_url(self._url)
        self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(CHANNEL)
        self._reader = asyncio.create_task(self._read_loop(), name="revocation-feed")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def announce(self) -> None:
        """Tell every replica (this one at once, the others over Redis)."""
        self._on_revoked()
        try:
            await self._redis.publish(CHANNEL, b"revoked")
        except self._errors as exc:
            # The others fall back on their cache's TTL; the revocation itself is stored.
            log.warning("revocation_publish_failed", error=str(exc))

    async def _read_loop(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except self._errors as exc:
                log.warning("revocation_feed_read_failed", error=str(exc))
                # Whatever was published meanwhile is lost: forget everything.
                self._on_revoked()
                await asyncio.sleep(1.0)
                continue
            if message is not None and message.get("type") == "message":
                self._on_revoked()
