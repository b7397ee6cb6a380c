"""Blobs are stored once per content; versions number N+1 and can be read and compared."""

from __future__ import annotations

import difflib
import hashlib

import pytest
from sqlalchemy import func, select

from atelier.domain.errors import InvalidPath, NotFound
from atelier.domain.spec import Spec
from atelier.store import BlobStore, JobRepo, SessionMaker, VersionRepo, session_scope
from atelier.store.models import BlobRow


async def _job(sessionmaker: SessionMaker, user_id: str, spec: Spec) -> str:
    async with session_scope(sessionmaker) as session:
        return (await JobRepo(session).create(user_id, spec)).id


async def _blob_count(sessionmaker: SessionMaker) -> int:
    async with session_scope(sessionmaker) as session:
        return int((await session.execute(select(func.count()).select_from(BlobRow))).scalar_one())


async def test_blob_put_is_idempotent_and_content_addressed(sessionmaker: SessionMaker) -> None:
    content = b"print('hello')\n"
    async with session_scope(sessionmaker) as session:
        blobs = BlobStore(session)
        sha = await blobs.put(content)
        assert await blobs.put(content) == sha
    async with session_scope(sessionmaker) as session:
        assert await BlobStore(session).put(content) == sha
        assert await BlobStore(session).get(sha) == content
        assert await BlobStore(session).exists(sha)
    assert sha == hashlib.sha256(content).hexdigest()
    assert await _blob_count(sessionmaker) == 1
    async with session_scope(sessionmaker) as session:
        with pytest.raises(NotFound):
            await BlobStore(session).get("0" * 64)


async def test_versions_number_up_and_share_unchanged_blobs(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    v1_files = {"app.py": "print('v1')\n", "README.md": "# App\n"}
    v2_files = {**v1_files, "app.py": "print('v2')\n", "test_app.py": "def test(): pass\n"}
    async with session_scope(sessionmaker) as session:
        versions = VersionRepo(session)
        assert await versions.latest_number(job_id) is None
        assert await versions.create(job_id, v1_files, {"passed": 1}) == 1
    async with session_scope(sessionmaker) as session:
        assert await VersionRepo(session).create(job_id, v2_files, {}, "add tests") == 2
    # README.md is shared: 2 + 2 new contents, not 5
    assert await _blob_count(sessionmaker) == 4

    async with session_scope(sessionmaker) as session:
        versions = VersionRepo(session)
        listed = await versions.list(job_id)
        assert [(v.number, v.file_count) for v in listed] == [(1, 2), (2, 3)]
        assert listed[1].instructions == "add tests" and listed[0].report == {"passed": 1}
        assert listed[0].total_bytes == sum(len(t.encode()) for t in v1_files.values())

        latest = await versions.files(job_id)
        assert list(latest) == ["README.md", "app.py", "test_app.py"]
        sha, size = latest["app.py"]
        assert sha == hashlib.sha256(b"print('v2')\n").hexdigest() and size == 12
        assert (await versions.files(job_id, 1))["README.md"] == latest["README.md"]

        assert await versions.read(job_id, 1, "app.py") == b"print('v1')\n"
        assert await versions.contents(job_id, 1) == dict(sorted(v1_files.items()))
        assert await versions.contents(job_id) == dict(sorted(v2_files.items()))

        changes = await versions.changes(job_id, 1, 2)
        assert changes.added == ["test_app.py"] and changes.removed == []
        assert changes.modified == ["app.py"] and changes.unchanged == ["README.md"]
        old, new = await versions.contents(job_id, 1), await versions.contents(job_id, 2)
        diff = list(difflib.unified_diff(old["app.py"].splitlines(), new["app.py"].splitlines()))
        assert "-print('v1')" in diff and "+print('v2')" in diff

        with pytest.raises(NotFound):
            await versions.read(job_id, 1, "test_app.py")
        with pytest.raises(NotFound):
            await versions.files(job_id, 3)
        with pytest.raises(NotFound):
            await versions.contents("no-such-job")


async def test_version_rejects_unsafe_paths_and_unknown_jobs(
    sessionmaker: SessionMaker, user_id: str, spec: Spec
) -> None:
    job_id = await _job(sessionmaker, user_id, spec)
    async with session_scope(sessionmaker) as session:
        with pytest.raises(InvalidPath):
            await VersionRepo(session).create(job_id, {"../etc/passwd.txt": "x"}, {})
    with pytest.raises(NotFound):
        async with session_scope(sessionmaker) as session:
            await VersionRepo(session).create("no-such-job", {"a.py": "x"}, {})
