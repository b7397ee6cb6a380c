"""The in-process job runner: bounded concurrency, cancellation, resume after a crash.

A job runs as an asyncio task of the API process. Its progress survives the process:
every step is checkpointed and every model call recorded in the database, so a job
whose process died is claimed on the next start and resumed — completed steps are
skipped and the calls of the step in flight are replayed from the record, not paid
for again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atelier.domain.errors import AtelierError, DiskFull, ModelNotInstalled, NotFound
from atelier.domain.events import Event
from atelier.domain.job import TERMINAL_STATUSES, JobResult
from atelier.domain.spec import JobOptions, Role, Spec
from atelier.domain.verdict import judge
from atelier.llm.base import LLM
from atelier.llm.recording import CallRecorder
from atelier.observability.logging import bind_context, get_logger
from atelier.observability.metrics import Metrics
from atelier.pipeline.models import build_role_llms
from atelier.pipeline.package import build_report, render_report_md
from atelier.pipeline.ports import CheckpointStore, EventSink
from atelier.pipeline.run import run_pipeline
from atelier.runtime.bus import EventBus
from atelier.runtime.disk_guard import DiskGuard
from atelier.runtime.progress import JobEventSink, paid_usage, publish_event
from atelier.runtime.quota import cap_to_quota, explain_quota_stop
from atelier.runtime.recorder import DbCallRecorder
from atelier.settings import Settings
from atelier.store import (
    DbCallRecords,
    DbCheckpointStore,
    JobRepo,
    JobRow,
    SessionMaker,
    TemplateRepo,
    VersionRepo,
    disk_full,
    session_scope,
)

log = get_logger("atelier.runner")

# A running job's claim (`settings.job_lease_s`, this by default) is renewed by its
# heartbeat every `settings.cancel_poll_s`; a claim older than the lease belongs to a
# dead process and may be taken over.
LEASE_S = 60.0
# After a cancel request the pipeline stops at its next await point; if it is stuck
# in one long call, the task is cancelled outright after this grace period.
CANCEL_GRACE_S = 10.0
# The same for a cancel made through another process, noticed by the heartbeat: it
# must stop within 5 s of the request, the poll interval included.
REMOTE_CANCEL_GRACE_S = 3.0
REPORT_MD_KEY = "report_md"

LLMFactory = Callable[[JobOptions, Settings, CallRecorder | None], Mapping[Role, LLM]]
PipelineFn = Callable[..., Any]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def worker_identity() -> dict[str, Any]:
    """Where a step runs, as `GET /api/jobs/{id}` shows it per step."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


@dataclass
class _ActiveJob:
    job_id: str
    task: asyncio.Task[None]
    cancel_event: asyncio.Event = field(default_factory=asyncio.Event)
    started: bool = False
    # Another worker took the job over (this one stalled past its lease): stop
    # without recording anything, the job is theirs now.
    lost: bool = False
    # The disk it writes to ran out of space: it ends `failed` with this, keeping nothing.
    disk_error: DiskFull | None = None


class InProcessRunner:
    """Runs jobs as asyncio tasks, at most `settings.max_concurrent_jobs` at once.

    `start()` resumes every job left queued or running by a previous process;
    `submit()` enqueues a committed job; `cancel()` stops one; `close()` stops the
    runner, leaving unfinished jobs to be resumed by the next start.
    """

    def __init__(
        self,
        settings: Settings,
        sessionmaker: SessionMaker,
        bus: EventBus,
        metrics: Metrics,
        *,
        worker_id: str | None = None,
        llm_factory: LLMFactory = build_role_llms,
        pipeline: PipelineFn = run_pipeline,
        reclaim_all_on_start: bool | None = None,
        reclaim_running_only: bool = False,
        disk_guard: DiskGuard | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.metrics = metrics
        self.worker_id = worker_id or default_worker_id()
        self.llm_factory = llm_factory
        self.pipeline = pipeline
        # One process with the in-memory bus is a single-node deployment: whatever a
        # previous process left running is dead, leases or not.
        self.reclaim_all_on_start = (
            settings.event_bus == "memory" if reclaim_all_on_start is None else reclaim_all_on_start
        )
        # Celery workers take queued jobs from the queue; they take over only jobs a
        # dead worker had started.
        self.reclaim_running_only = reclaim_running_only
        self.lease_s = settings.job_lease_s
        self.poll_s = max(0.05, min(settings.cancel_poll_s, self.lease_s / 3))
        self.identity = worker_identity()
        self.disk = disk_guard or DiskGuard.from_settings(settings)
        self._slots = asyncio.Semaphore(max(1, settings.max_concurrent_jobs))
        self._active: dict[str, _ActiveJob] = {}
        self._closing = False
        self._started = False
        self._reclaimer: asyncio.Task[None] | None = None
        # Called with a job id after every change this runner commits to that job
        # (progress, outcome, a new version of the project): caches of job views.
        self.on_job_change: list[Callable[[str], None]] = []

    # --- lifecycle ----------------------------------------------------------------
    async def start(self) -> list[str]:
        """Claim and resume interrupted jobs; returns their ids."""
        self._started = True
        await asyncio.to_thread(self.disk.ensure_reserve)
        resumed = await self._claim(force=self.reclaim_all_on_start)
        # Single-node too: a job whose task died with the database (down, its outcome
        # unwritable) keeps status running; once its lease has expired it is resumed.
        self._reclaimer = asyncio.create_task(self._reclaim_loop(), name="job-reclaimer")
        return resumed

    async def close(self) -> None:
        """Stop every job task; their checkpoints and leases let the next start resume them."""
        self._closing = True
        if self._reclaimer is not None:
            self._reclaimer.cancel()
        tasks = [active.task for active in self._active.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._active.clear()

    @property
    def healthy(self) -> bool:
        return self._started and not self._closing

    def running_jobs(self) -> list[str]:
        return [j.job_id for j in self._active.values() if j.started]

    def queued_jobs(self) -> list[str]:
        return [j.job_id for j in self._active.values() if not j.started]

    def job_changed(self, *job_ids: str | None) -> None:
        """Tell the listeners these jobs changed."""
        for job_id in job_ids:
            if job_id is not None:
                for listener in self.on_job_change:
                    listener(job_id)

    # --- requests -----------------------------------------------------------------
    def submit(self, job_id: str) -> None:
        """Run a committed, queued job when a slot is free (no-op if already here)."""
        if self._closing or job_id in self._active:
            return
        task = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")
        self._active[job_id] = _ActiveJob(job_id, task)
        self.metrics.jobs_active.labels("queued").inc()

    async def enqueue(self, job_id: str) -> None:
        """`submit`, for callers written against any runner (a queue's takes a round trip)."""
        self.submit(job_id)

    async def run_to_end(self, job_id: str) -> None:
        """Run a job here (as `submit`) and return once this process is done with it:
        finished, held by another worker, or stopped by `close()` (then resumable)."""
        self.submit(job_id)
        active = self._active.get(job_id)
        if active is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(active.task)

    async def cancel(self, job_id: str) -> str:
        """Ask a job to stop; returns the job's status after the request.

        A job waiting for a slot, or not held by this process, is marked cancelled at
        once; a running one stops at its next await point (status stays "running"
        until it has). Raises NotFound for an unknown job, Conflict-free otherwise.
        """
        active = self._active.get(job_id)
        if active is not None and active.started:
            active.cancel_event.set()
            asyncio.get_running_loop().call_later(CANCEL_GRACE_S, self._force_cancel, job_id)
            return "running"
        if active is not None:
            active.task.cancel()
        return await self._finish_without_running(job_id, "cancelled", "cancelled by request")

    def _force_cancel(self, job_id: str) -> None:
        active = self._active.get(job_id)
        if active is not None and active.cancel_event.is_set():
            active.task.cancel()

    # --- claiming -----------------------------------------------------------------
    async def _claim(self, *, force: bool) -> list[str]:
        async with session_scope(self.sessionmaker) as session:
            job_ids = await JobRepo(session).claim_interrupted(
                self.worker_id,
                lease_s=self.lease_s,
                force=force,
                running_only=self.reclaim_running_only,
            )
        for job_id in job_ids:
            log.info("job_resume_claimed", job_id=job_id)
            self.submit(job_id)
        return job_ids

    async def _reclaim_loop(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.lease_s / 2)
            try:
                # Also the periodic chance to make the disk reserve again once space is back.
                await asyncio.to_thread(self.disk.ensure_reserve)
                await self._claim(force=False)
            except (AtelierError, OSError) as exc:
                log.warning("job_reclaim_failed", error=str(exc))

    # --- running ------------------------------------------------------------------
    async def _run(self, job_id: str) -> None:
        active = self._active[job_id]
        try:
            async with self._slots:
                self.metrics.jobs_active.labels("queued").dec()
                active.started = True
                self.metrics.jobs_active.labels("running").inc()
                try:
                    with bind_context(job_id=job_id):
                        await self._execute(job_id, active.cancel_event)
                except Exception as exc:
                    if disk_full(exc):
                        # A write found no room: not a bug. Say which disk and what to do,
                        # in the room the reserve kept for this.
                        error = active.disk_error or self.disk.error_for(exc)
                        await self._fail_for_disk(job_id, error, wrote=True)
                        return
                    # The process edge of a job: record the failure instead of losing it
                    # in a task nobody awaits, and keep the runner serving other jobs.
                    log.exception("job_crashed", job_id=job_id)
                    await self._finish_without_running(
                        job_id, "failed", f"internal_error: {type(exc).__name__}: {exc}"
                    )
                finally:
                    self.metrics.jobs_active.labels("running").dec()
        except asyncio.CancelledError:
            if not active.started:
                self.metrics.jobs_active.labels("queued").dec()
            if active.lost:
                pass  # taken over by another worker: nothing of ours to record
            elif not self._closing and active.disk_error is not None:
                # Stopped by force after the disk filled: record why, not a cancel.
                await asyncio.shield(self._fail_for_disk(job_id, active.disk_error))
            elif not self._closing and active.cancel_event.is_set():
                # Forced cancel of a stuck job: record it, the request asked for it.
                await asyncio.shield(
                    self._finish_without_running(job_id, "cancelled", "cancelled by request")
                )
            elif not self._closing:
                raise
        finally:
            self._active.pop(job_id, None)
            # This process no longer runs the job (finished, cancelled, lost, closing).
            log.info("job_released", job_id=job_id)

    async def _execute(self, job_id: str, cancel_event: asyncio.Event) -> None:
        async with session_scope(self.sessionmaker) as session:
            repo = JobRepo(session)
            try:
                row = await repo.get(job_id)
            except NotFound:
                return  # deleted before it could start
            if row.status in TERMINAL_STATUSES:
                return
            holder = row.worker_id
            taken = await repo.take(job_id, self.worker_id, self.lease_s)
            if taken is None:
                # A duplicated or re-delivered start while another live worker runs it:
                # leave it to them (their lease, if they die, lets a worker take over).
                log.info("job_held_by_another_worker", worker=holder)
                return
            row = taken
            spec = row.parsed_spec()
            parent_job_id, parent_version = row.parent_job_id, row.parent_version
            instructions, attempt = row.instructions, row.attempts
            owner = row.user_id
        try:
            # Work it could not save is not started: it fails now, saying why. (After
            # the take's commit: the reserve is not written while holding the database.)
            await asyncio.to_thread(self.disk.ensure_reserve)
            self.disk.check()
        except DiskFull as exc:
            await self._fail_for_disk(job_id, exc)
            return
        self.job_changed(job_id)
        base_files: dict[str, str] | None = None
        async with session_scope(self.sessionmaker) as session:
            if parent_job_id is not None:
                base_files = await VersionRepo(session).contents(parent_job_id, parent_version)
            spec = await _with_template_hint(TemplateRepo(session), spec)
            spec, quota_capped = await cap_to_quota(session, owner, job_id, spec)
        log.info("job_started", attempt=attempt, revise_of=parent_job_id)
        sink = JobEventSink(
            job_id,
            self.sessionmaker,
            self.bus,
            self.metrics,
            usage=await paid_usage(self.sessionmaker, job_id),
            on_change=self.job_changed,
            worker=self.identity,
            before_step=lambda: self._check_disk(job_id),
        )
        heartbeat = asyncio.create_task(self._heartbeat(job_id, cancel_event))
        try:
            result = await self._run_pipeline(
                job_id, spec, sink, cancel_event, base_files, instructions
            )
        except ModelNotInstalled as exc:
            # Workers never pull models: say which worker lacks it and what to do.
            reason = (
                f"{exc.code}: worker {self.identity['host']} (pid {self.identity['pid']}) "
                f"does not have this job's model — {exc.detail} on that host, or mount the "
                "models volume; workers do not pull models themselves"
            )
            result = JobResult(job_id=job_id, status="failed", reason=reason)
        except AtelierError as exc:
            # Raised before the pipeline could start (a model that cannot be loaded …).
            result = JobResult(job_id=job_id, status="failed", reason=f"{exc.code}: {exc.detail}")
        finally:
            heartbeat.cancel()
            # Wait until it has stopped: a heartbeat cancelled mid-write must have rolled
            # back before the job is over, or a successor's claim finds the database
            # locked (seen on a starved machine, where that took longer than the busy
            # timeout).
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        active = self._active.get(job_id)
        if active is not None and active.disk_error is not None:
            # What it has was made for a job that cannot finish: no version of it.
            await self._fail_for_disk(job_id, active.disk_error)
            return
        result = explain_quota_stop(result, quota_capped)
        await self._store_outcome(job_id, result, sink, parent_job_id, instructions)

    async def _run_pipeline(
        self,
        job_id: str,
        spec: Spec,
        sink: EventSink,
        cancel_event: asyncio.Event,
        base_files: dict[str, str] | None,
        instructions: str | None,
    ) -> JobResult:
        recorder = DbCallRecorder(DbCallRecords(self.sessionmaker, job_id))
        llms = self.llm_factory(spec.options, self.settings, recorder)
        checkpoints: CheckpointStore = DbCheckpointStore(self.sessionmaker)
        result: JobResult = await self.pipeline(
            job_id,
            spec,
            llms=llms,
            settings=self.settings,
            checkpoints=checkpoints,
            emit=sink,
            cancel_event=cancel_event,
            base_files=base_files,
            instructions=instructions,
        )
        return result

    async def _heartbeat(self, job_id: str, cancel_event: asyncio.Event) -> None:
        # Every poll learns whether the job is still ours — a cancel through any API
        # replica ends it in the database — with a read; every third of the lease the
        # poll is the write that renews the lease.
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                # Polled, not only met by a write: a job in a long model call must
                # still end within seconds once its disk is full.
                self._check_disk(job_id)
                async with session_scope(self.sessionmaker) as session:
                    repo = JobRepo(session)
                    if loop.time() - renewed_at >= self.lease_s / 3 - self.poll_s / 2:
                        still_ours = await repo.heartbeat(job_id, self.worker_id, self.lease_s)
                        renewed_at = loop.time()
                    else:
                        still_ours = await repo.holds(job_id, self.worker_id)
                    if not still_ours:
                        row = await repo.get(job_id)
            except NotFound:
                row = None  # deleted meanwhile
            except DiskFull:
                self._stop(job_id, cancel_event)
                return
            except Exception as exc:
                if disk_full(exc):  # the lease renewal itself found no room
                    self._mark_disk_full(job_id, self.disk.error_for(exc))
                    self._stop(job_id, cancel_event)
                    return
                if not isinstance(exc, AtelierError | OSError):
                    raise
                log.warning("job_heartbeat_failed", error=str(exc))
                continue
            if not still_ours:
                active = self._active.get(job_id)
                taken_over = row is not None and row.status not in TERMINAL_STATUSES
                log.info("job_lease_lost", taken_over=taken_over)
                if active is not None:
                    active.lost = taken_over
                self._stop(job_id, cancel_event)
                return

    def _stop(self, job_id: str, cancel_event: asyncio.Event) -> None:
        """Make the pipeline stop at its next await point, by force after a grace period."""
        cancel_event.set()
        asyncio.get_running_loop().call_later(REMOTE_CANCEL_GRACE_S, self._force_cancel, job_id)

    # --- a full disk ---------------------------------------------------------------
    def _check_disk(self, job_id: str) -> None:
        """Raise DiskFull (and mark the job for it) when its disk has no room left."""
        try:
            self.disk.check()
        except DiskFull as exc:
            self._mark_disk_full(job_id, exc)
            raise

    def _mark_disk_full(self, job_id: str, error: DiskFull) -> None:
        """Remember why the job must end: however it stops, it is recorded as this."""
        active = self._active.get(job_id)
        if active is not None and active.disk_error is None:
            active.disk_error = error
            log.warning("job_stopping_disk_full", job_id=job_id, detail=str(error.detail))

    async def _fail_for_disk(self, job_id: str, error: DiskFull, *, wrote: bool = False) -> None:
        """End the job `failed` with `error`, keeping no version of its files.

        `wrote`: a write has just failed for want of space, so the reserve is given up
        first; otherwise only if recording the failure itself meets a full disk. When even
        that fails the job stays `running` and is resumed once space is back (its lease
        expires), as before the reserve existed.
        """
        reason = f"{error.code}: {error.detail}"
        if wrote:
            self.disk.release()
        for attempt in (1, 2):
            try:
                await self._finish_without_running(job_id, "failed", reason)
            except Exception as exc:  # noqa: BLE001 — logged; the lease brings it back
                if attempt == 1 and disk_full(exc) and self.disk.release():
                    continue
                log.error("job_failure_unrecorded", job_id=job_id, reason=reason,
                          error=str(exc)[:300])
                return
            log.warning("job_failed_disk_full", job_id=job_id, reason=reason)
            return

    async def _store_outcome(
        self,
        job_id: str,
        result: JobResult,
        sink: JobEventSink,
        parent_job_id: str | None,
        instructions: str | None,
    ) -> None:
        usage = await paid_usage(self.sessionmaker, job_id)
        result = result.model_copy(update={"usage": usage})
        version: int | None = None
        async with session_scope(self.sessionmaker) as session:
            repo = JobRepo(session)
            try:
                row = await repo.get(job_id)
            except NotFound:
                return
            if row.status in TERMINAL_STATUSES or row.worker_id != self.worker_id:
                # Finished elsewhere meanwhile (cancelled from another process), or
                # taken over by another worker after this one stalled past its lease.
                return
            if result.files and result.status != "cancelled":
                report = build_report(result)
                report[REPORT_MD_KEY] = render_report_md(result)
                version = await VersionRepo(session).create(
                    parent_job_id or job_id, result.files, report, instructions
                )
            tests = result.final_report
            verdict = result.verdict
            await repo.finish(
                job_id,
                result.status,
                result.reason,
                usage=usage,
                tests=tests if tests is not None else None,
                duration=_duration(row, result),
                verdict=verdict,
            )
        self.job_changed(job_id, parent_job_id)
        self.metrics.jobs_total.labels(result.status).inc()
        log.info(
            "job_finished",
            status=result.status,
            reason=result.reason,
            calls=usage.calls,
            version=version,
        )
        data: dict[str, Any] = dict(sink.finished_event.data) if sink.finished_event else {}
        data.update(
            status=result.status,
            reason=result.reason,
            usage=usage.model_dump(),
            version=version,
            project_id=parent_job_id or job_id,
            verdict=verdict.verdict,
            verdict_detail=verdict.detail(),
        )
        await publish_event(
            self.sessionmaker, self.bus, Event(job_id=job_id, type="job_finished", data=data)
        )

    async def _finish_without_running(self, job_id: str, status: str, reason: str) -> str:
        return await finish_without_running(
            self.sessionmaker, self.bus, self.metrics, job_id, status, reason, self.job_changed
        )


async def finish_without_running(
    sessionmaker: SessionMaker,
    bus: EventBus,
    metrics: Metrics,
    job_id: str,
    status: str,
    reason: str,
    on_change: Callable[[str], None] | None = None,
) -> str:
    """End a job that has no result (never started, cancelled, crashed) in the database
    and announce it; returns its status (the one it already had if it was finished).

    A worker running it elsewhere notices at its next heartbeat and stops.
    Raises NotFound for an unknown job.
    """
    async with session_scope(sessionmaker) as session:
        repo = JobRepo(session)
        row = await repo.get(job_id)
        if row.status in TERMINAL_STATUSES:
            return row.status
        # No result to judge (never started, or stopped without one): untested.
        verdict = judge([], status, reason=reason)
        await repo.finish(job_id, status, reason, verdict=verdict)
    if on_change is not None:
        on_change(job_id)
    metrics.jobs_total.labels(status).inc()
    data = {"status": status, "reason": reason, "verdict": verdict.verdict,
            "verdict_detail": verdict.detail()}
    await publish_event(
        sessionmaker,
        bus,
        Event(job_id=job_id, type="job_finished", data=data),
    )
    return status


async def _with_template_hint(templates: TemplateRepo, spec: Spec) -> Spec:
    """The spec with its template id replaced by the template's text for the planner.

    The stored spec keeps the id; a template deleted since is passed on as its id.
    """
    if not spec.template:
        return spec
    try:
        row = await templates.get(spec.template)
    except NotFound:
        return spec
    hint = f"{row.name} ({row.language}). {row.prompt_hint}".strip()
    return spec.model_copy(update={"template": hint})


def _duration(row: JobRow, result: JobResult) -> float | None:
    if row.started_at is None:
        return result.duration_s or None
    return None  # the store measures from the first start: resumes included
