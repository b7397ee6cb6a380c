"""A job's project files: tree, content (raw or highlighted), versions, diffs."""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from atelier.api.deps import CurrentUser, SessionDep
from atelier.api.schemas import MAX_INT, DiffOut, FileEntry, FileTree, VersionOut
from atelier.api.views import project_id, version_out
from atelier.domain.errors import InvalidSpec
from atelier.domain.paths import validate_project_path
from atelier.store import AsyncSession, JobRepo, VersionRepo

router = APIRouter(prefix="/api", tags=["files"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such job, version or file (or not yours)"}
}
Version = Annotated[
    int | None, Query(ge=1, le=MAX_INT, description="version number; latest when absent")
]
# Generated content is untrusted: never let a browser run it from our origin.
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff"}
_HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


async def _project(job_id: str, user: CurrentUser, session: AsyncSession) -> str:
    return project_id(await JobRepo(session).get_for_user(job_id, user))


def build_tree(paths: list[str]) -> dict[str, Any]:
    """Nested folders: ``{"src": {"app.py": None}}`` — a file maps to None."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        *folders, name = path.split("/")
        for folder in folders:
            node = node.setdefault(folder, {})
        node[name] = None
    return tree


@router.get("/jobs/{job_id}/files", response_model=FileTree, responses=_NOT_FOUND)
async def file_tree(
    job_id: str, user: CurrentUser, session: SessionDep, version: Version = None
) -> FileTree:
    """Every file of a version with its SHA-256 and size, flat and as a tree."""
    project = await _project(job_id, user, session)
    repo = VersionRepo(session)
    number = (await repo.get(project, version)).number
    files = await repo.files(project, number)
    return FileTree(
        job_id=job_id,
        version=number,
        files=[FileEntry(path=p, sha256=sha, size=size) for p, (sha, size) in files.items()],
        tree=build_tree(list(files)),
    )


def highlighted_page(path: str, text: str) -> str:
    """A standalone HTML page of `text` highlighted by Pygments (content escaped)."""
    try:
        lexer = get_lexer_for_filename(path, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    formatter = HtmlFormatter(full=True, linenos="table", title=path, wrapcode=True)
    return highlight(text, lexer, formatter)


@router.get(
    "/jobs/{job_id}/files/{path:path}",
    responses={**_NOT_FOUND, 200: {"content": {"text/plain": {}, "text/html": {}}}},
    response_class=Response,
)
async def file_content(
    job_id: str,
    path: str,
    user: CurrentUser,
    session: SessionDep,
    version: Version = None,
    format: Annotated[Literal["raw", "html"], Query()] = "raw",
) -> Response:
    """One file of a version: raw text, or an HTML page highlighted by Pygments."""
    clean = validate_project_path(path)
    project = await _project(job_id, user, session)
    content = await VersionRepo(session).read(project, version, clean)
    text = content.decode("utf-8", errors="replace")
    if format == "html":
        return HTMLResponse(
            highlighted_page(clean, text),
            headers={**_SAFE_HEADERS, "Content-Security-Policy": _HTML_CSP},
        )
    return PlainTextResponse(text, headers=_SAFE_HEADERS)


@router.get("/jobs/{job_id}/versions", response_model=list[VersionOut], responses=_NOT_FOUND)
async def versions(job_id: str, user: CurrentUser, session: SessionDep) -> list[VersionOut]:
    """The project's versions, oldest first."""
    project = await _project(job_id, user, session)
    return [version_out(v, project) for v in await VersionRepo(session).list(project)]


@router.get(
    "/jobs/{job_id}/diff",
    response_model=DiffOut,
    responses={**_NOT_FOUND, 422: {"description": "bad version numbers"}},
)
async def diff(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=MAX_INT)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=MAX_INT)] = None,
    context: Annotated[int, Query(ge=0, le=100)] = 3,
) -> DiffOut:
    """Unified diff between two versions (default: the previous and the latest)."""
    project = await _project(job_id, user, session)
    repo = VersionRepo(session)
    to_number = (await repo.get(project, to_version)).number
    from_number = from_version if from_version is not None else to_number - 1
    if from_number < 1:
        raise InvalidSpec("there is no earlier version to compare with; pass ?from=N")
    before = await repo.contents(project, from_number)
    after = await repo.contents(project, to_number)
    chunks: list[str] = []
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
                n=context,
            )
        )
        if chunks and not chunks[-1].endswith("\n"):
            chunks[-1] += "\n\\ No newline at end of file\n"
    return DiffOut(
        job_id=job_id,
        from_version=from_number,
        to_version=to_number,
        diff="".join(chunks),
        changed=sorted(p for p in before.keys() & after.keys() if before[p] != after[p]),
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
    )
