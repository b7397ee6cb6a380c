"""The app factory: `create_app(settings)` wires routers, middleware and services.

Services (engine, bus, runner, rate limiter, metrics) are created in the lifespan and
kept on `app.state.services`; each app instance has its own, so tests can run many.
Run with ``uvicorn --factory atelier.api.app:create_app`` or ``atelier serve``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic import SecretStr

from atelier.api.compression import CompressionMiddleware
from atelier.api.deps import Services
from atelier.api.errors import install_error_handlers
from atelier.api.job_view_fast_path import JobViewFastPath
from atelier.api.middleware import RequestContextMiddleware
from atelier.api.ratelimit import RateLimitMiddleware, RequestRateLimiter
from atelier.api.request_limits import RequestLimitsMiddleware
from atelier.api.routers import (
    admin,
    auth,
    download,
    files,
    health,
    jobs,
    models,
    stats,
    templates,
    usage,
    ws,
)
from atelier.auth import jwt_secret
from atelier.catalog import builtin_templates
from atelier.observability.logging import configure_logging, get_logger
from atelier.observability.metrics import Metrics
from atelier.runtime.bus import EventBus, build_bus
from atelier.runtime.disk_guard import DiskGuard
from atelier.runtime.queue import JobRunner, QueueRunner
from atelier.runtime.revocations import RevocationFeed
from atelier.runtime.runner import InProcessRunner
from atelier.settings import Settings, get_settings
from atelier.store import (
    SessionMaker,
    TemplateRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)

log = get_logger("atelier.app")

RunnerFactory = Callable[[Settings, SessionMaker, EventBus, Metrics], JobRunner]

def _default_runner(
    settings: Settings, sessionmaker: SessionMaker, bus: EventBus, metrics: Metrics
) -> JobRunner:
    # Celery: this process only enqueues; `atelier worker` processes run the jobs.
    if settings.runner == "celery":
        return QueueRunner(settings, sessionmaker, bus, metrics)
    return InProcessRunner(settings, sessionmaker, bus, metrics)


async def seed_templates(sessionmaker: SessionMaker) -> None:
    """Insert or refresh the built-in catalog templates."""
    async with session_scope(sessionmaker) as session:
        await TemplateRepo(session).seed_builtin(
            [t.model_dump(exclude={"builtin"}) for t in builtin_templates()]
        )


def create_app(
    settings: Settings | None = None,
    *,
    migrate_on_start: bool = False,
    runner_factory: RunnerFactory = _default_runner,
    ws_heartbeat_s: float = 15.0,
) -> FastAPI:
    """A configured Atelier app. Nothing connects until the lifespan starts.

    `migrate_on_start` upgrades the database first (``atelier serve`` migrates itself
    before starting, so it passes False).
    """
    settings = settings or get_settings()
    configure_logging(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The signing secret is read (or created) once, not on every token check.
        live = settings.model_copy(update={"jwt_secret": SecretStr(jwt_secret(settings))})
        url = live.effective_database_url
        if migrate_on_start:
            await migrate(url)
        engine = create_engine(url, sqlite_pool_size=live.sqlite_pool_size)
        sessionmaker = create_sessionmaker(engine)
        bus = build_bus(live)
        await bus.start()
        runner = runner_factory(live, sessionmaker, bus, metrics)
        app.state.services = Services(
            settings=live,
            engine=engine,
            sessionmaker=sessionmaker,
            bus=bus,
            runner=runner,
            metrics=metrics,
            limiter=RequestRateLimiter(live, metrics),
            # The data dir only when jobs run in this process; the SQLite file's disk always.
            disk=DiskGuard.from_settings(live, data_dir=live.runner == "inprocess"),
        )
        runner.on_job_change.append(app.state.services.job_views.invalidate)
        revocations: RevocationFeed | None = None
        if live.event_bus == "redis":
            revocations = RevocationFeed(live.redis_url, app.state.services.principals.clear)
            await revocations.start()
            app.state.services.revocations = revocations
        try:
            await seed_templates(sessionmaker)
            resumed = await runner.start()
            log.info(
                "service_started",
                database=engine.url.render_as_string(hide_password=True),
                runner=settings.runner,
                bus=settings.event_bus,
                resumed_jobs=len(resumed),
            )
            yield
        finally:
            await runner.close()
            if revocations is not None:
                await revocations.close()
            await bus.close()
            await engine.dispose()

    app = FastAPI(
        title="Atelier",
        summary="Self-hosted multi-agent code generation: plan, code, test, fix, review, docs.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.ws_heartbeat_s = ws_heartbeat_s
    app.state.ws_event_texts = ws.EventTexts()
    app.state.ws_open = ws.OpenSockets()
    app.state.metrics = metrics
    install_error_handlers(app)

    # Routers carry their own prefix, so a route's path is its full template (the
    # latency histogram's label).
    # Routes are matched in order: the polled job routes first.
    for module in (
        jobs, health, auth, files, download, templates, stats, models, usage, admin, ws
    ):
        app.include_router(module.router)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Content-Disposition"],
            max_age=600,
        )
    # Added first, so innermost of the three: limits, ids, logs and metrics apply to it.
    # Innermost: the fast path (outside it) gzips its cached bodies itself, once each.
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(JobViewFastPath)
    # Inside the rate limit (a refused body still counts), before any body is parsed.
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app
