"""``atelier serve``: migrate, make sure an admin can log in, then run the API.

On the very first start (no users yet) an ``admin`` user and an API key are created
and the key is printed once — it is stored only hashed and cannot be shown again.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import typer
import uvicorn

from atelier.api.app import create_app
from atelier.api.http_protocol import header_deadline_protocol
from atelier.domain.errors import Conflict
from atelier.observability.heap import limit_malloc_arenas
from atelier.settings import Settings, get_settings
from atelier.store import (
    ApiKeyRepo,
    AuditRepo,
    UserRepo,
    create_engine,
    create_sessionmaker,
    migrate,
    session_scope,
)
from atelier.web import install_web

T = TypeVar("T")
# Young-generation collections every this many allocations (CPython: 700); a request
# allocates thousands of short-lived objects.
GC_GEN0_THRESHOLD = 10_000

BOOTSTRAP_ADMIN = "admin"


async def bootstrap(settings: Settings) -> str | None:
    """Migrate the database; on a database without users, create the first admin and
    return their new API key (None when users already exist)."""
    url = settings.effective_database_url
    await migrate(url)
    engine = create_engine(url, sqlite_pool_size=settings.sqlite_pool_size)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            users = UserRepo(session)
            if await users.list():
                return None
            try:
                admin = await users.create(BOOTSTRAP_ADMIN, "admin")
            except Conflict:
                return None  # another replica starting at the same time created it
            row, key = await ApiKeyRepo(session).create(admin.id, "bootstrap")
            audit = AuditRepo(session)
            await audit.record(
                "user.created",
                actor="cli",
                target_type="user",
                target_id=admin.id,
                target_label=admin.name,
                detail={"role": "admin", "via": "serve bootstrap"},
            )
            await audit.record(
                "key.created",
                actor="cli",
                target_type="key",
                target_id=row.id,
                target_label=f"{row.display_prefix} {row.name}",
                detail={"owner_id": admin.id, "via": "serve bootstrap"},
            )
            return key
    finally:
        await engine.dispose()


def settle_heap() -> None:
    """Called once the server is up. Everything loaded so far (modules, the app, ORM
    mappers) lives as long as the process: keep it out of the collector's scans, so
    a full collection walks only what requests allocate and stays short — those
    pauses are the latency tail."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


async def run_server(settings: Settings) -> None:
    """Serve the app with uvicorn until interrupted; print the address once listening."""
    app = create_app(settings)
    install_web(app)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # our structlog setup owns the root logger
        access_log=False,  # the request middleware logs every request itself
        ws_ping_interval=20.0,
        # Compressing every small JSON event once per subscriber costs more CPU than the
        # bytes it saves on the fan-out path.
        ws_per_message_deflate=False,
        lifespan="on",
        # Closes connections whose request headers trickle in (slowloris).
        http=header_deadline_protocol(settings.header_timeout_s),
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.05)
        host, port = settings.host, settings.port
        for listener in server.servers:
            for sock in listener.sockets:
                host, port = sock.getsockname()[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        typer.echo(f"Atelier listening on http://{shown}:{port}  (API docs: /docs)", err=False)
        settle_heap()

    watcher = asyncio.create_task(announce())
    try:
        await server.serve()
    finally:
        watcher.cancel()


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop to serve on: uvloop's (about a third less CPU per request here)
    when chosen or, for "auto", installed; None means asyncio's own."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError as exc:
        if choice == "uvloop":
            raise typer.BadParameter(
                "ATELIER_EVENT_LOOP=uvloop but uvloop is not installed"
            ) from exc
        return None
    return uvloop.new_event_loop


def run_on_loop(main: Coroutine[Any, Any, T], choice: str) -> T:
    """`asyncio.run(main)` on the chosen event loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (ATELIER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (ATELIER_PORT).")] = None,
) -> None:
    """Run the web service: migrations, first admin key, then the API on HOST:PORT."""
    # First, before any thread exists: without it the resident size creeps up under
    # steady load although nothing leaks (see observability.heap).
    limit_malloc_arenas()
    settings = get_settings()
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if overrides:
        settings = settings.model_copy(update=overrides)
    key = asyncio.run(bootstrap(settings))
    if key is not None:
        typer.echo("Created the first admin user 'admin'. Its API key (shown only once):")
        typer.echo(key)
    run_on_loop(run_server(settings), settings.event_loop)


serve_app = typer.Typer(help="Run the web service.")
serve_app.command()(serve)


if __name__ == "__main__":  # python -m atelier.cli.serve
    serve_app()
