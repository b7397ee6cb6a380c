"""Recorded model calls, so a resumed or replayed job never pays for a call twice.

The store may not import `atelier.llm`, so requests and results are plain JSON dicts
here (``ChatRequest.model_dump(mode="json")`` / ``ChatResult.model_dump(mode="json")``);
the runtime adapts `DbCallRecords` to the `llm.recording.CallRecorder` protocol.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.domain.errors import NotFound
from atelier.store.db import session_scope
from atelier.store.dialect import upsert_insert
from atelier.store.models import LlmCallRow
from atelier.store.types import utcnow


class DbCallRecords:
    """The call record of one job. Each call uses its own short session and commits
    (it is called from inside the pipeline, a process edge).
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], job_id: str) -> None:
        self.sessionmaker = sessionmaker
        self.job_id = job_id

    async def lookup_json(self, key: str) -> dict[str, Any] | None:
        """The result dict recorded under `key` for this job, or None."""
        async with session_scope(self.sessionmaker) as session:
            result = await session.execute(
                select(LlmCallRow.response).where(
                    LlmCallRow.job_id == self.job_id, LlmCallRow.key == key
                )
            )
            response = result.scalar_one_or_none()
            return None if response is None else dict(response)

    async def record_json(
        self,
        key: str,
        request: dict[str, Any],
        result: dict[str, Any],
        *,
        agent: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        cost_usd: float | None = None,
        latency_s: float | None = None,
    ) -> None:
        """Keep `result` of `request` under `key`, replacing an earlier record of the key.

        Fields left None are read from the dicts: `agent` from the request, `provider`,
        `model` and the ``usage`` numbers from the result. Raises NotFound when the job
        does not exist.
        """
        usage = result.get("usage") or {}
        values = {
            "job_id": self.job_id,
            "key": key,
            "agent": agent if agent is not None else str(request.get("agent", "")),
            "provider": provider if provider is not None else str(result.get("provider", "")),
            "model": model if model is not None else str(result.get("model", "")),
            "request": request,
            "response": result,
            "prompt_tokens": _pick(prompt_tokens, usage, "prompt_tokens", int),
            "completion_tokens": _pick(completion_tokens, usage, "completion_tokens", int),
            "cost_usd": _pick(cost_usd, usage, "cost_usd", float),
            "latency_s": _pick(latency_s, usage, "latency_s", float),
            "created_at": utcnow(),
        }
        async with session_scope(self.sessionmaker) as session:
            stmt = upsert_insert(session, LlmCallRow).values(**values)
            replaced = {
                name: stmt.excluded[name] for name in values if name not in ("job_id", "key")
            }
            try:
                await session.execute(
                    stmt.on_conflict_do_update(index_elements=["job_id", "key"], set_=replaced)
                )
            except IntegrityError as err:
                raise NotFound(f"job {self.job_id} not found") from err

    async def count_calls(self, job_id: str | None = None) -> int:
        """How many calls are recorded for `job_id` (default: this record's job)."""
        async with session_scope(self.sessionmaker) as session:
            return await CallRecordRepo(session).count(job_id or self.job_id)


def _pick(explicit: Any, usage: dict[str, Any], name: str, cast: type[Any]) -> Any:
    if explicit is not None:
        return cast(explicit)
    return cast(usage.get(name, 0) or 0)


class CallRecordRepo:
    """Read access to recorded calls inside the caller's session (API, stats)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def count(self, job_id: str) -> int:
        """Number of recorded calls of the job."""
        result = await self.session.execute(
            select(func.count()).select_from(LlmCallRow).where(LlmCallRow.job_id == job_id)
        )
        return int(result.scalar_one())

    async def list(self, job_id: str, limit: int = 500, offset: int = 0) -> Sequence[LlmCallRow]:
        """The job's recorded calls in recording order."""
        stmt = (
            select(LlmCallRow)
            .where(LlmCallRow.job_id == job_id)
            .order_by(LlmCallRow.id)
            .limit(limit)
            .offset(offset)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def keys(self, job_id: str) -> builtins.list[str]:
        """The keys recorded for the job, in recording order."""
        stmt = select(LlmCallRow.key).where(LlmCallRow.job_id == job_id).order_by(LlmCallRow.id)
        return builtins.list((await self.session.execute(stmt)).scalars().all())
