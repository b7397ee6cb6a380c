"""`run_to_completion`: a short step that must not be cut in half finishes even when
its caller is cancelled — repeatedly — and the cancellation still arrives after."""

from __future__ import annotations

import asyncio

import pytest

from atelier.concurrency import run_to_completion


async def test_the_step_finishes_although_the_caller_is_cancelled_twice() -> None:
    finished: list[str] = []
    entered = asyncio.Event()

    async def step() -> str:
        entered.set()
        await asyncio.sleep(0.05)
        finished.append("step")
        return "done"

    task = asyncio.create_task(run_to_completion(step()))
    await entered.wait()
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["step"]


async def test_without_a_cancellation_the_result_or_the_error_comes_back() -> None:
    async def ok() -> int:
        return 7

    async def broken() -> None:
        raise ValueError("no room")

    assert await run_to_completion(ok()) == 7
    with pytest.raises(ValueError, match="no room"):
        await run_to_completion(broken())


async def test_a_step_that_fails_while_cancelled_still_delivers_the_cancellation() -> None:
    entered = asyncio.Event()

    async def broken() -> None:
        entered.set()
        await asyncio.sleep(0.02)
        raise ValueError("disk full")

    task = asyncio.create_task(run_to_completion(broken()))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    assert isinstance(caught.value.__cause__, ValueError)
