"""The runner as Celery workers use it: two workers on one database, a cancel made
through another process, a duplicated start, a worker without the job's model."""

from __future__ import annotations

import asyncio
from typing import Any

from atelier.domain.errors import ModelNotInstalled
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import InMemoryEventBus
from atelier.runtime.disk_guard import DiskGuard
from atelier.runtime.queue import QueueRunner
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings
from atelier.store import (
    EventLog,
    JobRepo,
    SessionMaker,
    session_scope,
)
from tests.unit.runtime.test_runner import FakePipeline, _async, _is, new_job, until


def _settings(**kwargs: Any) -> Settings:
    values: dict[str, Any] = {"job_lease_s": 30.0, "cancel_poll_s": 0.05, **kwargs}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def worker(sessionmaker: SessionMaker, pipeline: Any, **kwargs: Any) -> InProcessRunner:
    return InProcessRunner(
        _settings(),
        sessionmaker,
        InMemoryEventBus(),
        Metrics(),
        llm_factory=kwargs.pop("llm_factory", lambda *_: {}),
        pipeline=pipeline,
        reclaim_all_on_start=False,
        reclaim_running_only=True,
        # The default data dir is the user's: guard nothing there.
        disk_guard=kwargs.pop("disk_guard", DiskGuard([], reserve_bytes=0, min_free_bytes=0)),
        **kwargs,
    )


async def test_a_cancel_through_another_process_stops_the_worker_and_ends_the_log(
    sessionmaker: SessionMaker,
) -> None:
    pipeline = FakePipeline()
    runner = worker(sessionmaker, pipeline)
    api = QueueRunner(_settings(), sessionmaker, InMemoryEventBus(), Metrics())
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        runner.submit(job_id)
        await until(lambda: _async(pipeline.started == [job_id]))
        assert await api.cancel(job_id) == "cancelled"
        await until(lambda: _async(not runner.running_jobs()), timeout_s=5)
        async with session_scope(sessionmaker) as session:
            row = await JobRepo(session).get(job_id)
            events = await EventLog(session).list(job_id)
        assert row.status == "cancelled"
        assert events[-1].type == "job_finished" and events[-1].data["status"] == "cancelled"
        assert len([e for e in events if e.type == "job_finished"]) == 1
    finally:
        await runner.close()


async def test_a_duplicated_start_leaves_the_job_to_the_worker_holding_it(
    sessionmaker: SessionMaker,
) -> None:
    first, second = FakePipeline(), FakePipeline()
    a, b = worker(sessionmaker, first), worker(sessionmaker, second)
    await a.start()
    await b.start()
    try:
        job_id = await new_job(sessionmaker)
        a.submit(job_id)
        await until(lambda: _async(first.started == [job_id]))
        # The same message delivered to b: it returns at once, without running it.
        await asyncio.wait_for(b.run_to_end(job_id), 5)
        assert second.started == []
        first.release.set()
        await until(lambda: _is(sessionmaker, job_id, "succeeded"))
        async with session_scope(sessionmaker) as session:
            row = await JobRepo(session).get(job_id)
        assert row.attempts == 1
        assert row.steps["plan"]["worker"]["pid"] > 0
    finally:
        await a.close()
        await b.close()


async def test_a_worker_without_the_job_s_model_says_so_in_the_job_s_error(
    sessionmaker: SessionMaker,
) -> None:
    def no_model(*_: Any) -> Any:
        raise ModelNotInstalled("local model 'qwen2.5-coder-1.5b' is not installed in /data")

    runner = worker(sessionmaker, FakePipeline(), llm_factory=no_model)
    runner.pipeline = _pipeline_needing_llms(runner)
    await runner.start()
    try:
        job_id = await new_job(sessionmaker)
        await asyncio.wait_for(runner.run_to_end(job_id), 10)
        async with session_scope(sessionmaker) as session:
            row = await JobRepo(session).get(job_id)
        assert row.status == "failed"
        assert row.reason is not None
        assert row.reason.startswith("model_not_installed: worker ")
        assert "qwen2.5-coder-1.5b" in row.reason and "do not pull" in row.reason
    finally:
        await runner.close()


def _pipeline_needing_llms(runner: InProcessRunner) -> Any:
    async def pipeline(*_: Any, **__: Any) -> Any:
        raise AssertionError("the pipeline must not start without its models")

    return pipeline
