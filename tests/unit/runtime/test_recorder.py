"""The database call record seen as an LLM CallRecorder."""

from __future__ import annotations

from pathlib import Path

from atelier.domain.spec import Spec
from atelier.domain.usage import CallUsage
from atelier.llm.base import ChatRequest, ChatResult, Message
from atelier.runtime.progress import paid_usage
from atelier.runtime.recorder import DbCallRecorder
from atelier.store import (
    DbCallRecords,
    JobRepo,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)


async def test_recorded_results_come_back_typed_and_count_as_paid(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await migrate(url)
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with session_scope(sessionmaker) as session:
            user = await UserRepo(session).create("u")
            job_id = (await JobRepo(session).create(user.id, Spec(prompt="p"))).id
        recorder = DbCallRecorder(DbCallRecords(sessionmaker, job_id))
        request = ChatRequest(messages=[Message(role="user", content="hi")], agent="planner")
        result = ChatResult(
            text="hello",
            provider="scripted",
            model="m",
            usage=CallUsage(prompt_tokens=3, completion_tokens=2, cost_usd=0.5),
        )
        assert await recorder.lookup("k:0") is None
        await recorder.record("k:0", request, result)
        await recorder.record("k:1", request, result)
        back = await recorder.lookup("k:0")
        assert back == result
        usage = await paid_usage(sessionmaker, job_id)
        assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (2, 6, 4)
        assert usage.cost_usd == 1.0
    finally:
        await engine.dispose()
