"""Budgets, cancellation and usage accounting around every model call of a job."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from atelier.domain.errors import BudgetExceeded, Cancelled
from atelier.domain.events import Event
from atelier.domain.spec import Budgets
from atelier.domain.usage import Usage
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM
from atelier.pipeline.ports import EventSink


@dataclass
class JobMeter:
    """The running totals of one job and the limits they are checked against."""

    job_id: str
    budgets: Budgets
    emit: EventSink
    usage: Usage = field(default_factory=Usage)
    cancel_event: asyncio.Event | None = None
    started_at: float = field(default_factory=time.monotonic)
    replayed_calls: int = 0
    current_step: str | None = None

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started_at

    def check(self) -> None:
        """Raise Cancelled or BudgetExceeded when the job must stop now."""
        if self.cancel_event is not None and self.cancel_event.is_set():
            raise Cancelled("job cancelled")
        b = self.budgets
        if b.max_tokens is not None and self.usage.total_tokens >= b.max_tokens:
            raise BudgetExceeded(
                "tokens", f"token budget exhausted ({self.usage.total_tokens}/{b.max_tokens})"
            )
        if b.max_cost_usd is not None and self.usage.cost_usd >= b.max_cost_usd:
            raise BudgetExceeded(
                "cost", f"cost budget exhausted (${self.usage.cost_usd:.4f}/${b.max_cost_usd})"
            )
        if b.max_wall_time_s is not None and self.elapsed_s() >= b.max_wall_time_s:
            raise BudgetExceeded(
                "time", f"wall-time budget exhausted ({self.elapsed_s():.1f}s/{b.max_wall_time_s}s)"
            )

    def remaining_wall_s(self) -> float | None:
        if self.budgets.max_wall_time_s is None:
            return None
        return max(0.0, self.budgets.max_wall_time_s - self.elapsed_s())


class MeteredLLM(DelegatingLLM):
    """Wraps a role's LLM: checks budgets and cancellation before each call, counts
    usage after it and reports the call as an event."""

    def __init__(self, inner: LLM, meter: JobMeter) -> None:
        super().__init__(inner)
        self._meter = meter

    async def chat(self, request: ChatRequest) -> ChatResult:
        self._meter.check()
        result = await self.inner.chat(request)
        # A replay is counted too: replays happen only on resume, for calls the dead
        # process paid for after its last checkpoint — so they are missing from the
        # usage restored from that checkpoint, and each paid call ends up counted once.
        self._meter.replayed_calls += result.replayed
        self._meter.usage.add(result.usage)
        await self._meter.emit(
            Event(
                job_id=self._meter.job_id,
                type="agent_call",
                step=self._meter.current_step,
                data={
                    "agent": request.agent,
                    "provider": result.provider,
                    "model": result.model,
                    "prompt_tokens": result.usage.prompt_tokens,
                    "completion_tokens": result.usage.completion_tokens,
                    "cost_usd": result.usage.cost_usd,
                    "latency_s": round(result.usage.latency_s, 4),
                    "replayed": result.replayed,
                    "usage": self._meter.usage.model_dump(),
                },
            )
        )
        return result
