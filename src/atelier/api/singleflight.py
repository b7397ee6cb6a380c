"""Collapse concurrent loads of the same key into one.

When a cached value expires under load, every concurrent request would otherwise
miss at once and hit the database together (for an API key, each with a write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _consume(future: asyncio.Future[Any]) -> None:
    # An exception nobody waited for must not be reported as "never retrieved".
    if not future.cancelled():
        future.exception()


class SingleFlight(Generic[T]):
    """`run(key, load)`: the first caller loads; callers arriving meanwhile share its
    result (or its exception)."""

    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[T]] = {}

    async def run(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        self._pending[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._pending[key]
