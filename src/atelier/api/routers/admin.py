"""Administration: every user's jobs, users, API keys (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from atelier.api.audit import audit, job_label
from atelier.api.deps import AdminUser, ServicesDep, SessionDep
from atelier.api.jobs_service import cancel_job, retry_job
from atelier.api.schemas import (
    MAX_INT,
    AuditEntryOut,
    AuditPage,
    JobAccepted,
    KeyCreate,
    KeyCreated,
    KeyOut,
    Page,
    QuotaIn,
    QuotaOut,
    UserCreate,
    UserCreated,
    UserOut,
    UserPatch,
)
from atelier.api.views import job_links, job_summary
from atelier.auth import Principal
from atelier.domain.errors import Conflict, InvalidSpec
from atelier.domain.job import TERMINAL_STATUSES, JobStatus
from atelier.domain.quota import Quota
from atelier.store import (
    ApiKeyRepo,
    ApiKeyRow,
    AsyncSession,
    AuditRepo,
    AuditRow,
    JobRepo,
    JobRow,
    QuotaRepo,
    UserRepo,
    UserRow,
)

router = APIRouter(prefix="/admin", tags=["admin"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not found"}}


def user_out(row: UserRow) -> UserOut:
    return UserOut(
        id=row.id, name=row.name, role=row.role, active=row.active, created_at=row.created_at
    )


def key_label(row: ApiKeyRow) -> str:
    """How the audit log names a key: its display prefix and name, never the key."""
    return f"{row.display_prefix} {row.name}".strip()


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


def _job_label(row: JobRow) -> str:
    """The audit label of a job: the start of its prompt (read raw: never fails)."""
    return job_label(str((row.spec or {}).get("prompt", "")))


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
    job_id: str, admin: AdminUser, session: SessionDep, services: ServicesDep, request: Request
) -> JobAccepted:
    """Run a finished job's spec again as a new job of the same owner."""
    source = await JobRepo(session).get(job_id)
    label = _job_label(source)
    row = await retry_job(services, session, job_id)
    await audit(
        session,
        "job.retried",
        admin,
        request,
        target_type="job",
        target_id=job_id,
        target_label=label,
        new_job_id=row.id,
        owner_id=row.user_id,
    )
    return JobAccepted(
        job_id=row.id, status="queued", links=job_links(row.id), parent_job_id=row.parent_job_id
    )


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**_NOT_FOUND, 409: {"description": "already finished"}},
)
async def cancel(
    job_id: str, admin: AdminUser, session: SessionDep, services: ServicesDep, request: Request
) -> dict[str, str]:
    """Stop anyone's queued or running job."""
    row = await JobRepo(session).get(job_id)
    label, owner = _job_label(row), row.user_id
    after = await cancel_job(services, session, row)
    await audit(
        session,
        "job.cancelled",
        admin,
        request,
        target_type="job",
        target_id=job_id,
        target_label=label,
        owner_id=owner,
    )
    return {"job_id": job_id, "status": after}


@router.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_job(
    job_id: str, admin: AdminUser, session: SessionDep, services: ServicesDep, request: Request
) -> Response:
    """Delete a job with its events, checkpoint, call record and versions (stops it first).

    The audit log keeps the job's id and the start of its prompt."""
    row = await JobRepo(session).get(job_id)
    label, owner = _job_label(row), row.user_id
    if row.status not in TERMINAL_STATUSES:
        await cancel_job(services, session, row)
    await JobRepo(session).delete(job_id)
    await audit(
        session,
        "job.deleted",
        admin,
        request,
        target_type="job",
        target_id=job_id,
        target_label=label,
        owner_id=owner,
    )
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
async def create_user(
    body: UserCreate, admin: AdminUser, session: SessionDep, request: Request
) -> UserCreated:
    """A new user with a first API key (shown only in this response)."""
    row = await UserRepo(session).create(body.name, body.role)
    key, plaintext = await ApiKeyRepo(session).create(row.id, "initial")
    await audit(
        session,
        "user.created",
        admin,
        request,
        target_type="user",
        target_id=row.id,
        target_label=row.name,
        role=row.role,
    )
    await audit(
        session,
        "key.created",
        admin,
        request,
        target_type="key",
        target_id=key.id,
        target_label=key_label(key),
        owner_id=row.id,
    )
    await session.commit()
    return UserCreated(**user_out(row).model_dump(), api_key=plaintext)


async def _guard_admin_change(
    session: AsyncSession, admin: Principal, target: UserRow, active: bool, role: str
) -> None:
    """Raise Conflict when the change would disable or demote the acting admin, or leave
    no active admin at all (nobody could administer the service any more)."""
    loses_admin = target.active and target.is_admin and (not active or role != "admin")
    if not loses_admin:
        return
    change = "disable" if not active else "demote"
    if target.id == admin.user_id:
        raise Conflict(f"an admin cannot {change} themselves; ask another admin")
    if await UserRepo(session).count_active_admins() <= 1:
        raise Conflict(f"cannot {change} {target.name!r}: it is the last active admin")


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    responses={
        **_NOT_FOUND,
        409: {"description": "would disable or demote yourself or the last active admin"},
    },
)
async def update_user(
    user_id: str,
    body: UserPatch,
    admin: AdminUser,
    session: SessionDep,
    services: ServicesDep,
    request: Request,
) -> UserOut:
    """Enable or disable a user (a disabled user's keys and tokens stop working) or change
    their role. An admin cannot disable or demote themselves, nor the last active admin
    (409)."""
    repo = UserRepo(session)
    row = await repo.get(user_id)
    active = row.active if body.active is None else body.active
    role = row.role if body.role is None else body.role
    if (active, role) == (row.active, row.role):
        return user_out(row)
    await _guard_admin_change(session, admin, row, active, role)
    if active != row.active:
        await repo.set_active(user_id, active)
        await audit(
            session,
            "user.enabled" if active else "user.disabled",
            admin,
            request,
            target_type="user",
            target_id=row.id,
            target_label=row.name,
        )
    if role != row.role:
        before = row.role
        await repo.set_role(user_id, role)
        await audit(
            session,
            "user.role_changed",
            admin,
            request,
            target_type="user",
            target_id=row.id,
            target_label=row.name,
            before=before,
            after=role,
        )
    await session.commit()
    await services.credentials_changed()
    return user_out(row)


def quota_out(user_id: str, quota: Quota) -> QuotaOut:
    return QuotaOut(
        user_id=user_id,
        daily_tokens=quota.daily_tokens,
        daily_cost_usd=quota.daily_cost_usd,
        max_concurrent_jobs=quota.max_concurrent_jobs,
    )


@router.get("/users/{user_id}/quota", response_model=QuotaOut, responses=_NOT_FOUND)
async def user_quota(user_id: str, _admin: AdminUser, session: SessionDep) -> QuotaOut:
    """The user's quota (nulls: unlimited, the default)."""
    await UserRepo(session).get(user_id)
    return quota_out(user_id, await QuotaRepo(session).get(user_id))


@router.put("/users/{user_id}/quota", response_model=QuotaOut, responses=_NOT_FOUND)
async def set_user_quota(
    user_id: str, body: QuotaIn, admin: AdminUser, session: SessionDep, request: Request
) -> QuotaOut:
    """Set the user's daily token and cost (USD) allowance and how many jobs they may
    run at once; null is unlimited. A job beyond it is refused with 429; a running job
    is stopped, with what it has, where the day's allowance ends."""
    user = await UserRepo(session).get(user_id)
    quota = Quota(body.daily_tokens, body.daily_cost_usd, body.max_concurrent_jobs)
    await QuotaRepo(session).set(user_id, quota)
    await audit(
        session,
        "user.quota_set",
        admin,
        request,
        target_type="user",
        target_id=user.id,
        target_label=user.name,
        **body.model_dump(),
    )
    await session.commit()
    return quota_out(user_id, quota)


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
    user_id: str, body: KeyCreate, admin: AdminUser, session: SessionDep, request: Request
) -> KeyCreated:
    """A new API key for the user; the key itself is shown only in this response."""
    row, plaintext = await ApiKeyRepo(session).create(user_id, body.name)
    await audit(
        session,
        "key.created",
        admin,
        request,
        target_type="key",
        target_id=row.id,
        target_label=key_label(row),
        owner_id=user_id,
    )
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
    key_id: str, admin: AdminUser, session: SessionDep, services: ServicesDep, request: Request
) -> KeyOut:
    """Revoke a key by id or prefix (idempotent; only the first revocation is audited)."""
    repo = ApiKeyRepo(session)
    already = (await repo.get(key_id)).revoked_at is not None
    row = await repo.revoke(key_id)
    if not already:
        await audit(
            session,
            "key.revoked",
            admin,
            request,
            target_type="key",
            target_id=row.id,
            target_label=key_label(row),
            owner_id=row.user_id,
        )
    await session.commit()
    await services.credentials_changed()
    return key_out(row)


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=_NOT_FOUND)
async def delete_key(
    key_id: str, admin: AdminUser, session: SessionDep, services: ServicesDep, request: Request
) -> KeyOut:
    """Same as POST /admin/keys/{key_id}/revoke."""
    return await revoke_key(key_id, admin, session, services, request)


# --- audit log ---------------------------------------------------------------------
def audit_out(row: AuditRow) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id,
        ts=row.ts,
        actor=row.actor,
        actor_id=row.actor_id,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        target_label=row.target_label,
        ip=row.ip,
        detail=row.detail or {},
    )


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    _admin: AdminUser,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=48)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> AuditPage:
    """Who did what and when, newest first (read-only: entries are never changed).

    `actor` is a user name, a user id, ``cli`` or ``anonymous`` (failed sign-ins);
    `action` an action (``key.revoked``) or a prefix ending in a dot (``user.``);
    `since` an ISO 8601 time (UTC when it carries no zone)."""
    if since is not None:
        try:
            since = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError as exc:  # year 1 with a positive offset, or the like
            raise InvalidSpec("since is out of range") from exc
    rows, total = await AuditRepo(session).list(
        actor=actor, action=action, since=since, limit=limit, offset=offset
    )
    return AuditPage(items=[audit_out(r) for r in rows], total=total, limit=limit, offset=offset)
