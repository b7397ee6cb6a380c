"""Administration: every user's jobs, users, API keys (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from atelier.api.deps import AdminUser, ServicesDep, SessionDep
from atelier.api.jobs_service import cancel_job, retry_job
from atelier.api.schemas import (
    MAX_INT,
    JobAccepted,
    KeyCreate,
    KeyCreated,
    KeyOut,
    Page,
    UserCreate,
    UserCreated,
    UserOut,
    UserPatch,
)
from atelier.api.views import job_links, job_summary
from atelier.domain.job import TERMINAL_STATUSES, JobStatus
from atelier.store import ApiKeyRepo, ApiKeyRow, JobRepo, UserRepo, UserRow

router = APIRouter(prefix="/admin", tags=["admin"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not found"}}


def user_out(row: UserRow) -> UserOut:
    return UserOut(
        id=row.id, name=row.name, role=row.role, active=row.active, created_at=row.created_at
    )


def key_out(row: ApiKeyRow) -> KeyOut:
    return KeyOut(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.display_prefix,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


# --- jobs -------------------------------------------------------------------------
@router.get("/jobs", response_model=Page)
async def all_jobs(
    _admin: AdminUser,
    session: SessionDep,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Page:
    """Every user's jobs, newest first, filtered by owner, status and prompt text (`q`)."""
    rows, total = await JobRepo(session).list(user_id, status_filter, limit, offset, q)
    return Page(items=[job_summary(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post(
    "/jobs/{job_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    responses={**_NOT_FOUND, 409: {"description": "still queued or running"}},
)
async def retry(
    job_id: str, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> JobAccepted:
    """Run a finished job's spec again as a new job of the same owner."""
    row = await retry_job(services, session, job_id)
    return JobAccepted(
        job_id=row.id, status="queued", links=job_links(row.id), parent_job_id=row.parent_job_id
    )


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_NOT_FOUND, 409: {"description": "already finished"}},
)
async def cancel(
    job_id: str, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    """Stop anyone's queued or running job."""
    row = await JobRepo(session).get(job_id)
    return {"job_id": job_id, "status": await cancel_job(services, session, row)}


@router.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_job(
    job_id: str, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> Response:
    """Delete a job with its events, checkpoint, call record and versions (stops it first)."""
    row = await JobRepo(session).get(job_id)
    if row.status not in TERMINAL_STATUSES:
        await cancel_job(services, session, row)
    await JobRepo(session).delete(job_id)
    await session.commit()
    services.job_views.invalidate(job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users and keys ----------------------------------------------------------------
@router.get("/users", response_model=list[UserOut])
async def users(_admin: AdminUser, session: SessionDep) -> list[UserOut]:
    return [user_out(r) for r in await UserRepo(session).list()]


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "name taken"}},
)
async def create_user(body: UserCreate, _admin: AdminUser, session: SessionDep) -> UserCreated:
    """A new user with a first API key (shown only in this response)."""
    row = await UserRepo(session).create(body.name, body.role)
    _key, plaintext = await ApiKeyRepo(session).create(row.id, "initial")
    await session.commit()
    return UserCreated(**user_out(row).model_dump(), api_key=plaintext)


@router.patch("/users/{user_id}", response_model=UserOut, responses=_NOT_FOUND)
async def update_user(
    user_id: str, body: UserPatch, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> UserOut:
    """Enable or disable a user (a disabled user's keys and tokens stop working)."""
    row = await UserRepo(session).set_active(user_id, body.active)
    await session.commit()
    await services.credentials_changed()
    return user_out(row)


@router.get("/users/{user_id}/keys", response_model=list[KeyOut], responses=_NOT_FOUND)
async def user_keys(user_id: str, _admin: AdminUser, session: SessionDep) -> list[KeyOut]:
    await UserRepo(session).get(user_id)
    return [key_out(r) for r in await ApiKeyRepo(session).list(user_id)]


@router.post(
    "/users/{user_id}/keys",
    response_model=KeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
async def create_key(
    user_id: str, body: KeyCreate, _admin: AdminUser, session: SessionDep
) -> KeyCreated:
    """A new API key for the user; the key itself is shown only in this response."""
    row, plaintext = await ApiKeyRepo(session).create(user_id, body.name)
    await session.commit()
    return KeyCreated(**key_out(row).model_dump(), api_key=plaintext)


@router.get("/keys", response_model=list[KeyOut])
async def keys(
    _admin: AdminUser,
    session: SessionDep,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[KeyOut]:
    """Every API key (prefix only, never the key), optionally of one user."""
    return [key_out(r) for r in await ApiKeyRepo(session).list(user_id)]


@router.post("/keys/{key_id}/revoke", response_model=KeyOut, responses=_NOT_FOUND)
async def revoke_key(
    key_id: str, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> KeyOut:
    """Revoke a key by id or prefix (idempotent)."""
    row = await ApiKeyRepo(session).revoke(key_id)
    await session.commit()
    await services.credentials_changed()
    return key_out(row)


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=_NOT_FOUND)
async def delete_key(
    key_id: str, _admin: AdminUser, session: SessionDep, services: ServicesDep
) -> KeyOut:
    """Same as POST /admin/keys/{key_id}/revoke."""
    return await revoke_key(key_id, _admin, session, services)
