"""Call recording and replay.

Every model call a job makes is recorded under a key that identifies the request and
how many identical requests came before it. A resumed job replays its recorded calls
instead of paying for them twice, and a test can replay a whole job bit for bit.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, runtime_checkable

from atelier.concurrency import run_to_completion
from atelier.llm.base import LLM, ChatRequest, ChatResult, DelegatingLLM


@runtime_checkable
class CallRecorder(Protocol):
    """Where recorded calls are kept (in memory for tests, the job's store in production)."""

    async def lookup(self, key: str) -> ChatResult | None:
        """The result recorded under `key`, or None."""
        ...

    async def record(self, key: str, request: ChatRequest, result: ChatResult) -> None:
        """Keep `result` of `request` under `key`, replacing any earlier record."""
        ...


class InMemoryCallRecorder:
    """A CallRecorder in a dict; `calls` keeps (key, request, result) in recording order."""

    def __init__(self) -> None:
        self._results: dict[str, ChatResult] = {}
        self.calls: list[tuple[str, ChatRequest, ChatResult]] = []

    async def lookup(self, key: str) -> ChatResult | None:
        return self._results.get(key)

    async def record(self, key: str, request: ChatRequest, result: ChatResult) -> None:
        self._results[key] = result
        self.calls.append((key, request, result))

    def __len__(self) -> int:
        return len(self._results)


class RecordingLLM(DelegatingLLM):
    """Serves recorded results when it has them; otherwise calls `inner` and records.

    The n-th identical request made through this wrapper gets occurrence index n, so
    sampling the same prompt twice records (and later replays) two different calls.
    The index is taken when the call starts, before any await, so concurrent tasks
    started in a fixed order get the same indices on every run.
    A replayed result is marked `replayed=True`; its usage is the original call's, which
    the budget must not count again. Errors from `inner` are not recorded.
    """

    def __init__(self, inner: LLM, recorder: CallRecorder) -> None:
        super().__init__(inner)
        self.recorder = recorder
        self._seen: Counter[str] = Counter()

    def next_key(self, request: ChatRequest) -> str:
        """Claim the key for the next occurrence of `request`: "<cache_key>:<n>", n from 0."""
        base = request.cache_key(self.provider, self.model)
        occurrence = self._seen[base]
        self._seen[base] = occurrence + 1
        return f"{base}:{occurrence}"

    async def chat(self, request: ChatRequest) -> ChatResult:
        """Replay the recorded result for this occurrence, or call `inner` and record it.

        Raises whatever `inner` or the recorder raise.
        """
        key = self.next_key(request)
        recorded = await self.recorder.lookup(key)
        if recorded is not None:
            return recorded.model_copy(update={"replayed": True})
        result = await self.inner.chat(request)
        if "\x00" in result.text:
            # PostgreSQL stores no NUL in text or JSON: a stray one in a reply would fail
            # the record (a paid call lost) and every event and file holding it.
            result = result.model_copy(update={"text": result.text.replace("\x00", "\ufffd")})
        # Paid for now: the record must be written even if this task is being cancelled
        # (a shutdown, a cancel), or the resumed job pays for the call a second time.
        await run_to_completion(
            self.recorder.record(key, request, result.model_copy(update={"replayed": False}))
        )
        return result
