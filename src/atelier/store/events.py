"""The per-job event log: append with the next sequence number, read back in order."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.events import Event
from atelier.store.dialect import next_counter
from atelier.store.models import EventRow, JobCounterRow

EVENT_COUNTER = "event_seq"


def _to_event(row: EventRow) -> Event:
    return Event.model_validate(
        {
            "job_id": row.job_id,
            "type": row.type,
            "step": row.step,
            "data": row.data,
            "ts": row.ts,
            "seq": row.seq,
        }
    )


class EventLog:
    """Stored job events. `append` flushes; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, event: Event) -> Event:
        """Store `event` under the job's next sequence number and return it with `seq` set.

        Sequence numbers are 1, 2, 3 … per job with no gaps or duplicates, also when
        many sessions append concurrently (the per-job counter is taken in the same
        transaction as the insert). Raises NotFound when the job does not exist.
        """
        seq = await next_counter(self.session, event.job_id, EVENT_COUNTER)
        self.session.add(
            EventRow(
                job_id=event.job_id,
                seq=seq,
                type=event.type,
                step=event.step,
                data=event.data,
                ts=event.ts,
            )
        )
        await self.session.flush()
        return event.model_copy(update={"seq": seq})

    async def insert_first(self, events: Sequence[Event]) -> builtins.list[Event]:
        """The first event of each of many jobs created in this same transaction (see
        `JobRepo.insert_queued`): sequence number 1 and the job's counter row, in two
        executemany statements. Returns the events with `seq` set."""
        if not events:
            return []
        await self.session.execute(
            insert(cast(Table, JobCounterRow.__table__)),
            [{"job_id": e.job_id, "name": EVENT_COUNTER, "value": 1} for e in events],
        )
        await self.session.execute(
            insert(cast(Table, EventRow.__table__)),
            [
                {"job_id": e.job_id, "seq": 1, "type": e.type, "step": e.step, "data": e.data,
                 "ts": e.ts}
                for e in events
            ],
        )
        return [e.model_copy(update={"seq": 1}) for e in events]

    async def list(self, job_id: str, since: int = 0, limit: int = 1000) -> builtins.list[Event]:
        """Events of the job with ``seq > since``, in order, at most `limit` of them."""
        stmt = (
            select(EventRow)
            .where(EventRow.job_id == job_id, EventRow.seq > since)
            .order_by(EventRow.seq)
            .limit(limit)
        )
        return [_to_event(row) for row in (await self.session.execute(stmt)).scalars()]

    async def last_seq(self, job_id: str) -> int:
        """The highest sequence number stored for the job (0 when it has no events)."""
        result = await self.session.execute(
            select(func.max(EventRow.seq)).where(EventRow.job_id == job_id)
        )
        return int(result.scalar_one() or 0)
