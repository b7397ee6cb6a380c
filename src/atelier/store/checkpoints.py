"""`pipeline.ports.CheckpointStore` on the database."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from atelier.domain.errors import NotFound
from atelier.domain.job import Checkpoint
from atelier.store.db import session_scope
from atelier.store.dialect import upsert_insert
from atelier.store.models import CheckpointRow
from atelier.store.types import utcnow


class DbCheckpointStore:
    """Keeps each job's latest checkpoint. Called from the pipeline (a process edge), so
    each call uses its own short session and commits.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def load_checkpoint(self, job_id: str) -> Checkpoint | None:
        """The job's latest checkpoint, or None when it has none.

        Raises pydantic.ValidationError when the stored checkpoint no longer parses.
        """
        async with session_scope(self.sessionmaker) as session:
            row = await session.get(CheckpointRow, job_id)
            return None if row is None else Checkpoint.model_validate(row.checkpoint)

    async def save_checkpoint(self, job_id: str, checkpoint: Checkpoint) -> None:
        """Replace the job's checkpoint. Raises NotFound for an unknown job."""
        data = checkpoint.model_dump(mode="json")
        now = utcnow()
        async with session_scope(self.sessionmaker) as session:
            stmt = upsert_insert(session, CheckpointRow).values(
                job_id=job_id, checkpoint=data, updated_at=now
            )
            try:
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["job_id"],
                        set_={"checkpoint": stmt.excluded.checkpoint, "updated_at": now},
                    )
                )
            except IntegrityError as err:
                raise NotFound(f"job {job_id} not found") from err

    async def delete_checkpoint(self, job_id: str) -> None:
        """Forget the job's checkpoint (nothing happens when it has none)."""
        async with session_scope(self.sessionmaker) as session:
            row = await session.get(CheckpointRow, job_id)
            if row is not None:
                await session.delete(row)
