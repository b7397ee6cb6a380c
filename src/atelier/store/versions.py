"""Versions of a job's project: numbered file sets whose contents live in the blob store."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.domain.errors import NotFound
from atelier.domain.paths import validate_project_path
from atelier.store.blobs import BlobStore
from atelier.store.dialect import next_counter
from atelier.store.models import BlobRow, VersionFileRow, VersionRow

VERSION_COUNTER = "version"


@dataclass(frozen=True)
class VersionInfo:
    """A version as listed: its number, when and why it was made, and its size."""

    number: int
    created_at: datetime
    instructions: str | None
    report: dict[str, Any]
    file_count: int
    total_bytes: int


@dataclass(frozen=True)
class VersionChanges:
    """Which paths differ between two versions (by content hash)."""

    added: builtins.list[str]
    removed: builtins.list[str]
    modified: builtins.list[str]
    unchanged: builtins.list[str]


class VersionRepo:
    """Project versions. Methods flush; the caller commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.blobs = BlobStore(session)

    async def create(
        self,
        job_id: str,
        files: dict[str, str],
        report: dict[str, Any] | None = None,
        instructions: str | None = None,
    ) -> int:
        """Store `files` (path → text) as the job's next version and return its number.

        Numbers run 1, 2, 3 … per job, also under concurrent creates. Raises InvalidPath
        for an unsafe path and NotFound for an unknown job.
        """
        paths = {validate_project_path(path): text for path, text in files.items()}
        number = await next_counter(self.session, job_id, VERSION_COUNTER)
        version = VersionRow(
            job_id=job_id, number=number, instructions=instructions, report=report or {}
        )
        self.session.add(version)
        await self.session.flush()
        for path, text in sorted(paths.items()):
            sha = await self.blobs.put(text.encode("utf-8"))
            self.session.add(VersionFileRow(version_id=version.id, path=path, sha256=sha))
        await self.session.flush()
        return number

    async def list(self, job_id: str) -> builtins.list[VersionInfo]:
        """The job's versions, oldest first, with file counts and total sizes."""
        stmt = (
            select(
                VersionRow,
                func.count(VersionFileRow.path),
                func.coalesce(func.sum(BlobRow.size), 0),
            )
            .outerjoin(VersionFileRow, VersionFileRow.version_id == VersionRow.id)
            .outerjoin(BlobRow, BlobRow.sha256 == VersionFileRow.sha256)
            .where(VersionRow.job_id == job_id)
            .group_by(VersionRow.id)
            .order_by(VersionRow.number)
        )
        return [
            VersionInfo(
                number=row.number, created_at=row.created_at, instructions=row.instructions,
                report=row.report, file_count=int(count), total_bytes=int(size),
            )
            for row, count, size in (await self.session.execute(stmt)).all()
        ]

    async def get(self, job_id: str, number: int | None = None) -> VersionRow:
        """Version `number` of the job (the latest when None). Raises NotFound."""
        stmt = select(VersionRow).where(VersionRow.job_id == job_id)
        if number is None:
            stmt = stmt.order_by(VersionRow.number.desc()).limit(1)
        else:
            stmt = stmt.where(VersionRow.number == number)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            which = "any version" if number is None else f"version {number}"
            raise NotFound(f"job {job_id} has no {which}")
        return row

    async def latest_number(self, job_id: str) -> int | None:
        """The highest version number of the job, or None when it has none."""
        result = await self.session.execute(
            select(func.max(VersionRow.number)).where(VersionRow.job_id == job_id)
        )
        value = result.scalar_one()
        return None if value is None else int(value)

    async def files(
        self, job_id: str, number: int | None = None
    ) -> dict[str, tuple[str, int]]:
        """path → (sha256, size) of a version (the latest when None), sorted by path.

        Raises NotFound when the version does not exist.
        """
        version = await self.get(job_id, number)
        stmt = (
            select(VersionFileRow.path, VersionFileRow.sha256, BlobRow.size)
            .join(BlobRow, BlobRow.sha256 == VersionFileRow.sha256)
            .where(VersionFileRow.version_id == version.id)
            .order_by(VersionFileRow.path)
        )
        return {path: (sha, int(size)) for path, sha, size in (await self.session.execute(stmt))}

    async def read(self, job_id: str, number: int | None, path: str) -> bytes:
        """The content of one file of a version (the latest when None).

        Raises NotFound when the version or the path does not exist.
        """
        version = await self.get(job_id, number)
        stmt = (
            select(BlobRow.content)
            .join(VersionFileRow, VersionFileRow.sha256 == BlobRow.sha256)
            .where(VersionFileRow.version_id == version.id, VersionFileRow.path == path)
        )
        content = (await self.session.execute(stmt)).scalar_one_or_none()
        if content is None:
            raise NotFound(f"{path} is not in version {version.number} of job {job_id}")
        return content

    async def contents(self, job_id: str, number: int | None = None) -> dict[str, str]:
        """path → text of every file of a version (the latest when None), sorted by path.

        Bytes that are not UTF-8 are replaced. Raises NotFound when the version does not exist.
        """
        version = await self.get(job_id, number)
        stmt = (
            select(VersionFileRow.path, BlobRow.content)
            .join(BlobRow, BlobRow.sha256 == VersionFileRow.sha256)
            .where(VersionFileRow.version_id == version.id)
            .order_by(VersionFileRow.path)
        )
        return {
            path: content.decode("utf-8", errors="replace")
            for path, content in (await self.session.execute(stmt))
        }

    async def changes(self, job_id: str, old: int, new: int) -> VersionChanges:
        """Paths added, removed, modified and unchanged from version `old` to `new`.

        Raises NotFound when either version does not exist.
        """
        before = await self.files(job_id, old)
        after = await self.files(job_id, new)
        return VersionChanges(
            added=sorted(after.keys() - before.keys()),
            removed=sorted(before.keys() - after.keys()),
            modified=sorted(p for p in before.keys() & after.keys() if before[p] != after[p]),
            unchanged=sorted(p for p in before.keys() & after.keys() if before[p] == after[p]),
        )
