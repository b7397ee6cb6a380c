"""Events a job emits while it runs. Stored per job with a sequence number and streamed live."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, Field

EventType = Literal[
    "job_queued",
    "job_started",
    "step_started",
    "step_finished",
    "agent_call",
    "file_written",
    "test_run",
    "dependencies_installed",
    "finding",
    "usage",
    "budget_exhausted",
    "log",
    "job_finished",
]


class Event(BaseModel):
    """One thing that happened in a job. `seq` is assigned by the event log (1, 2, 3 …)."""

    job_id: str
    type: EventType
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    ts: float = Field(default_factory=time.time)
    seq: int | None = None
