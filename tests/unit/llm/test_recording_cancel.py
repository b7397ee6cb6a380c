"""A call the provider answered is recorded even when the job is cancelled while the
record is being written: otherwise the resumed job pays for the call a second time."""

from __future__ import annotations

import asyncio

import pytest

from atelier.llm.base import ChatRequest, ChatResult, Message
from atelier.llm.recording import InMemoryCallRecorder, RecordingLLM
from atelier.llm.scripted import ScriptedLLM


class SlowRecorder(InMemoryCallRecorder):
    def __init__(self) -> None:
        super().__init__()
        self.writing = asyncio.Event()

    async def record(self, key: str, request: ChatRequest, result: ChatResult) -> None:
        self.writing.set()
        await asyncio.sleep(0.05)  # a database write in flight
        await super().record(key, request, result)


async def test_a_cancel_during_the_record_still_keeps_the_paid_call() -> None:
    recorder = SlowRecorder()
    llm = RecordingLLM(ScriptedLLM({"coder": ["x = 1"]}), recorder)
    request = ChatRequest(messages=[Message(role="user", content="hi")], agent="coder")
    task = asyncio.create_task(llm.chat(request))
    await recorder.writing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(recorder) == 1
    replayed = await RecordingLLM(ScriptedLLM({"coder": ["other"]}), recorder).chat(request)
    assert replayed.replayed and replayed.text == "x = 1"


async def test_a_failing_record_still_raises() -> None:
    class Broken(InMemoryCallRecorder):
        async def record(self, key: str, request: ChatRequest, result: ChatResult) -> None:
            raise OSError("disk full")

    llm = RecordingLLM(ScriptedLLM({"coder": ["x = 1"]}), Broken())
    request = ChatRequest(messages=[Message(role="user", content="hi")], agent="coder")
    with pytest.raises(OSError, match="disk full"):
        await llm.chat(request)


async def test_a_nul_in_a_reply_is_replaced_before_it_is_recorded() -> None:
    # PostgreSQL can store no NUL in text or JSON; a model's stray one must not fail jobs.
    recorder = InMemoryCallRecorder()
    llm = RecordingLLM(ScriptedLLM({"coder": ["x\x00y"]}), recorder)
    request = ChatRequest(messages=[Message(role="user", content="hi")], agent="coder")
    assert (await llm.chat(request)).text == "x\ufffdy"
    assert recorder.calls[0][2].text == "x\ufffdy"
