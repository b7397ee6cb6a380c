"""Checkpoints and recorded model calls, each in their own committed sessions."""

from __future__ import annotations

import pytest

from atelier.domain.errors import NotFound
from atelier.domain.job import Checkpoint, TestRound
from atelier.domain.plan import FileSpec, Plan
from atelier.domain.report import TestReport
from atelier.domain.spec import Spec
from atelier.domain.usage import Usage
from atelier.pipeline.ports import CheckpointStore
from atelier.store import (
    CallRecordRepo,
    DbCallRecords,
    DbCheckpointStore,
    JobRepo,
    SessionMaker,
    session_scope,
)


async def _job(sessionmaker: SessionMaker, user_id: str, spec: Spec) -> str:
    async with session_scope(sessionmaker) as session:
        return (await JobRepo(session).create(user_id, spec)).id


async def test_checkpoint_round_trip_and_overwrite(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    store: CheckpointStore = DbCheckpointStore(sessionmaker)
    assert await store.load_checkpoint(job_id) is None
    checkpoint = Checkpoint(
        completed_steps=["plan", "code"],
        plan=Plan(name="wc", files=[FileSpec(path="wc.py", purpose="count")]),
        files={"wc.py": "print(1)\n"},
        rounds=[TestRound(round=0, report=TestReport(passed=1))],
        usage=Usage(calls=3, prompt_tokens=30),
        step_durations_s={"plan": 1.5},
    )
    await store.save_checkpoint(job_id, checkpoint)
    assert await store.load_checkpoint(job_id) == checkpoint
    later = checkpoint.model_copy(update={"completed_steps": ["plan", "code", "test"]})
    await store.save_checkpoint(job_id, later)
    assert await store.load_checkpoint(job_id) == later
    await DbCheckpointStore(sessionmaker).delete_checkpoint(job_id)
    assert await store.load_checkpoint(job_id) is None
    with pytest.raises(NotFound):
        await store.save_checkpoint("no-such-job", checkpoint)


async def test_call_records_lookup_record_replace_and_count(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    other = await _job(sessionmaker, user_id, spec)
    records = DbCallRecords(sessionmaker, job_id)
    request = {"messages": [{"role": "user", "content": "hi"}], "agent": "planner"}
    result = {
        "text": "hello", "provider": "scripted", "model": "m1",
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "cost_usd": 0.002,
                  "latency_s": 0.25},
    }
    assert await records.lookup_json("k:0") is None
    await records.record_json("k:0", request, result)
    assert await records.lookup_json("k:0") == result
    assert await DbCallRecords(sessionmaker, other).lookup_json("k:0") is None

    await records.record_json("k:0", request, {**result, "text": "again"}, latency_s=9.0)
    await records.record_json("k:1", request, result, agent="coder", prompt_tokens=100)
    assert (await records.lookup_json("k:0") or {})["text"] == "again"
    assert await records.count_calls() == 2
    assert await records.count_calls(other) == 0

    async with session_scope(sessionmaker) as session:
        repo = CallRecordRepo(session)
        rows = await repo.list(job_id)
        assert await repo.keys(job_id) == ["k:0", "k:1"]
    first, second = rows
    assert (first.agent, first.provider, first.model) == ("planner", "scripted", "m1")
    assert (first.prompt_tokens, first.completion_tokens) == (7, 3)
    assert first.cost_usd == pytest.approx(0.002) and first.latency_s == 9.0
    assert (second.agent, second.prompt_tokens) == ("coder", 100)
    with pytest.raises(NotFound):
        await DbCallRecords(sessionmaker, "no-such-job").record_json("k", request, result)
