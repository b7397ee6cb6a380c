"""FastAPI dependencies, each named once as an `Annotated` alias.

Everything a request needs hangs off `app.state.services`, built by the app factory's
lifespan — never module-level globals — so each test app has its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

import structlog
from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from atelier.api.audit import SignInFailures, record_failed_sign_in
from atelier.api.job_views import JobViewCache
from atelier.api.jobs_service import JobIntake
from atelier.api.principals import PrincipalCache
from atelier.api.quotas import QuotaGate
from atelier.api.ratelimit import RequestRateLimiter
from atelier.auth import Principal, authenticate_api_key, authenticate_bearer, require_admin
from atelier.auth.keys import looks_like_api_key
from atelier.domain.errors import Unauthorized
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import EventBus
from atelier.runtime.disk_guard import DiskGuard
from atelier.runtime.queue import JobRunner
from atelier.runtime.revocations import RevocationFeed
from atelier.settings import Settings
from atelier.store import AsyncEngine, AsyncSession, SessionMaker, session_scope


@dataclass
class Services:
    """The long-lived collaborators of one app instance."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: SessionMaker
    bus: EventBus
    runner: JobRunner
    metrics: Metrics
    limiter: RequestRateLimiter
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    job_views: JobViewCache = field(default_factory=JobViewCache)
    job_intake: JobIntake = field(default_factory=JobIntake)
    # Bad API keys on requests: at most one audit entry per client IP per minute.
    sign_in_failures: SignInFailures = field(default_factory=SignInFailures)
    quotas: QuotaGate = field(default_factory=QuotaGate)
    # Several replicas (Redis): revocations reach every replica's principal cache.
    revocations: RevocationFeed | None = None
    # The disks new jobs would write to: a job is refused (507) while they are full.
    disk: DiskGuard | None = None

    async def credentials_changed(self) -> None:
        """A key was revoked or a user changed: forget cached principals here and, with
        Redis, on every other replica."""
        self.principals.clear()
        if self.revocations is not None:
            await self.revocations.announce()


async def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings_dep(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One session per request, committed at the edge when the handler succeeded.

    Handlers that enqueue work commit themselves first (work is enqueued only after
    the commit); this final commit keeps what reads recorded (an API key's last use).
    """
    async with session_scope(services.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_runner(services: ServicesDep) -> JobRunner:
    return services.runner


RunnerDep = Annotated[JobRunner, Depends(get_runner)]


def _bearer(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


async def authenticate(
    conn: HTTPConnection,
    sessionmaker: SessionMaker,
    settings: Settings,
    token: str | None = None,
    cache: PrincipalCache | None = None,
    failures: SignInFailures | None = None,
) -> Principal:
    """The caller of a request or WebSocket: X-API-Key, Bearer token, or `token`.

    A credential found in `cache` is not checked against the database again; a check
    runs in its own committed session (it records an API key's use). A bad API key is
    written to the audit log (at most once per client IP per window of `failures`).
    Raises Unauthorized when no credential is given or it is not valid.
    """
    api_key = conn.headers.get("x-api-key", "").strip()
    credential = api_key or _bearer(conn) or token
    if not credential:
        raise Unauthorized("missing credentials: send X-API-Key or Authorization: Bearer")

    async def load() -> Principal:
        async with session_scope(sessionmaker) as session:
            if api_key:
                return await authenticate_api_key(session, api_key)
            return await authenticate_bearer(session, credential, settings)

    try:
        principal = await (cache.resolve(credential, load) if cache is not None else load())
    except Unauthorized as exc:
        if failures is not None and (api_key or looks_like_api_key(credential)):
            await record_failed_sign_in(
                sessionmaker, conn, credential, str(exc.detail), via="request", limiter=failures
            )
        raise
    structlog.contextvars.bind_contextvars(user=principal.name, user_id=principal.user_id)
    return principal


async def get_current_user(request: Request) -> Principal:
    # Services straight from the app state: this dependency runs on every request and
    # each sub-dependency costs a resolution step.
    services: Services = request.app.state.services
    return await authenticate(
        request,
        services.sessionmaker,
        services.settings,
        cache=services.principals,
        failures=services.sign_in_failures,
    )


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> Principal:
    return require_admin(user)


AdminUser = Annotated[Principal, Depends(get_admin)]
