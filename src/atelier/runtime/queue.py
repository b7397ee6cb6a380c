"""Jobs through a Celery queue (``ATELIER_RUNNER=celery``): the API side.

The API process holds no job state: `QueueRunner.submit` sends a committed job's id
to the broker, a worker (`atelier worker`, see `runtime/worker.py`) runs it and
writes its checkpoints, events and recorded calls to the shared database. A cancel
ends the job in the database; the worker running it sees that at its next heartbeat
(every `cancel_poll_s`) and stops.

Reliability, chosen on purpose (README, "Scale-out"): late acks (a message is
acknowledged when its job is over, so a worker that dies leaves it to be
re-delivered), prefetch 1 (a worker holds no more messages than it runs), a Redis
visibility timeout longer than a step, and idempotent starts — a re-delivered or
duplicated message finds the job's lease (`JobRepo.take`) and either resumes it
from its checkpoint or leaves it to the live worker holding it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from atelier.observability.logging import get_logger
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import EventBus
from atelier.runtime.runner import finish_without_running
from atelier.settings import Settings
from atelier.store import SessionMaker

log = get_logger("atelier.queue")

RUN_JOB_TASK = "atelier.run_job"


class JobRunner(Protocol):
    """What the API needs of whoever runs jobs: in-process, or a queue of workers."""

    on_job_change: list[Callable[[str], None]]

    async def start(self) -> list[str]: ...

    async def close(self) -> None: ...

    @property
    def healthy(self) -> bool: ...

    def running_jobs(self) -> list[str]: ...

    def queued_jobs(self) -> list[str]: ...

    def submit(self, job_id: str) -> None: ...

    async def enqueue(self, job_id: str) -> None: ...

    async def cancel(self, job_id: str) -> str: ...


def build_celery(settings: Settings) -> Any:
    """The Celery app of this deployment, configured for the reliability above.

    Nothing connects here; Celery is imported on demand (the `celery` extra).
    """
    from celery import Celery

    app = Celery("atelier", broker=settings.effective_broker_url, set_as_current=False)
    app.conf.update(
        # Acknowledge a job's message only once the job is over: a worker that dies
        # mid-job leaves it unacknowledged, and the broker hands it to another worker
        # (RabbitMQ when the connection drops; Redis after the visibility timeout).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message per free slot: a busy worker does not sit on queued jobs that an
        # idle one could run.
        worker_prefetch_multiplier=1,
        # Redis: an unacknowledged message is re-delivered after this long. A duplicate
        # start is harmless (the lease), so it only needs to be longer than a step.
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s},
        task_default_queue=settings.queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # Our structlog output goes to stdout as it is; Celery would re-route it.
        worker_redirect_stdouts=False,
        # A job's progress lives in the database; the broker carries only its id.
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app


class QueueRunner:
    """The API side of the Celery runner: enqueue, cancel through the database."""

    def __init__(
        self, settings: Settings, sessionmaker: SessionMaker, bus: EventBus, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.metrics = metrics
        self.on_job_change: list[Callable[[str], None]] = []
        self._celery: Any = None
        self._sending: set[asyncio.Task[None]] = set()
        self._started = False
        self._closing = False

    async def start(self) -> list[str]:
        self._celery = build_celery(self.settings)
        self._started = True
        return []  # workers resume interrupted jobs, not the API

    async def close(self) -> None:
        self._closing = True
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=10)
        if self._celery is not None:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self._celery.close)

    @property
    def healthy(self) -> bool:
        return self._started and not self._closing

    def running_jobs(self) -> list[str]:
        return []  # held by workers; the database says which

    def queued_jobs(self) -> list[str]:
        return []

    def job_changed(self, *job_ids: str | None) -> None:
        for job_id in job_ids:
            if job_id is not None:
                for listener in self.on_job_change:
                    listener(job_id)

    def submit(self, job_id: str) -> None:
        """Send a committed job to the queue in the background (see `enqueue`)."""
        task = asyncio.create_task(self.enqueue(job_id), name=f"enqueue-{job_id}")
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def enqueue(self, job_id: str) -> None:
        """Send a committed job to the queue and return once the broker has it — before
        the API answers 202, which matters on a serverless host that may freeze the
        process right after the response. A send that fails ends the job as failed."""
        await self._send(job_id)

    async def send(self, job_id: str) -> None:
        """Send one job and wait until the broker has it. Raises the broker's error."""
        if self._celery is None:
            raise RuntimeError("QueueRunner.send before start()")
        await asyncio.to_thread(
            self._celery.send_task, RUN_JOB_TASK, args=[job_id], queue=self.settings.queue
        )

    async def _send(self, job_id: str) -> None:
        try:
            await self.send(job_id)
        except Exception as exc:
            # The edge of a fire-and-forget send: record the failure on the job (an
            # admin retry sends it again) instead of leaving it queued for ever.
            log.exception("job_enqueue_failed", job_id=job_id)
            await finish_without_running(
                self.sessionmaker,
                self.bus,
                self.metrics,
                job_id,
                "failed",
                f"queue_unavailable: {type(exc).__name__}: {exc}",
                self.job_changed,
            )

    async def cancel(self, job_id: str) -> str:
        """End the job in the database; its worker stops within `cancel_poll_s` plus a
        grace period. Raises NotFound."""
        return await finish_without_running(
            self.sessionmaker,
            self.bus,
            self.metrics,
            job_id,
            "cancelled",
            "cancelled by request",
            self.job_changed,
        )
