"""What happens to each event a job emits: stored, reflected on the job row, published.

The event log is the record: an event is appended (getting its per-job sequence
number) and the job's live progress updated in the same transaction, and only then
published on the bus, so a subscriber never sees an event the log does not have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from atelier.domain.events import Event
from atelier.domain.job import TERMINAL_STATUSES as TERMINAL
from atelier.domain.usage import CallUsage, Usage
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import EventBus
from atelier.store import CallRecordRepo, EventLog, JobRepo, SessionMaker, session_scope


async def paid_usage(sessionmaker: SessionMaker, job_id: str) -> Usage:
    """The usage of every call recorded for the job: each row was sent to a provider
    exactly once, whatever restarts happened, so this is what the job really cost."""
    usage = Usage()
    async with session_scope(sessionmaker) as session:
        repo = CallRecordRepo(session)
        offset = 0
        while True:
            rows = await repo.list(job_id, limit=500, offset=offset)
            for row in rows:
                usage.add(
                    CallUsage(
                        prompt_tokens=row.prompt_tokens,
                        completion_tokens=row.completion_tokens,
                        cost_usd=row.cost_usd,
                        latency_s=row.latency_s,
                    )
                )
            if len(rows) < 500:
                return usage
            offset += 500


async def publish_event(sessionmaker: SessionMaker, bus: EventBus, event: Event) -> Event:
    """Append one event to the log, commit, then publish it; returns it with its seq."""
    async with session_scope(sessionmaker) as session:
        stored = await EventLog(session).append(event)
    await bus.publish(stored)
    return stored


class JobEventSink:
    """The `EventSink` handed to the pipeline for one job.

    Serialises the job's events (so bus order is sequence order), keeps the job row's
    progress, current step, per-step states, tests and usage up to date, and feeds the
    metrics. `usage` starts from the calls already recorded (a resumed job) and grows
    only with calls that were not replays.
    The pipeline's own `job_finished` is held back: the runner emits it once the
    outcome is stored, so a watcher that sees it can read the final state.
    `before_step` is called as each step starts; what it raises (`DiskFull`: no room
    to save the step's work) fails the job before the step does any work.
    """

    def __init__(
        self,
        job_id: str,
        sessionmaker: SessionMaker,
        bus: EventBus,
        metrics: Metrics,
        usage: Usage,
        on_change: Callable[[str], None] | None = None,
        worker: dict[str, Any] | None = None,
        before_step: Callable[[], None] | None = None,
    ) -> None:
        self.job_id = job_id
        # Where this process runs ({"host", "pid"}): stamped on each step it starts.
        self.worker = worker
        self.on_change = on_change
        self.before_step = before_step
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.metrics = metrics
        self.usage = usage
        self.finished_event: Event | None = None
        # Set once the job is found ended by someone else: later events are dropped.
        self.closed = False
        self._lock = asyncio.Lock()

    async def __call__(self, event: Event) -> None:
        if event.type == "job_finished":
            self.finished_event = event
            return
        if event.type == "step_started" and self.before_step is not None:
            self.before_step()
        if event.type == "step_started" and self.worker is not None:
            event = event.model_copy(update={"data": {**event.data, "worker": self.worker}})
        async with self._lock:
            if self.closed:
                return
            async with session_scope(self.sessionmaker) as session:
                # The job may have been ended elsewhere (cancelled through another API
                # process): its `job_finished` stays the last event of the log. The lock
                # keeps such an end from slipping in between this check and the append.
                if (await JobRepo(session).get(self.job_id, lock=True)).status in TERMINAL:
                    self.closed = True
                    return
                changes = self._progress_changes(event)
                stored = await EventLog(session).append(event)
                if changes:
                    await JobRepo(session).update_progress(self.job_id, **changes)
            if changes and self.on_change is not None:
                self.on_change(self.job_id)
            await self.bus.publish(stored)
        self._observe(event)

    def _progress_changes(self, event: Event) -> dict[str, Any]:
        data = event.data
        changes: dict[str, Any] = {}
        if event.type == "step_started" and event.step:
            changes["current_step"] = event.step
            state: dict[str, Any] = {"status": "running", "started_at": event.ts}
            if self.worker is not None:
                state["worker"] = self.worker
            changes["steps"] = {event.step: state}
            if isinstance(data.get("progress"), int | float):
                changes["progress"] = data["progress"]
        elif event.type == "step_finished" and event.step:
            changes["steps"] = {
                event.step: {
                    "status": "done",
                    "finished_at": event.ts,
                    "duration_s": data.get("duration_s"),
                }
            }
            if self.worker is not None:
                changes["steps"][event.step]["worker"] = self.worker
            if isinstance(data.get("progress"), int | float):
                changes["progress"] = data["progress"]
            changes["usage"] = self.usage
        elif event.type == "test_run":
            totals = ("passed", "failed", "errors", "skipped")
            changes["tests"] = {k: data.get(k, 0) for k in totals}
        elif event.type == "agent_call" and not data.get("replayed"):
            self.usage.add(
                CallUsage(
                    prompt_tokens=int(data.get("prompt_tokens", 0) or 0),
                    completion_tokens=int(data.get("completion_tokens", 0) or 0),
                    cost_usd=float(data.get("cost_usd", 0.0) or 0.0),
                )
            )
            changes["usage"] = self.usage
        return changes

    def _observe(self, event: Event) -> None:
        data = event.data
        if event.type == "step_finished" and event.step:
            duration = data.get("duration_s")
            if isinstance(duration, int | float):
                self.metrics.step_duration.labels(event.step).observe(duration)
        elif event.type == "agent_call":
            self.metrics.observe_llm_call(
                provider=str(data.get("provider", "")),
                model=str(data.get("model", "")),
                prompt_tokens=int(data.get("prompt_tokens", 0) or 0),
                completion_tokens=int(data.get("completion_tokens", 0) or 0),
                cost_usd=float(data.get("cost_usd", 0.0) or 0.0),
                latency_s=float(data.get("latency_s", 0.0) or 0.0),
                replayed=bool(data.get("replayed")),
            )
        elif event.type == "test_run":
            if data.get("timed_out"):
                outcome = "timed_out"
            elif data.get("failed") or data.get("errors"):
                outcome = "failed"
            elif data.get("passed"):
                outcome = "passed"
            else:
                outcome = "no_tests"
            self.metrics.sandbox_runs.labels(outcome).inc()
            duration = data.get("duration_s")
            if isinstance(duration, int | float):
                self.metrics.sandbox_duration.observe(duration)
