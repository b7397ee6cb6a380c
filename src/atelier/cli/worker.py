"""``atelier worker``: run jobs from the Celery queue (``ATELIER_RUNNER=celery``)."""

from __future__ import annotations

from typing import Annotated

import typer

from atelier.settings import get_settings


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Jobs run at once (default ATELIER_MAX_CONCURRENT_JOBS)."),
    ] = None,
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues to take jobs from (ATELIER_QUEUE).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="Celery's own log level.")] = "WARNING",
) -> None:
    """Run a worker: take jobs from the queue, run them, write results to the database.

    Needs ATELIER_BROKER_URL (or ATELIER_REDIS_URL) and the API's ATELIER_DATABASE_URL;
    with ATELIER_EVENT_BUS=redis live events reach every API replica. The worker never
    pulls models: a job whose model is missing here fails and says so.
    """
    from atelier.observability.heap import limit_malloc_arenas
    from atelier.observability.logging import configure_logging
    from atelier.runtime.worker import run_worker

    # As `serve`: first, before any thread exists (see observability.heap).
    limit_malloc_arenas()
    settings = get_settings()
    configure_logging(settings)
    chosen = [q.strip() for q in (queues or settings.queue).split(",") if q.strip()]
    run_worker(
        settings,
        concurrency=concurrency or settings.max_concurrent_jobs,
        queues=chosen or [settings.queue],
        loglevel=loglevel,
    )
