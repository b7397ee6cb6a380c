"""A Celery worker process (``atelier worker``): runs the jobs the queue hands it.

One process, one asyncio loop (in a thread of its own), one database engine, one
event bus and one `InProcessRunner` shared by all the jobs it runs — and so one copy
of each local model (`llm/local.py` keeps loaded models per process). Celery's
thread pool (``--concurrency N`` threads) takes messages; each thread hands its job
to the loop and blocks until the job is over, so the message is acknowledged late,
after the job. A worker also takes over jobs a dead worker had started once their
lease has expired (the runner's reclaim loop), whether or not the broker re-delivers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import Future
from typing import Any

from atelier.observability.logging import get_logger
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import EventBus, build_bus
from atelier.runtime.queue import RUN_JOB_TASK, build_celery
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings
from atelier.store import AsyncEngine, create_engine, create_sessionmaker

log = get_logger("atelier.worker")


class WorkerHost:
    """The loop, engine, bus and runner of one worker process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="atelier-jobs", daemon=True)
        self.runner: InProcessRunner | None = None
        self._engine: AsyncEngine | None = None
        self._bus: EventBus | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result()

    def start(self) -> None:
        """Connect, and take over the jobs of dead workers. Raises what connecting raises."""
        self._thread.start()
        self._call(self._start())

    async def _start(self) -> None:
        self._engine = create_engine(self.settings.effective_database_url,
                                     sqlite_pool_size=self.settings.sqlite_pool_size)
        sessionmaker = create_sessionmaker(self._engine)
        self._bus = build_bus(self.settings)
        await self._bus.start()
        self.runner = InProcessRunner(
            self.settings,
            sessionmaker,
            self._bus,
            Metrics(),
            reclaim_all_on_start=False,
            reclaim_running_only=True,
        )
        resumed = await self.runner.start()
        log.info("worker_started", worker=self.runner.worker_id, resumed_jobs=len(resumed))

    def run_job(self, job_id: str) -> None:
        """Run one job to its end on the loop (called from a Celery pool thread)."""
        if self.runner is None:
            raise RuntimeError("WorkerHost.run_job before start()")
        self._call(self.runner.run_to_end(job_id))

    def stop(self) -> None:
        """Stop running jobs (their leases let another worker resume them) and disconnect."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                self._call(self._stop())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _stop(self) -> None:
        if self.runner is not None:
            await self.runner.close()
        if self._bus is not None:
            await self._bus.close()
        if self._engine is not None:
            await self._engine.dispose()


def build_worker_app(settings: Settings, host: WorkerHost) -> Any:
    """The Celery app of a worker, its one task bound to `host`."""
    from celery.signals import worker_ready

    app = build_celery(settings)

    def announce_ready(**_: Any) -> None:
        log.info("worker_ready", queues=settings.queue, pid=os.getpid())

    worker_ready.connect(announce_ready, weak=False)

    @app.task(name=RUN_JOB_TASK, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_job(job_id: str) -> None:
        host.run_job(job_id)

    return app


def run_worker(settings: Settings, *, concurrency: int, queues: list[str], loglevel: str) -> None:
    """Run a worker until it is stopped (SIGTERM / Ctrl-C: warm shutdown, running jobs
    are finished first; a second signal stops at once, the jobs resume elsewhere)."""
    settings = settings.model_copy(update={"max_concurrent_jobs": concurrency})
    host = WorkerHost(settings)
    host.start()
    app = build_worker_app(settings, host)
    try:
        app.worker_main(
            [
                "worker",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={','.join(queues)}",
                f"--loglevel={loglevel}",
                # Unique per process: two workers on one host must not share a node name
                # (RabbitMQ refuses the second's control queue).
                f"--hostname=atelier-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        host.stop()
