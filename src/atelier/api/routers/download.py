"""A version of a job's project as a streamed ZIP, with its Atelier report."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from atelier.api.deps import CurrentUser, SessionDep
from atelier.api.schemas import MAX_INT
from atelier.api.views import project_id
from atelier.pipeline.package import REPORT_JSON, REPORT_MD
from atelier.runtime.runner import REPORT_MD_KEY
from atelier.store import JobRepo, VersionRepo

router = APIRouter(prefix="/api", tags=["files"])


class _ChunkSink(io.RawIOBase):
    """A write-only, non-seekable stream that hands out what was written so far."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def iter_zip(files: Mapping[str, str], root: str) -> Iterator[bytes]:
    """The ZIP of `files` under folder `root`, produced file by file."""
    sink = _ChunkSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(f"{root}/{path}", content)
            chunk = sink.drain()
            if chunk:
                yield chunk
    yield sink.drain()


def _folder_name(report: Mapping[str, Any], job_id: str) -> str:
    plan = report.get("plan") or {}
    name = str(plan.get("name") or "") if isinstance(plan, dict) else ""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60]
    return slug or f"atelier-{job_id[:8]}"


def report_files(report: Mapping[str, Any]) -> dict[str, str]:
    """ATELIER_REPORT.json and ATELIER_REPORT.md of a version's stored report."""
    data = {k: v for k, v in report.items() if k != REPORT_MD_KEY}
    markdown = report.get(REPORT_MD_KEY)
    if not isinstance(markdown, str):
        markdown = f"# Atelier report\n\n```json\n{json.dumps(data, indent=2)}\n```\n"
    return {REPORT_JSON: json.dumps(data, indent=2) + "\n", REPORT_MD: markdown}


@router.get(
    "/download/{job_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}},
        404: {"description": "no such job or version (or not yours)"},
    },
)
async def download(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> StreamingResponse:
    """The project's files and report as a ZIP (latest version unless ?version=N)."""
    project = project_id(await JobRepo(session).get_for_user(job_id, user))
    repo = VersionRepo(session)
    row = await repo.get(project, version)
    files = await repo.contents(project, row.number)
    files.update(report_files(row.report or {}))
    folder = _folder_name(row.report or {}, project)
    filename = f"{folder}-v{row.number}.zip"
    return StreamingResponse(
        iter_zip(files, folder),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/jobs/{job_id}/report",
    responses={404: {"description": "no such job or version (or not yours)"}},
)
async def report(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
) -> dict[str, Any]:
    """A version's report (latest unless ?version=N): ``{"version", "markdown",
    "report"}`` — ATELIER_REPORT.md as text (the caller renders it; it is not HTML)
    and ATELIER_REPORT.json as data."""
    project = project_id(await JobRepo(session).get_for_user(job_id, user))
    row = await VersionRepo(session).get(project, version)
    files = report_files(row.report or {})
    return {
        "job_id": job_id,
        "version": row.number,
        "markdown": files[REPORT_MD],
        "report": json.loads(files[REPORT_JSON]),
    }
