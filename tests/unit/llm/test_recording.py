"""RecordingLLM: record on first run, replay on the next, occurrence-indexed keys."""

from __future__ import annotations

import asyncio

import pytest

from atelier.domain.errors import LLMError
from atelier.domain.usage import CallUsage
from atelier.llm.base import LLM, ChatRequest, ChatResult, Message
from atelier.llm.recording import CallRecorder, InMemoryCallRecorder, RecordingLLM


class CountingLLM:
    """Answers 'reply N' for its N-th call; fails when told to."""

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    @property
    def provider(self) -> str:
        return "counting"

    @property
    def model(self) -> str:
        return "m1"

    @property
    def context_window(self) -> int:
        return 1000

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.calls += 1
        if self.fail:
            raise LLMError("provider down")
        await asyncio.sleep(0)
        return ChatResult(
            text=f"reply {self.calls}",
            usage=CallUsage(prompt_tokens=3, completion_tokens=2, cost_usd=0.01),
            provider=self.provider,
            model=self.model,
        )


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], **kw)  # type: ignore[arg-type]


async def test_first_run_records_and_second_run_replays_without_calling() -> None:
    recorder = InMemoryCallRecorder()
    first_inner = CountingLLM()
    first = RecordingLLM(first_inner, recorder)
    a = await first.chat(ask("plan"))
    b = await first.chat(ask("code"))
    assert (a.text, b.text, a.replayed) == ("reply 1", "reply 2", False)
    assert first_inner.calls == 2 and len(recorder) == 2

    # a resumed job: a new wrapper, a provider that would fail if called
    second_inner = CountingLLM(fail=True)
    second = RecordingLLM(second_inner, recorder)
    a2 = await second.chat(ask("plan"))
    b2 = await second.chat(ask("code"))
    assert (a2.text, b2.text) == ("reply 1", "reply 2")
    assert a2.replayed and b2.replayed
    assert a2.usage == a.usage  # the original cost, for the report; budgets skip replays
    assert second_inner.calls == 0


async def test_identical_requests_are_recorded_separately_by_occurrence() -> None:
    recorder = InMemoryCallRecorder()
    llm = RecordingLLM(CountingLLM(), recorder)
    samples = [await llm.chat(ask("same", temperature=0.8)) for _ in range(3)]
    assert [s.text for s in samples] == ["reply 1", "reply 2", "reply 3"]
    keys = [key for key, _, _ in recorder.calls]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["0", "1", "2"]
    assert len({k.rsplit(":", 1)[0] for k in keys}) == 1

    replay = RecordingLLM(CountingLLM(fail=True), recorder)
    again = [await replay.chat(ask("same", temperature=0.8)) for _ in range(3)]
    assert [s.text for s in again] == ["reply 1", "reply 2", "reply 3"]


async def test_a_partly_recorded_job_replays_then_calls_the_provider() -> None:
    recorder = InMemoryCallRecorder()
    await RecordingLLM(CountingLLM(), recorder).chat(ask("same"))

    inner = CountingLLM()
    resumed = RecordingLLM(inner, recorder)
    first = await resumed.chat(ask("same"))
    second = await resumed.chat(ask("same"))
    assert first.replayed and not second.replayed
    assert inner.calls == 1 and len(recorder) == 2


async def test_key_depends_on_everything_that_shapes_the_reply() -> None:
    recorder = InMemoryCallRecorder()
    llm = RecordingLLM(CountingLLM(), recorder)
    await llm.chat(ask("x"))
    await llm.chat(ask("x", temperature=0.5))
    await llm.chat(ask("x", json_schema={"type": "object"}))
    await llm.chat(ask("x", agent="coder"))
    bases = {key.rsplit(":", 1)[0] for key, _, _ in recorder.calls}
    assert len(bases) == 4


async def test_concurrent_calls_get_keys_in_start_order() -> None:
    recorder = InMemoryCallRecorder()
    llm = RecordingLLM(CountingLLM(), recorder)
    await asyncio.gather(*(llm.chat(ask("same")) for _ in range(4)))
    occurrences = sorted(int(key.rsplit(":", 1)[1]) for key, _, _ in recorder.calls)
    assert occurrences == [0, 1, 2, 3]


async def test_failures_are_not_recorded() -> None:
    recorder = InMemoryCallRecorder()
    with pytest.raises(LLMError):
        await RecordingLLM(CountingLLM(fail=True), recorder).chat(ask("x"))
    assert len(recorder) == 0


def test_types_satisfy_their_protocols() -> None:
    recorder = InMemoryCallRecorder()
    assert isinstance(recorder, CallRecorder)
    assert isinstance(RecordingLLM(CountingLLM(), recorder), LLM)
