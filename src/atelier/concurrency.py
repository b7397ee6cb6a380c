"""Asyncio helpers shared across layers (the standard library only)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def run_to_completion(step: Coroutine[Any, Any, T]) -> T:
    """Await `step` to its end whatever cancellations arrive meanwhile; then re-raise
    the cancellation if one came (the step's own error, if any, as its cause), else
    return the step's result or raise its error.

    For short steps that must not be cut in half: a paid call's record, a commit, a
    rollback, a connection's return to the pool.
    """
    task = asyncio.ensure_future(step)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait([task])  # a cancelled wait leaves `task` running
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        error = None if task.cancelled() else task.exception()
        raise asyncio.CancelledError from error
    return task.result()
