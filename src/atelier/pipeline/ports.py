"""The narrow interfaces the pipeline needs from the outside world.

The pipeline never imports the store; the store (or the in-memory version in
`pipeline.memory`) satisfies these protocols structurally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from atelier.domain.events import Event
from atelier.domain.job import Checkpoint

EventSink = Callable[[Event], Awaitable[None]]


class CheckpointStore(Protocol):
    """Where a job's progress survives its process."""

    async def load_checkpoint(self, job_id: str) -> Checkpoint | None: ...

    async def save_checkpoint(self, job_id: str, checkpoint: Checkpoint) -> None: ...
