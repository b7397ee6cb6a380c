"""Content-addressed file storage: each distinct content is stored once, under its SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import NotFound
from atelier.store.dialect import upsert_insert
from atelier.store.models import BlobRow, VersionFileRow


def content_hash(content: bytes) -> str:
    """The hex SHA-256 of `content`."""
    return hashlib.sha256(content).hexdigest()


class BlobStore:
    """Blobs in the database. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, content: bytes) -> str:
        """Store `content` unless already there; return its SHA-256 (idempotent, race-safe)."""
        sha = content_hash(content)
        stmt = upsert_insert(self.session, BlobRow).values(
            sha256=sha, size=len(content), content=content
        )
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))
        return sha

    async def get(self, sha: str) -> bytes:
        """The content stored under `sha`. Raises NotFound."""
        row = await self.session.get(BlobRow, sha)
        if row is None:
            raise NotFound(f"blob {sha} not found")
        return row.content

    async def delete_unreferenced(self, shas: Iterable[str]) -> int:
        """Delete those of `shas` that no version file points at any more; returns how
        many went. Only the given hashes are considered, so a blob that another
        transaction is just starting to use is never swept by a general scan."""
        candidates = sorted(set(shas))
        if not candidates:
            return 0
        referenced = select(VersionFileRow.sha256).where(
            VersionFileRow.sha256 == BlobRow.sha256
        )
        result = await self.session.execute(
            delete(BlobRow)
            .where(BlobRow.sha256.in_(candidates), ~referenced.exists())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def exists(self, sha: str) -> bool:
        """True when content with this hash is stored."""
        return await self.session.get(BlobRow, sha) is not None
