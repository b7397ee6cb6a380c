"""The database call record, seen through the LLM layer's `CallRecorder` protocol."""

from __future__ import annotations

from atelier.llm.base import ChatRequest, ChatResult
from atelier.store import DbCallRecords


class DbCallRecorder:
    """Adapts `store.DbCallRecords` (plain JSON) to `llm.recording.CallRecorder` (typed)."""

    def __init__(self, records: DbCallRecords) -> None:
        self.records = records

    async def lookup(self, key: str) -> ChatResult | None:
        """The recorded result under `key`, or None. A record that no longer parses is
        treated as absent (the call is made again and re-recorded)."""
        data = await self.records.lookup_json(key)
        if data is None:
            return None
        try:
            return ChatResult.model_validate(data)
        except ValueError:
            return None

    async def record(self, key: str, request: ChatRequest, result: ChatResult) -> None:
        await self.records.record_json(
            key, request.model_dump(mode="json"), result.model_dump(mode="json")
        )
