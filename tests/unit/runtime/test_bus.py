"""Event buses: in-memory and Redis pub/sub."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from atelier.domain.events import Event
from atelier.runtime.bus import InMemoryEventBus, RedisEventBus


def event(job_id: str, seq: int) -> Event:
    return Event(job_id=job_id, type="log", seq=seq, data={"n": seq})


async def test_memory_bus_delivers_to_subscribers_of_the_job_only() -> None:
    bus = InMemoryEventBus()
    mine: asyncio.Queue[Event] = asyncio.Queue()
    other: asyncio.Queue[Event] = asyncio.Queue()
    await bus.subscribe("a", mine)
    await bus.subscribe("b", other)
    await bus.publish(event("a", 1))
    assert (await mine.get()).seq == 1
    assert other.empty()
    await bus.unsubscribe("a", mine)
    await bus.publish(event("a", 2))
    assert mine.empty()
    assert bus.subscriber_count("a") == 0 and bus.subscriber_count("b") == 1


async def test_memory_bus_drops_for_a_full_queue_instead_of_blocking() -> None:
    bus = InMemoryEventBus()
    slow: asyncio.Queue[Event] = asyncio.Queue(maxsize=1)
    fast: asyncio.Queue[Event] = asyncio.Queue()
    await bus.subscribe("a", slow)
    await bus.subscribe("a", fast)
    for seq in (1, 2, 3):
        await bus.publish(event("a", seq))
    assert slow.qsize() == 1 and fast.qsize() == 3


@pytest.mark.integration
async def test_redis_bus_fans_out_across_bus_instances() -> None:
    prefix = f"atelier-test-{uuid.uuid4().hex[:8]}:"
    publisher = RedisEventBus("redis://127.0.0.1:6379/0", channel_prefix=prefix)
    subscriber = RedisEventBus("redis://127.0.0.1:6379/0", channel_prefix=prefix)
    await publisher.start()
    await subscriber.start()
    try:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        await subscriber.subscribe("job-1", queue)
        await asyncio.sleep(0.2)  # the SUBSCRIBE reaches the server
        await publisher.publish(event("job-2", 1))
        await publisher.publish(event("job-1", 7))
        received = await asyncio.wait_for(queue.get(), 5)
        assert received.job_id == "job-1" and received.seq == 7 and received.data == {"n": 7}
        await subscriber.unsubscribe("job-1", queue)
        await asyncio.sleep(0.2)
        await publisher.publish(event("job-1", 8))
        await asyncio.sleep(0.3)
        assert queue.empty()
    finally:
        await publisher.close()
        await subscriber.close()
