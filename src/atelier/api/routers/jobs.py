"""Jobs of the calling user: create, read, list, cancel, revise, event log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from atelier.api.deps import CurrentUser, Services, ServicesDep, SessionDep
from atelier.api.job_views import JobView
from atelier.api.jobs_service import cancel_job, create_job, revise_job
from atelier.api.schemas import (
    MAX_INT,
    EventOut,
    EventsPage,
    JobAccepted,
    JobCreate,
    JobOut,
    Page,
    ReviseIn,
)
from atelier.api.views import job_links, job_out, job_summary, project_id
from atelier.auth import Principal
from atelier.domain.errors import NotFound
from atelier.domain.job import JobStatus
from atelier.store import EventLog, JobRepo, VersionRepo, session_scope

router = APIRouter(prefix="/api", tags=["jobs"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such job (or not yours)"}}


async def _submit(body: JobCreate, user: Principal, services: Services) -> JobAccepted:
    job_id = await create_job(services, user, body.to_spec())
    return JobAccepted(job_id=job_id, status="queued", links=job_links(job_id))


# No database session of the request: the job is written by the batched intake, and
# services come straight from the app state (one dependency fewer on a hot route).
_QUOTA: dict[int | str, dict[str, Any]] = {
    429: {"description": "rate limited, or your quota does not allow another job now"}
}


@router.post(
    "/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted, responses=_QUOTA
)
async def create(body: JobCreate, user: CurrentUser, request: Request) -> JobAccepted:
    """Queue a generation job."""
    return await _submit(body, user, request.app.state.services)


@router.post(
    "/generate", status_code=status.HTTP_202_ACCEPTED, response_model=JobAccepted, responses=_QUOTA
)
async def generate(body: JobCreate, user: CurrentUser, request: Request) -> JobAccepted:
    """Queue a generation job (same as POST /api/jobs)."""
    return await _submit(body, user, request.app.state.services)


@router.get("/jobs", response_model=Page)
async def list_jobs(
    user: CurrentUser,
    session: SessionDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page:
    """Your jobs, newest first; `q` searches prompts."""
    rows, total = await JobRepo(session).list(user.user_id, status_filter, limit, offset, q)
    return Page(items=[job_summary(r) for r in rows], total=total, limit=limit, offset=offset)


async def _job(job_id: str, user: Principal, services: Services) -> Response:
    async def load() -> JobView:
        async with session_scope(services.sessionmaker) as session:
            row = await JobRepo(session).get(job_id)
            return JobView.of(job_out(row, await VersionRepo(session).list(project_id(row))))

    # Polled by every watching client: served from the job-view cache when it can be,
    # as bytes encoded once (the documented shape is `JobOut`).
    view = await services.job_views.resolve(job_id, load)
    if not view.visible_to(user):
        raise NotFound(f"job {job_id} not found")
    return Response(view.body, media_type="application/json")


@router.get("/jobs/{job_id}", response_model=JobOut, responses=_NOT_FOUND)
async def get_job(job_id: str, user: CurrentUser, request: Request) -> Response:
    """Status, progress, per-step states, tests, usage, error and versions of a job."""
    # Services straight from the app state: the hottest route, one dependency fewer.
    return await _job(job_id, user, request.app.state.services)


@router.get("/status/{job_id}", response_model=JobOut, responses=_NOT_FOUND)
async def get_status(job_id: str, user: CurrentUser, request: Request) -> Response:
    """Same as GET /api/jobs/{job_id}."""
    return await _job(job_id, user, request.app.state.services)


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_NOT_FOUND, 409: {"description": "already finished"}},
)
async def cancel(
    job_id: str, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    """Stop a queued or running job."""
    row = await JobRepo(session).get_for_user(job_id, user)
    after = await cancel_job(services, session, row)
    return {"job_id": job_id, "status": after}


@router.post(
    "/jobs/{job_id}/revise",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses={
        **_NOT_FOUND,
        409: {"description": "no version to revise yet"},
        **_QUOTA,
    },
)
async def revise(
    job_id: str, body: ReviseIn, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> JobAccepted:
    """Run the pipeline on the project's latest files with new instructions; the result
    becomes version N+1 of the project. Returns the revision job to watch."""
    async with services.quotas.admit(services.sessionmaker, user.user_id):
        row, version = await revise_job(services, session, user, job_id, body.instructions)
    return JobAccepted(
        job_id=row.id,
        status="queued",
        links=job_links(row.id),
        parent_job_id=row.parent_job_id,
        version=version,
    )


@router.get("/jobs/{job_id}/events", response_model=EventsPage, responses=_NOT_FOUND)
async def events(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    since: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> EventsPage:
    """The job's event log after sequence number `since`."""
    await JobRepo(session).get_for_user(job_id, user)
    log = EventLog(session)
    found = await log.list(job_id, since, limit)
    items = [
        EventOut(job_id=e.job_id, seq=e.seq or 0, type=e.type, step=e.step, data=e.data, ts=e.ts)
        for e in found
    ]
    last = items[-1].seq if items else await log.last_seq(job_id)
    return EventsPage(job_id=job_id, events=items, last_seq=last)
