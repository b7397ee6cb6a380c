"""The runner when the data dir's disk is full: a job ends `failed` with `disk_full`
and keeps nothing — met by a write (ENOSPC, SQLite's "database or disk is full"), by
the pre-flight before it starts, or by the heartbeat while it waits on a long call —
and the next job runs once space is back. A full disk is simulated: statvfs is made to
report no room, and the failing writes are raised by stand-in pipelines."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from atelier.domain.errors import AtelierError
from atelier.domain.events import Event
from atelier.domain.job import JobResult
from atelier.domain.spec import Spec
from atelier.observability.metrics import Metrics
from atelier.pipeline.ports import EventSink
from atelier.runtime import disk_guard
from atelier.runtime.bus import InMemoryEventBus
from atelier.runtime.disk_guard import RESERVE_NAME, DiskGuard
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings
from atelier.store import (
    EventLog,
    JobRepo,
    SessionMaker,
    VersionRepo,
    session_scope,
)
from tests.unit.runtime.test_runner import FakePipeline, new_job, status_of, until

MB = 1024 * 1024
REASON_START = "disk_full: no space left on the disk holding "
REASON_END = "free space on that disk, then retry the job"


class Disk:
    """The free space every guarded disk reports; None: the real one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.free_mb: float | None = None
        real = disk_guard.free_bytes
        monkeypatch.setattr(
            disk_guard,
            "free_bytes",
            lambda path: real(path) if self.free_mb is None else int(self.free_mb * MB),
        )


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> Disk:
    return Disk(monkeypatch)


def make_runner(sessionmaker: SessionMaker, pipeline: Any, data: Path) -> InProcessRunner:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data, job_lease_s=30.0, cancel_poll_s=0.05
    )
    guard = DiskGuard([data], reserve_bytes=MB, min_free_bytes=2 * MB)
    return InProcessRunner(
        settings,
        sessionmaker,
        InMemoryEventBus(),
        Metrics(),
        llm_factory=lambda *_: {},
        pipeline=pipeline,
        disk_guard=guard,
    )


async def finished(sessionmaker: SessionMaker, job_id: str) -> tuple[str, str | None, int | None]:
    """Status, reason and latest version of a job once it is over."""
    await until(lambda: _is_over(sessionmaker, job_id))
    async with session_scope(sessionmaker) as session:
        row = await JobRepo(session).get(job_id)
        events = await EventLog(session).list(job_id)
        version = await VersionRepo(session).latest_number(job_id)
    assert events[-1].type == "job_finished" and events[-1].data["status"] == row.status
    return row.status, row.reason, version


async def _is_over(sessionmaker: SessionMaker, job_id: str) -> bool:
    return await status_of(sessionmaker, job_id) in ("succeeded", "failed", "cancelled")


class WriteFails:
    """Emits a step, writes a file's event, then meets the full disk on its next write."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def __call__(self, job_id: str, spec: Spec, *, emit: EventSink, **_: Any) -> JobResult:
        await emit(Event(job_id=job_id, type="step_started", step="code", data={}))
        await emit(Event(job_id=job_id, type="file_written", step="code", data={"path": "a.py"}))
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full")),
        OSError(errno.ENOSPC, "No space left on device", "/data/envs/x"),
    ],
    ids=["sqlite_full", "enospc"],
)
async def test_a_write_that_meets_a_full_disk_fails_the_job_and_gives_up_the_reserve(
    sessionmaker: SessionMaker, tmp_path: Path, error: BaseException
) -> None:
    data = tmp_path / "data"
    runner = make_runner(sessionmaker, WriteFails(error), data)
    await runner.start()
    try:
        assert (data / RESERVE_NAME).stat().st_size == MB
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        status, reason, version = await finished(sessionmaker, job_id)
    finally:
        await runner.close()
    assert status == "failed" and version is None
    assert reason is not None and reason.startswith(REASON_START), reason
    assert reason.endswith(REASON_END) and "MB free" in reason
    assert not (data / RESERVE_NAME).exists()  # given up to record the failure


async def test_no_job_starts_on_a_full_disk_and_the_next_runs_once_space_is_back(
    sessionmaker: SessionMaker, tmp_path: Path, disk: Disk
) -> None:
    pipeline = FakePipeline()
    pipeline.release.set()
    data = tmp_path / "data"
    runner = make_runner(sessionmaker, pipeline, data)
    await runner.start()
    try:
        disk.free_mb = 0.5
        refused = await new_job(sessionmaker)
        runner.submit(refused)
        status, reason, version = await finished(sessionmaker, refused)
        assert (status, version) == ("failed", None)
        assert reason == (
            f"{REASON_START}{data} (0.5 MB free, jobs need at least 2.0 MB): {REASON_END}"
        )
        assert pipeline.started == []  # no work it could not save
        assert (data / RESERVE_NAME).exists()  # recording it needed no more room

        disk.free_mb = None
        again = await new_job(sessionmaker)
        runner.submit(again)
        assert (await finished(sessionmaker, again))[:1] == ("succeeded",)
    finally:
        await runner.close()


async def test_a_job_waiting_on_a_long_call_fails_within_seconds_of_the_disk_filling(
    sessionmaker: SessionMaker, tmp_path: Path, disk: Disk
) -> None:
    pipeline = FakePipeline()  # waits for a release that never comes: a long model call
    data = tmp_path / "data"
    runner = make_runner(sessionmaker, pipeline, data)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        await until(lambda: _started(pipeline, job_id))
        disk.free_mb = 0
        loop = asyncio.get_running_loop()
        began = loop.time()
        status, reason, version = await finished(sessionmaker, job_id)
        took = loop.time() - began
    finally:
        await runner.close()
    # Not `cancelled`, and none of what it had made kept as a version.
    assert (status, version) == ("failed", None)
    assert reason is not None and reason.startswith(REASON_START), reason
    assert took < 5, took


async def test_the_check_before_each_step_stops_the_job_before_the_step_works(
    sessionmaker: SessionMaker, tmp_path: Path, disk: Disk
) -> None:
    steps: list[str] = []

    async def two_steps(job_id: str, spec: Spec, *, emit: EventSink, **_: Any) -> JobResult:
        for step in ("plan", "code"):
            try:
                await emit(Event(job_id=job_id, type="step_started", step=step, data={}))
            except AtelierError as exc:  # as the pipeline does
                return JobResult(
                    job_id=job_id, status="failed", reason=str(exc), files={"half.py": "x = 1\n"}
                )
            steps.append(step)
            disk.free_mb = 0  # the plan step filled the disk
        return JobResult(job_id=job_id, status="succeeded", files={"a.py": "x = 1\n"})

    data = tmp_path / "data"
    runner = make_runner(sessionmaker, two_steps, data)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        status, reason, version = await finished(sessionmaker, job_id)
    finally:
        await runner.close()
    assert steps == ["plan"]
    assert (status, version) == ("failed", None)  # the half-made files are not a version
    assert reason is not None and reason.startswith(REASON_START), reason


async def _started(pipeline: FakePipeline, job_id: str) -> bool:
    return job_id in pipeline.started
