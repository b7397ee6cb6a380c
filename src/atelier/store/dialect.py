"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import NotFound
from atelier.store.models import JobCounterRow


def dialect_name(session: AsyncSession) -> str:
    """"sqlite" or "postgresql"."""
    return session.get_bind().dialect.name


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT for `table` that supports ``on_conflict_do_nothing/do_update`` on this engine."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def next_counter(session: AsyncSession, job_id: str, name: str) -> int:
    """Increment the job's counter `name` and return its new value (1 the first time).

    One upsert statement: on PostgreSQL the counter row is locked until the caller's
    transaction ends, so concurrent callers get consecutive values; on SQLite the
    write lock serialises them. A rollback gives the value back, so there are no gaps.
    Raises NotFound when the job does not exist.
    """
    stmt = (
        upsert_insert(session, JobCounterRow)
        .values(job_id=job_id, name=name, value=1)
        .on_conflict_do_update(
            index_elements=["job_id", "name"],
            set_={"value": JobCounterRow.__table__.c.value + 1},
        )
        .returning(JobCounterRow.__table__.c.value)
    )
    try:
        result = await session.execute(stmt)
    except exc.IntegrityError as err:
        raise NotFound(f"job {job_id} not found") from err
    return int(result.scalar_one())
