"""The in-process runner with a stand-in pipeline: slots, cancel, crash, resume."""

from __future__ import annotations

import asyncio
from typing import Any

from atelier.domain.events import Event
from atelier.domain.job import JobResult, TestRound
from atelier.domain.report import TestCase, TestReport
from atelier.domain.spec import Spec
from atelier.observability.metrics import Metrics
from atelier.pipeline.ports import EventSink
from atelier.runtime.bus import InMemoryEventBus
from atelier.runtime.disk_guard import DiskGuard
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings
from atelier.store import (
    EventLog,
    JobRepo,
    SessionMaker,
    UserRepo,
    VersionRepo,
    session_scope,
)


class FakePipeline:
    """Emits a step, then waits for `release` (or a cancel) before finishing."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started: list[str] = []
        self.crash = False
        self.rounds: list[TestRound] = []

    async def __call__(
        self, job_id: str, spec: Spec, *, emit: EventSink, cancel_event: asyncio.Event, **_: Any
    ) -> JobResult:
        self.started.append(job_id)
        await emit(Event(job_id=job_id, type="job_started"))
        await emit(Event(job_id=job_id, type="step_started", step="plan", data={"progress": 0.0}))
        if self.crash:
            raise RuntimeError("bug in a step")
        released = asyncio.create_task(self.release.wait())
        cancelled = asyncio.create_task(cancel_event.wait())
        await asyncio.wait({released, cancelled}, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        cancelled.cancel()
        if cancel_event.is_set():
            return JobResult(job_id=job_id, status="cancelled", reason="cancelled by request")
        await emit(
            Event(
                job_id=job_id,
                type="step_finished",
                step="plan",
                data={"progress": 1.0, "duration_s": 0.01},
            )
        )
        await emit(Event(job_id=job_id, type="job_finished", data={"status": "succeeded"}))
        return JobResult(
            job_id=job_id, status="succeeded", files={"main.py": "print(1)\n"}, rounds=self.rounds
        )


def make_runner(
    sessionmaker: SessionMaker, pipeline: FakePipeline, slots: int = 1, **kwargs: Any
) -> InProcessRunner:
    settings = Settings(_env_file=None, max_concurrent_jobs=slots)  # type: ignore[call-arg]
    # The default data dir is the user's: guard nothing there (test_runner_disk_full.py
    # gives its runners a guarded temp dir).
    kwargs.setdefault("disk_guard", DiskGuard([], reserve_bytes=0, min_free_bytes=0))
    return InProcessRunner(
        settings,
        sessionmaker,
        InMemoryEventBus(),
        Metrics(),
        llm_factory=lambda *_: {},
        pipeline=pipeline,
        **kwargs,
    )


async def new_job(sessionmaker: SessionMaker) -> str:
    async with session_scope(sessionmaker) as session:
        users = UserRepo(session)
        user = await users.get_by_name("u") or await users.create("u")
        return (await JobRepo(session).create(user.id, Spec(prompt="p"))).id


async def status_of(sessionmaker: SessionMaker, job_id: str) -> str:
    async with session_scope(sessionmaker) as session:
        return (await JobRepo(session).get(job_id)).status


async def until(predicate: Any, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def test_jobs_beyond_the_slots_wait_then_run(sessionmaker: SessionMaker) -> None:
    pipeline = FakePipeline()
    runner = make_runner(sessionmaker, pipeline, slots=1)
    await runner.start()
    try:
        first, second = await new_job(sessionmaker), await new_job(sessionmaker)
        runner.submit(first)
        runner.submit(second)
        await until(lambda: _async(pipeline.started == [first]))
        assert runner.running_jobs() == [first] and runner.queued_jobs() == [second]
        assert await status_of(sessionmaker, second) == "queued"
        pipeline.release.set()
        await until(lambda: _async(not runner.running_jobs() and not runner.queued_jobs()))
        assert await status_of(sessionmaker, first) == "succeeded"
        assert await status_of(sessionmaker, second) == "succeeded"
        async with session_scope(sessionmaker) as session:
            assert await VersionRepo(session).latest_number(first) == 1
            row = await JobRepo(session).get(first)
            assert row.progress == 1.0 and row.steps["plan"]["status"] == "done"
            events = await EventLog(session).list(first)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "job_finished" and events[-1].data["version"] == 1
    finally:
        await runner.close()


async def test_cancel_of_a_queued_job_and_of_a_running_one(sessionmaker: SessionMaker) -> None:
    pipeline = FakePipeline()
    runner = make_runner(sessionmaker, pipeline, slots=1)
    await runner.start()
    try:
        running, queued = await new_job(sessionmaker), await new_job(sessionmaker)
        runner.submit(running)
        runner.submit(queued)
        await until(lambda: _async(pipeline.started == [running]))
        assert await runner.cancel(queued) == "cancelled"
        assert await status_of(sessionmaker, queued) == "cancelled"
        assert await runner.cancel(running) == "running"
        await until(lambda: _is(sessionmaker, running, "cancelled"))
        assert pipeline.started == [running], "the cancelled queued job never started"
    finally:
        await runner.close()


async def test_a_finished_job_stores_its_verdict_and_its_final_event_carries_it(
    sessionmaker: SessionMaker,
) -> None:
    pipeline = FakePipeline()
    failing = TestReport(
        passed=1,
        failed=1,
        cases=[
            TestCase(name="test_add", classname="tests.test_main", outcome="failed", message="no"),
            TestCase(name="test_mul", classname="tests.test_main", outcome="passed"),
        ],
    )
    pipeline.rounds = [TestRound(round=0, report=failing)]
    pipeline.release.set()
    runner = make_runner(sessionmaker, pipeline)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        await until(lambda: _is(sessionmaker, job_id, "succeeded"))
        async with session_scope(sessionmaker) as session:
            row = await JobRepo(session).get(job_id)
            events = await EventLog(session).list(job_id)
            report = (await VersionRepo(session).list(job_id))[0].report
    finally:
        await runner.close()
    assert row.verdict == "failing"
    assert row.verdict_detail is not None
    assert row.verdict_detail["failing_tests"] == ["tests.test_main::test_add"]
    # The stand-in's own job_finished carries no verdict: the runner's final event does.
    assert events[-1].type == "job_finished" and events[-1].data["verdict"] == "failing"
    assert events[-1].data["verdict_detail"] == row.verdict_detail
    assert report["verdict"]["verdict"] == "failing"


async def test_a_job_cancelled_before_it_ran_is_untested(sessionmaker: SessionMaker) -> None:
    pipeline = FakePipeline()
    runner = make_runner(sessionmaker, pipeline, slots=1)
    await runner.start()
    try:
        running, queued = await new_job(sessionmaker), await new_job(sessionmaker)
        runner.submit(running)
        runner.submit(queued)
        await until(lambda: _async(pipeline.started == [running]))
        assert await runner.cancel(queued) == "cancelled"
        async with session_scope(sessionmaker) as session:
            row = await JobRepo(session).get(queued)
            events = await EventLog(session).list(queued)
        pipeline.release.set()
    finally:
        await runner.close()
    assert row.verdict == "untested"
    assert row.verdict_detail is not None
    assert row.verdict_detail["reason"] == "the job was cancelled before any test ran"
    assert events[-1].type == "job_finished" and events[-1].data["verdict"] == "untested"


async def test_a_crashing_job_fails_and_the_runner_goes_on(sessionmaker: SessionMaker) -> None:
    pipeline = FakePipeline()
    pipeline.crash = True
    runner = make_runner(sessionmaker, pipeline)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        await until(lambda: _is(sessionmaker, job_id, "failed"))
        async with session_scope(sessionmaker) as session:
            reason = (await JobRepo(session).get(job_id)).reason
        assert reason is not None and reason.startswith("internal_error: RuntimeError")
        pipeline.crash = False
        pipeline.release.set()
        other = await new_job(sessionmaker)
        runner.submit(other)
        await until(lambda: _is(sessionmaker, other, "succeeded"))
    finally:
        await runner.close()


async def test_close_leaves_jobs_to_resume_and_start_resumes_them(
    sessionmaker: SessionMaker,
) -> None:
    pipeline = FakePipeline()
    runner = make_runner(sessionmaker, pipeline)
    await runner.start()
    job_id = await new_job(sessionmaker)
    queued = await new_job(sessionmaker)  # never submitted: as if the API died after commit
    runner.submit(job_id)
    await until(lambda: _async(pipeline.started == [job_id]))
    await runner.close()
    assert await status_of(sessionmaker, job_id) == "running"

    pipeline.release.set()
    successor = make_runner(sessionmaker, pipeline, slots=2)
    resumed = await successor.start()
    try:
        assert set(resumed) == {job_id, queued}
        await until(lambda: _is(sessionmaker, job_id, "succeeded"))
        await until(lambda: _is(sessionmaker, queued, "succeeded"))
        async with session_scope(sessionmaker) as session:
            assert (await JobRepo(session).get(job_id)).attempts == 2
    finally:
        await successor.close()


async def test_a_live_lease_is_not_taken_over_without_force(sessionmaker: SessionMaker) -> None:
    pipeline = FakePipeline()
    runner = make_runner(sessionmaker, pipeline)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        await until(lambda: _async(pipeline.started == [job_id]))
        replica = make_runner(sessionmaker, FakePipeline(), reclaim_all_on_start=False)
        assert await replica.start() == []
        await replica.close()
        pipeline.release.set()
        await until(lambda: _is(sessionmaker, job_id, "succeeded"))
    finally:
        await runner.close()


async def _async(value: bool) -> bool:
    return value


async def _is(sessionmaker: SessionMaker, job_id: str, status: str) -> bool:
    return await status_of(sessionmaker, job_id) == status
